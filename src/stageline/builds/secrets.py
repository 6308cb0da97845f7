"""References to secrets in a buildspec, and the callback that resolves them.

``env.parameter-store`` maps a variable to a parameter name and
``env.secrets-manager`` to ``secret-id:json-key:version-stage:version-id``
(only the secret id is required; a version stage and a version id exclude
each other). The runner never reads a secret store itself: the caller passes
a :data:`SecretResolver`, so this package knows nothing of where secrets live,
and the values it gets back are masked in the build log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

SecretSource = Literal["parameter-store", "secrets-manager"]
#: ``resolver(source, reference) -> value``; raises (any exception) when it cannot.
SecretResolver = Callable[[SecretSource, str], str]

_ARN_PARTS = 7  # arn:aws:secretsmanager:<region>:<account>:secret:<name>


@dataclass(frozen=True, kw_only=True)
class SecretReference:
    """A parsed ``env.secrets-manager`` value."""

    secret_id: str
    json_key: str | None = None
    version_stage: str | None = None
    version_id: str | None = None


def parse_secret_reference(reference: str) -> SecretReference:
    """Split ``secret-id[:json-key[:version-stage[:version-id]]]``; an ARN id keeps its colons.

    Raises ValueError with the reason when the reference cannot be used.
    """
    parts = reference.split(":")
    if parts[0] == "arn":
        if len(parts) < _ARN_PARTS or parts[2] != "secretsmanager":
            raise ValueError(
                f"{reference!r} starts like an ARN but is not a Secrets Manager secret ARN "
                "(arn:aws:secretsmanager:<region>:<account>:secret:<name>)"
            )
        secret_id, rest = ":".join(parts[:_ARN_PARTS]), parts[_ARN_PARTS:]
    else:
        secret_id, rest = parts[0], parts[1:]
    if not secret_id:
        raise ValueError(f"{reference!r} has no secret id before the first ':'")
    if len(rest) > 3:
        raise ValueError(
            f"{reference!r} has too many ':' parts; the form is "
            "secret-id:json-key:version-stage:version-id"
        )
    json_key, version_stage, version_id = ([*rest, None, None, None])[:3]
    if version_stage and version_id:
        raise ValueError(
            f"{reference!r} gives both a version stage and a version id; give only one"
        )
    return SecretReference(
        secret_id=secret_id,
        json_key=json_key or None,
        version_stage=version_stage or None,
        version_id=version_id or None,
    )
