"""The key: a private file made on first use, or the environment; refused when it cannot be trusted."""

from __future__ import annotations

import logging
import stat
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from stageline.secrets import KeyRing, SecretKeyError, SecretStore
from stageline.secrets.errors import DecryptionFailure
from stageline.secrets.model import ParameterType
from stageline.services.context import ServiceContext


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_key_file_is_made_on_first_use_readable_by_its_owner_only(data_dir: Path) -> None:
    keys = KeyRing.configured(data_dir, {})
    keys.check()  # nothing to check yet: no file is made just by starting
    assert not (data_dir / "secret.key").exists()
    token = keys.encrypt("hunter2")
    assert mode_of(data_dir / "secret.key") == 0o600
    assert "hunter2" not in token
    assert KeyRing.configured(data_dir, {}).decrypt(token, what="x") == "hunter2"


def test_a_key_file_group_or_others_can_read_is_refused(
    ctx: ServiceContext, data_dir: Path
) -> None:
    KeyRing.configured(data_dir, {}).encrypt("v")
    key_file = data_dir / "secret.key"
    key_file.chmod(0o644)
    with pytest.raises(SecretKeyError) as info:
        SecretStore.open(ctx, data_dir, environ={})
    assert str(key_file) in str(info.value)
    assert "group or others" in str(info.value) and f"chmod 600 {key_file}" in str(info.value)
    key_file.chmod(0o600)
    SecretStore.open(ctx, data_dir, environ={})


def test_the_environment_key_wins_and_no_file_is_written(data_dir: Path) -> None:
    key = Fernet.generate_key().decode()
    keys = KeyRing.configured(data_dir, {"STAGELINE_SECRET_KEY": key})
    token = keys.encrypt("v")
    assert not (data_dir / "secret.key").exists()
    assert Fernet(key.encode()).decrypt(token.encode()) == b"v"


def test_a_malformed_environment_key_is_refused_with_how_to_make_one(data_dir: Path) -> None:
    keys = KeyRing.configured(data_dir, {"STAGELINE_SECRET_KEY": "not-a-key"})
    with pytest.raises(SecretKeyError) as info:
        keys.check()
    assert "$STAGELINE_SECRET_KEY" in str(info.value)
    assert "Fernet.generate_key()" in str(info.value)


def test_several_keys_rotate_the_first_encrypts_all_decrypt(data_dir: Path) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    stored = KeyRing.configured(data_dir, {"STAGELINE_SECRET_KEY": old}).encrypt("v")
    rotated = KeyRing.configured(data_dir, {"STAGELINE_SECRET_KEY": f"{new},{old}"})
    assert rotated.decrypt(stored, what="x") == "v"
    assert Fernet(new.encode()).decrypt(rotated.encrypt("w").encode()) == b"w"


def test_a_wrong_key_is_a_clear_error_at_start_and_at_use(
    ctx: ServiceContext, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = {"STAGELINE_SECRET_KEY": Fernet.generate_key().decode()}
    SecretStore.open(ctx, data_dir, environ=first).secrets.create("db", value="hunter2")
    other = {"STAGELINE_SECRET_KEY": Fernet.generate_key().decode()}
    with caplog.at_level(logging.ERROR, logger="stageline.secrets"):
        store = SecretStore.open(ctx, data_dir, environ=other)
    assert "encrypted with a different key" in caplog.text
    with pytest.raises(DecryptionFailure) as info:
        store.resolver("secrets-manager", "db")
    message = str(info.value)
    assert "cannot decrypt secret 'db'" in message and "$STAGELINE_SECRET_KEY" in message
    assert "hunter2" not in message and "hunter2" not in caplog.text


def test_a_lost_key_file_is_reported_not_silently_replaced(
    ctx: ServiceContext, data_dir: Path
) -> None:
    SecretStore.open(ctx, data_dir, environ={}).parameters.put(
        "token", "v", type=ParameterType.STRING
    )
    (data_dir / "secret.key").unlink()
    store = SecretStore.open(ctx, data_dir, environ={})
    with pytest.raises(DecryptionFailure) as info:
        store.secrets.create("another", value="w")
    assert "key file" in str(info.value) and "is missing" in str(info.value)
    assert not (data_dir / "secret.key").exists()


def test_processes_creating_the_key_at_once_end_up_with_one(data_dir: Path) -> None:
    tokens: list[str] = []
    rings = [KeyRing.configured(data_dir, {}) for _ in range(8)]
    threads = [threading.Thread(target=lambda r=r: tokens.append(r.encrypt("v"))) for r in rings]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reader = KeyRing.configured(data_dir, {})
    assert [reader.decrypt(t, what="x") for t in tokens] == ["v"] * 8
    assert [p.name for p in data_dir.iterdir()] == ["secret.key"]
