"""The SecretResolver builds use: buildspec references resolved from stageline's own store.

``env.parameter-store`` values are parameter names (or ARNs, or ``name:version``);
``env.secrets-manager`` values are ``secret-id:json-key:version-stage:version-id``
as CodeBuild reads them. SecureString parameters come back decrypted, as
CodeBuild gives them to a build. Every failure raises with a message that names
the reference and the fix, and never a value.
"""

from __future__ import annotations

import json

from stageline.builds.secrets import SecretSource, parse_secret_reference
from stageline.secrets.manager import SecretsManager
from stageline.secrets.parameters import ParameterStore


class UnresolvedSecret(ValueError):
    """A reference whose secret exists but does not hold what the reference asks for."""


class StoreResolver:
    """Resolves buildspec secret references against stageline's store (a ``SecretResolver``)."""

    def __init__(self, parameters: ParameterStore, secrets: SecretsManager) -> None:
        self.parameters = parameters
        self.secrets = secrets

    def __call__(self, source: SecretSource, reference: str) -> str:
        if source == "parameter-store":
            _parameter, value = self.parameters.read(reference)
            assert value is not None
            return value
        if source == "secrets-manager":
            ref = parse_secret_reference(reference)
            _secret, _version, value = self.secrets.read(
                ref.secret_id, version_id=ref.version_id, stage=ref.version_stage
            )
            if ref.json_key is None:
                return value
            return json_member(ref.secret_id, value, ref.json_key)
        raise ValueError(
            f"unknown secret source {source!r}: expected parameter-store or secrets-manager"
        )


def json_member(secret_id: str, value: str, key: str) -> str:
    """The member ``key`` of a SecretString holding a JSON object; non-strings as JSON text."""
    try:
        document = json.loads(value)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise UnresolvedSecret(
            f"secret '{secret_id}' does not hold a JSON object, so its key '{key}' cannot be "
            "read; store a JSON object, or drop the json-key from the reference to use the "
            "whole value"
        )
    if key not in document:
        keys = ", ".join(sorted(document)) or "none"
        raise UnresolvedSecret(
            f"secret '{secret_id}' has no JSON key '{key}'; its keys are: {keys}"
        )
    member = document[key]
    return member if isinstance(member, str) else json.dumps(member)
