"""The action types a pipeline may use: AWS's built-in ones plus this deployment's custom ones."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from sqlalchemy import Connection

from stageline.definitions.aws_action_types import AWS_ACTION_TYPES
from stageline.definitions.catalog import (
    ActionTypeKey,
    ActionTypeSpec,
    ArtifactBounds,
    ConfigProperty,
)
from stageline.store import action_types as store

CUSTOM_DEFAULT_TIMEOUT_MINUTES = 1440
CUSTOM_MAX_TIMEOUT_MINUTES = 1440


@cache
def builtin_types() -> dict[ActionTypeKey, ActionTypeSpec]:
    return {spec.key: spec for spec in AWS_ACTION_TYPES}


class Catalog:
    """Lookup of action types by key, for validation and ``ListActionTypes``."""

    def __init__(self, custom: Iterable[ActionTypeSpec] = ()) -> None:
        self._types = dict(builtin_types())
        for spec in custom:
            self._types[spec.key] = spec

    def get(self, key: ActionTypeKey) -> ActionTypeSpec | None:
        return self._types.get(key)

    def all_keys(self) -> Iterable[ActionTypeKey]:
        return self._types.keys()

    def __iter__(self) -> Iterator[ActionTypeSpec]:
        return iter(self._types.values())


def load(conn: Connection) -> Catalog:
    return Catalog(spec_from_custom(row.declaration) for row in store.list_all(conn))


def spec_from_custom(doc: dict[str, Any]) -> ActionTypeSpec:
    """An ActionTypeSpec from a stored custom type (AWS ActionType wire form)."""
    type_id = doc["id"]
    settings = doc.get("settings") or {}
    return ActionTypeSpec(
        category=type_id["category"],
        owner=type_id["owner"],
        provider=type_id["provider"],
        version=type_id["version"],
        description=doc.get("description", ""),
        properties=tuple(
            ConfigProperty(
                name=p["name"],
                required=p["required"],
                key=p["key"],
                secret=p["secret"],
                queryable=p.get("queryable", False),
                description=p.get("description", ""),
                type=p.get("type", "String"),
            )
            for p in doc.get("actionConfigurationProperties") or ()
        ),
        input_artifacts=ArtifactBounds(
            minimum=doc["inputArtifactDetails"]["minimumCount"],
            maximum=doc["inputArtifactDetails"]["maximumCount"],
        ),
        output_artifacts=ArtifactBounds(
            minimum=doc["outputArtifactDetails"]["minimumCount"],
            maximum=doc["outputArtifactDetails"]["maximumCount"],
        ),
        default_timeout_minutes=CUSTOM_DEFAULT_TIMEOUT_MINUTES,
        max_timeout_minutes=CUSTOM_MAX_TIMEOUT_MINUTES,
        entity_url_template=settings.get("entityUrlTemplate"),
        execution_url_template=settings.get("executionUrlTemplate"),
        revision_url_template=settings.get("revisionUrlTemplate"),
        third_party_configuration_url=settings.get("thirdPartyConfigurationUrl"),
    )
