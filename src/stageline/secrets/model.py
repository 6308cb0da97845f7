"""What a parameter and a secret are inside stageline: metadata only, never a value.

Frozen dataclasses (STYLE.md §4); the SSM and Secrets Manager wire shapes are
built from them at the API edge. Values exist in plaintext only on their way
into the store and on their way from the resolver into a build.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

AWSCURRENT = "AWSCURRENT"
AWSPREVIOUS = "AWSPREVIOUS"


class ParameterType(StrEnum):
    STRING = "String"
    STRING_LIST = "StringList"
    SECURE_STRING = "SecureString"


@dataclass(frozen=True, kw_only=True)
class Parameter:
    """An SSM parameter at one version (the current one unless a selector asked for another)."""

    name: str
    arn: str
    type: ParameterType
    version: int
    description: str | None
    key_id: str | None
    allowed_pattern: str | None
    tier: str
    data_type: str
    modified_ms: int
    # "name:version" as asked, when a selector picked this version.
    selector: str | None = None

    @property
    def secure(self) -> bool:
        return self.type is ParameterType.SECURE_STRING


@dataclass(frozen=True, kw_only=True)
class SecretVersion:
    version_id: str
    stages: tuple[str, ...]
    created_ms: int


@dataclass(frozen=True, kw_only=True)
class Secret:
    """A Secrets Manager secret with its versions, newest first."""

    name: str
    arn: str
    description: str | None
    tags: tuple[tuple[str, str], ...]
    created_ms: int
    changed_ms: int
    # When DeleteSecret was called, and when the recovery window ends; None unless scheduled.
    deleted_ms: int | None
    purge_ms: int | None
    versions: tuple[SecretVersion, ...]

    @property
    def scheduled_for_deletion(self) -> bool:
        return self.deleted_ms is not None

    def version_with_stage(self, stage: str) -> SecretVersion | None:
        return next((v for v in self.versions if stage in v.stages), None)

    def version(self, version_id: str) -> SecretVersion | None:
        return next((v for v in self.versions if v.version_id == version_id), None)

    @property
    def current(self) -> SecretVersion | None:
        return self.version_with_stage(AWSCURRENT)

    @property
    def versions_to_stages(self) -> dict[str, list[str]]:
        """Every version that carries a staging label, as DescribeSecret reports them."""
        return {v.version_id: list(v.stages) for v in self.versions if v.stages}
