"""Secrets for builds: SSM Parameter Store and Secrets Manager's models, encrypted at rest.

Buildspecs read them through ``env.parameter-store`` and ``env.secrets-manager``
(``SecretStore.resolver``); the API stores and describes them but never
returns a secret value.
"""

from stageline.secrets.keys import KeyRing, SecretKeyError
from stageline.secrets.resolver import StoreResolver
from stageline.secrets.store import SecretStore

__all__ = ["KeyRing", "SecretKeyError", "SecretStore", "StoreResolver"]
