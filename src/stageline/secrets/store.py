"""stageline's secret store: SSM parameters and Secrets Manager secrets, encrypted at rest."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from stageline.secrets import storage
from stageline.secrets.errors import DecryptionFailure
from stageline.secrets.keys import KeyRing
from stageline.secrets.manager import SecretsManager
from stageline.secrets.parameters import ParameterStore
from stageline.secrets.resolver import StoreResolver
from stageline.services.context import ServiceContext
from stageline.store.db import Database

log = logging.getLogger("stageline.secrets")


def _holds_values(db: Database) -> bool:
    with db.read() as conn:
        return storage.some_ciphertext(conn) is not None


class SecretStore:
    """Parameters, secrets and the resolver builds read them through, over one key.

    The API edge (api/secrets.py) reaches values only to store them; the
    resolver is the one way a value comes back out, and it goes into a build.
    """

    def __init__(self, ctx: ServiceContext, keys: KeyRing) -> None:
        self.ctx = ctx
        self.keys = keys
        self.parameters = ParameterStore(ctx, keys)
        self.secrets = SecretsManager(ctx, keys)
        self.resolver = StoreResolver(self.parameters, self.secrets)

    @classmethod
    def open(
        cls, ctx: ServiceContext, data_dir: Path, environ: Mapping[str, str] | None = None
    ) -> SecretStore:
        """The store with the configured key (SecretKeyError if it cannot be used)."""
        keys = KeyRing.configured(
            data_dir, environ, may_create_key=lambda: not _holds_values(ctx.db)
        )
        keys.check()
        store = cls(ctx, keys)
        store.check_key()
        return store

    def check_key(self) -> bool:
        """Whether the key decrypts what is stored; logs the reason and the fix when not.

        A wrong key does not stop the server (pipelines without secrets still
        run); each build that needs a secret fails with the same explanation.
        """
        with self.ctx.db.read() as conn:
            token = storage.some_ciphertext(conn)
        if token is None:
            return True
        try:
            self.keys.decrypt(token, what="the stored secrets")
        except DecryptionFailure as exc:
            log.error("%s", exc.message)
            return False
        return True
