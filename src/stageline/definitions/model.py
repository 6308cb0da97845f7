"""Typed pipeline declarations, built from the wire form after it passed the shape check.

The wire form (camelCase JSON) is kept alongside in ``raw`` so that what a user
stored is what ``GetPipeline`` returns, member for member.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from stageline.definitions.catalog import ActionTypeKey


class PipelineType(StrEnum):
    V1 = "V1"
    V2 = "V2"


class ExecutionMode(StrEnum):
    QUEUED = "QUEUED"
    SUPERSEDED = "SUPERSEDED"
    PARALLEL = "PARALLEL"


@dataclass(frozen=True, kw_only=True)
class EnvironmentVariable:
    name: str
    value: str
    type: str = "PLAINTEXT"


@dataclass(frozen=True, kw_only=True)
class ActionDecl:
    name: str
    type: ActionTypeKey
    run_order: int
    configuration: Mapping[str, str]
    input_artifacts: tuple[str, ...]
    output_artifacts: tuple[str, ...]
    namespace: str | None = None
    region: str | None = None
    role_arn: str | None = None
    timeout_minutes: int | None = None
    commands: tuple[str, ...] = ()
    output_variables: tuple[str, ...] = ()
    environment_variables: tuple[EnvironmentVariable, ...] = ()

    @property
    def is_source(self) -> bool:
        return self.type.category == "Source"


@dataclass(frozen=True, kw_only=True)
class StageDecl:
    name: str
    actions: tuple[ActionDecl, ...]

    def run_order_groups(self) -> list[tuple[int, tuple[ActionDecl, ...]]]:
        """Actions grouped by ascending runOrder; one group runs in parallel."""
        orders = sorted({a.run_order for a in self.actions})
        return [(o, tuple(a for a in self.actions if a.run_order == o)) for o in orders]


@dataclass(frozen=True, kw_only=True)
class VariableDecl:
    name: str
    default_value: str | None = None
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class PipelineDecl:
    name: str
    role_arn: str
    stages: tuple[StageDecl, ...]
    version: int | None
    pipeline_type: PipelineType
    execution_mode: ExecutionMode
    variables: tuple[VariableDecl, ...]
    raw: Mapping[str, Any]

    @property
    def actions(self) -> list[tuple[StageDecl, ActionDecl]]:
        return [(stage, action) for stage in self.stages for action in stage.actions]

    def stage(self, name: str) -> StageDecl | None:
        return next((s for s in self.stages if s.name == name), None)


def action_from_wire(data: Mapping[str, Any]) -> ActionDecl:
    type_id = data["actionTypeId"]
    return ActionDecl(
        name=data["name"],
        type=ActionTypeKey(
            category=type_id["category"],
            owner=type_id["owner"],
            provider=type_id["provider"],
            version=type_id["version"],
        ),
        run_order=int(data.get("runOrder") or 1),
        configuration=dict(data.get("configuration") or {}),
        input_artifacts=tuple(a["name"] for a in data.get("inputArtifacts") or ()),
        output_artifacts=tuple(a["name"] for a in data.get("outputArtifacts") or ()),
        namespace=data.get("namespace"),
        region=data.get("region"),
        role_arn=data.get("roleArn"),
        timeout_minutes=data.get("timeoutInMinutes"),
        commands=tuple(data.get("commands") or ()),
        output_variables=tuple(data.get("outputVariables") or ()),
        environment_variables=tuple(
            EnvironmentVariable(name=e["name"], value=e["value"], type=e.get("type", "PLAINTEXT"))
            for e in data.get("environmentVariables") or ()
        ),
    )


def pipeline_from_wire(data: Mapping[str, Any]) -> PipelineDecl:
    """Build the typed declaration; ``data`` has already passed the botocore shape check."""
    return PipelineDecl(
        name=data["name"],
        role_arn=data["roleArn"],
        stages=tuple(
            StageDecl(
                name=stage["name"],
                actions=tuple(action_from_wire(a) for a in stage.get("actions") or ()),
            )
            for stage in data.get("stages") or ()
        ),
        version=data.get("version"),
        pipeline_type=PipelineType(data.get("pipelineType") or "V1"),
        execution_mode=ExecutionMode(data.get("executionMode") or "SUPERSEDED"),
        variables=tuple(
            VariableDecl(
                name=v["name"],
                default_value=v.get("defaultValue"),
                description=v.get("description"),
            )
            for v in data.get("variables") or ()
        ),
        raw=data,
    )
