"""The key that encrypts the secret store: from ``STAGELINE_SECRET_KEY`` or ``<data dir>/secret.key``.

Keys are Fernet keys (AES-128-CBC with HMAC-SHA256, 32 url-safe base64 bytes).
Several may be given, newest first (comma-separated in the environment, one a
line in the file): the first encrypts, all of them decrypt, so a key can be
rotated without losing what the old one encrypted. The key file is created on
first use with mode 0600; one that group or others can read is refused, since
it opens every stored secret.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from stageline.config import ConfigError
from stageline.secrets.errors import DecryptionFailure

KEY_ENV = "STAGELINE_SECRET_KEY"
KEY_FILE = "secret.key"
GENERATE_HINT = (
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)


class SecretKeyError(ConfigError):
    """A key that cannot be used, or a key file that is not private; the message has the fix."""


def _parse_keys(text: str, separator: str, where: str) -> list[Fernet]:
    keys = [part.strip() for part in text.split(separator) if part.strip()]
    if not keys:
        raise SecretKeyError(f"{where} holds no key; generate one with {GENERATE_HINT}")
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode("ascii")))
        except (ValueError, UnicodeEncodeError):
            raise SecretKeyError(
                f"key {position} in {where} is not a Fernet key (32 url-safe base64-encoded "
                f"bytes); generate one with {GENERATE_HINT}"
            ) from None
    return fernets


class KeyRing:
    """Encrypts and decrypts secret values with the configured key.

    ``may_create_key`` is asked before a new key file is written: the store
    answers no while it holds values an earlier (now missing) key encrypted,
    so a lost key file is reported instead of silently replaced.
    """

    def __init__(
        self,
        *,
        env_value: str | None = None,
        key_file: Path | None = None,
        may_create_key: Callable[[], bool] = lambda: True,
    ) -> None:
        if env_value is None and key_file is None:
            raise ValueError("a KeyRing needs an environment value or a key file")
        self.env_value = env_value
        self.key_file = key_file
        self.may_create_key = may_create_key
        self._fernet: MultiFernet | None = None
        self._lock = threading.Lock()

    @classmethod
    def configured(
        cls,
        data_dir: Path,
        environ: Mapping[str, str] | None = None,
        *,
        may_create_key: Callable[[], bool] = lambda: True,
    ) -> KeyRing:
        env = os.environ if environ is None else environ
        value = env.get(KEY_ENV) or None
        return cls(env_value=value, key_file=data_dir / KEY_FILE, may_create_key=may_create_key)

    @property
    def source(self) -> str:
        """Where the key comes from, for messages (never the key itself)."""
        return f"${KEY_ENV}" if self.env_value is not None else str(self.key_file)

    def has_key(self) -> bool:
        return self.env_value is not None or (self.key_file is not None and self.key_file.exists())

    def check(self) -> None:
        """Refuse a malformed key or a key file others can read; called when the server starts."""
        if self.env_value is not None:
            _parse_keys(self.env_value, ",", f"${KEY_ENV}")
        elif self.key_file is not None and self.key_file.exists():
            self._read_key_file(self.key_file)

    def encrypt(self, plaintext: str) -> str:
        return self._load(create=True).encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str, *, what: str) -> str:
        """The plaintext of ``token``; DecryptionFailure naming ``what`` if the key does not fit."""
        fernet = self._load(create=False)
        try:
            return fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise DecryptionFailure(
                f"cannot decrypt {what}: it was encrypted with a different key than the one in "
                f"{self.source}; restore the key it was stored with (see docs/secrets.md, "
                "'Keys and backups')"
            ) from None

    def _load(self, *, create: bool) -> MultiFernet:
        with self._lock:
            if self._fernet is None:
                self._fernet = MultiFernet(self._keys(create=create))
            return self._fernet

    def _keys(self, *, create: bool) -> list[Fernet]:
        if self.env_value is not None:
            return _parse_keys(self.env_value, ",", f"${KEY_ENV}")
        assert self.key_file is not None
        if not self.key_file.exists():
            if not create or not self.may_create_key():
                raise DecryptionFailure(
                    f"the secret store holds encrypted values but its key file {self.key_file} "
                    f"is missing; restore it from your backup (or set ${KEY_ENV}), or delete "
                    "the stored secrets and parameters to start over with a new key"
                )
            _create_key_file(self.key_file)
        return self._read_key_file(self.key_file)

    @staticmethod
    def _read_key_file(path: Path) -> list[Fernet]:
        if os.name == "posix":
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                raise SecretKeyError(
                    f"refusing to use {path}: its mode is {mode:04o}, so group or others can "
                    f"read it, and it decrypts every stored secret; run `chmod 600 {path}`"
                )
        return _parse_keys(path.read_text(encoding="ascii"), "\n", str(path))


def _create_key_file(path: Path) -> None:
    """Write a new key with mode 0600; if another process got there first, keep theirs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        # link() never replaces an existing file: of two processes creating the key, one wins.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
