"""The catalog of action types: what each (category, owner, provider, version) accepts.

AWS-owned types come from :mod:`stageline.definitions.aws_action_types`, a data
module transcribed from AWS's action structure reference. Custom action types
are stored per deployment and are turned into the same :class:`ActionTypeSpec`
so validation treats them alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Category(StrEnum):
    SOURCE = "Source"
    BUILD = "Build"
    DEPLOY = "Deploy"
    TEST = "Test"
    INVOKE = "Invoke"
    APPROVAL = "Approval"
    COMPUTE = "Compute"


class Owner(StrEnum):
    AWS = "AWS"
    THIRD_PARTY = "ThirdParty"
    CUSTOM = "Custom"


@dataclass(frozen=True, kw_only=True)
class ActionTypeKey:
    """The four parts that identify an action type, as in ``actionTypeId``."""

    category: str
    owner: str
    provider: str
    version: str

    def __str__(self) -> str:
        return f"{self.category}/{self.owner}/{self.provider}/{self.version}"


@dataclass(frozen=True, kw_only=True)
class ConfigProperty:
    """One configuration key an action type accepts (AWS's ActionConfigurationProperty)."""

    name: str
    required: bool = False
    key: bool = False
    secret: bool = False
    queryable: bool = False
    description: str = ""
    type: str = "String"  # String | Number | Boolean


@dataclass(frozen=True, kw_only=True)
class ArtifactBounds:
    minimum: int
    maximum: int


@dataclass(frozen=True, kw_only=True)
class ActionTypeSpec:
    """Everything validation and ``ListActionTypes`` need to know about one action type.

    ``open_configuration`` marks types whose configuration keys are not a closed
    set on AWS either (none today; kept for providers added by plugins).
    """

    category: str
    owner: str
    provider: str
    version: str = "1"
    description: str = ""
    properties: tuple[ConfigProperty, ...] = ()
    input_artifacts: ArtifactBounds = field(
        default_factory=lambda: ArtifactBounds(minimum=0, maximum=0)
    )
    output_artifacts: ArtifactBounds = field(
        default_factory=lambda: ArtifactBounds(minimum=0, maximum=0)
    )
    default_timeout_minutes: int = 60
    max_timeout_minutes: int = 1440
    entity_url_template: str | None = None
    execution_url_template: str | None = None
    revision_url_template: str | None = None
    third_party_configuration_url: str | None = None
    open_configuration: bool = False
    # Members of ActionDeclaration beyond `configuration` that this type uses
    # (the Commands action takes `commands`, `outputVariables`, `environmentVariables`).
    declaration_fields: tuple[str, ...] = ()
    # When the worker holding a job stops renewing its lease: hand the job to another worker
    # (True), or fail the action at once (False) for work that must not run twice.
    requeue_on_lost_worker: bool = True

    @property
    def key(self) -> ActionTypeKey:
        return ActionTypeKey(
            category=self.category, owner=self.owner, provider=self.provider, version=self.version
        )

    def config_property(self, name: str) -> ConfigProperty | None:
        for prop in self.properties:
            if prop.name == name:
                return prop
        return None

    @property
    def required_properties(self) -> tuple[ConfigProperty, ...]:
        return tuple(p for p in self.properties if p.required)

    @property
    def secret_names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.properties if p.secret)
