"""ListActionTypes, GetActionType, CreateCustomActionType, DeleteCustomActionType, UpdateActionType."""

from __future__ import annotations

from typing import Any

from stageline.definitions.catalog import ActionTypeKey, ActionTypeSpec
from stageline.errors import error
from stageline.services import catalog as catalog_service
from stageline.services import paging
from stageline.services.context import ServiceContext
from stageline.services.tags import check_new_tags
from stageline.store import action_types as store
from stageline.store import tags as tag_store

MAX_CUSTOM_ACTION_TYPES = 50
MAX_WIRE_PROPERTIES = 10
MAX_WIRE_ARTIFACTS = 5
MAX_WIRE_DESCRIPTION = 160


def action_type_wire(spec: ActionTypeSpec) -> dict[str, Any]:
    """The ActionType shape of ListActionTypes / CreateCustomActionType."""
    settings = {
        "thirdPartyConfigurationUrl": spec.third_party_configuration_url,
        "entityUrlTemplate": spec.entity_url_template,
        "executionUrlTemplate": spec.execution_url_template,
        "revisionUrlTemplate": spec.revision_url_template,
    }
    # The API carries at most 10 properties; required ones are the ones that matter most.
    props = sorted(spec.properties, key=lambda p: not p.required)[:MAX_WIRE_PROPERTIES]
    return {
        "id": _id(spec.key),
        "settings": {k: v for k, v in settings.items() if v},
        "actionConfigurationProperties": [
            {
                "name": p.name,
                "required": p.required,
                "key": p.key,
                "secret": p.secret,
                "queryable": p.queryable,
                **({"description": p.description[:MAX_WIRE_DESCRIPTION]} if p.description else {}),
                "type": p.type,
            }
            for p in props
        ],
        "inputArtifactDetails": _bounds(spec.input_artifacts.minimum, spec.input_artifacts.maximum),
        "outputArtifactDetails": _bounds(
            spec.output_artifacts.minimum, spec.output_artifacts.maximum
        ),
    }


def _bounds(low: int, high: int, cap: int = MAX_WIRE_ARTIFACTS) -> dict[str, int]:
    return {"minimumCount": min(low, cap), "maximumCount": min(high, cap)}


def _id(key: ActionTypeKey) -> dict[str, str]:
    return {
        "category": key.category,
        "owner": key.owner,
        "provider": key.provider,
        "version": key.version,
    }


def action_type_declaration(spec: ActionTypeSpec, account_id: str) -> dict[str, Any]:
    """The ActionTypeDeclaration shape of GetActionType."""
    urls = {
        "configurationUrl": spec.third_party_configuration_url,
        "entityUrlTemplate": spec.entity_url_template,
        "executionUrlTemplate": spec.execution_url_template,
        "revisionUrlTemplate": spec.revision_url_template,
    }
    return {
        **({"description": spec.description} if spec.description else {}),
        "executor": {
            "type": "JobWorker",
            "configuration": {"jobWorkerExecutorConfiguration": {"pollingAccounts": [account_id]}},
            "jobTimeout": min(max(spec.default_timeout_minutes * 60, 60), 43200),
        },
        "id": _id(spec.key),
        "inputArtifactDetails": _bounds(
            spec.input_artifacts.minimum, spec.input_artifacts.maximum, cap=10
        ),
        "outputArtifactDetails": _bounds(
            spec.output_artifacts.minimum, spec.output_artifacts.maximum, cap=10
        ),
        "permissions": {"allowedAccounts": [account_id]},
        "properties": [
            {
                "name": p.name,
                "optional": not p.required,
                "key": p.key,
                "noEcho": p.secret,
                "queryable": p.queryable,
                **({"description": p.description} if p.description else {}),
            }
            for p in spec.properties[:MAX_WIRE_PROPERTIES]
        ],
        "urls": {k: v for k, v in urls.items() if v},
    }


class ActionTypeService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def list(
        self, *, owner: str | None, next_token: str | None, region: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        paging.decode(
            "actiontypes", next_token
        )  # every answer fits one page; refuse others' tokens
        with self.ctx.db.read() as conn:
            catalog = catalog_service.load(conn)
        specs = [s for s in catalog if owner is None or s.owner == owner]
        specs.sort(key=lambda s: (s.owner != "AWS", s.category, s.provider, s.version))
        return [action_type_wire(s) for s in specs], None

    def get(self, key: ActionTypeKey) -> dict[str, Any]:
        with self.ctx.db.read() as conn:
            spec = catalog_service.load(conn).get(key)
        if spec is None:
            raise error(
                "ActionTypeNotFoundException",
                f"action type (category {key.category}, owner {key.owner}, provider "
                f"{key.provider}, version {key.version}) does not exist; ListActionTypes shows "
                "the available ones",
            )
        return action_type_declaration(spec, self.ctx.account_id)

    def create_custom(self, params: dict[str, Any]) -> dict[str, Any]:
        key = ActionTypeKey(
            category=params["category"],
            owner="Custom",
            provider=params["provider"],
            version=params["version"],
        )
        props = params.get("configurationProperties") or []
        _check_custom_properties(props)
        check_new_tags(params.get("tags") or [], existing=[])
        doc = {
            "id": _id(key),
            "settings": params.get("settings") or {},
            "actionConfigurationProperties": props,
            "inputArtifactDetails": params["inputArtifactDetails"],
            "outputArtifactDetails": params["outputArtifactDetails"],
        }
        now = self.ctx.clock.now_ms()
        arn = self.ctx.arns.action_type(key)
        with self.ctx.db.write() as conn:
            found = store.get(conn, key)
            if found is not None and not found.deleted:
                if found.declaration != doc:
                    raise error(
                        "ValidationException",
                        f"custom action type {key.category}/{key.provider}/{key.version} already "
                        "exists with a different definition; use a new version string",
                    )
            elif found is not None:
                if found.declaration != doc:
                    raise error(
                        "ValidationException",
                        f"custom action type {key.category}/{key.provider} version {key.version} "
                        "was deleted; a deleted version can only be restored with an identical "
                        "definition, so use a version string never used before",
                    )
                store.restore(conn, key, now)
            else:
                if len(store.list_all(conn)) >= MAX_CUSTOM_ACTION_TYPES:
                    raise error(
                        "LimitExceededException",
                        f"at most {MAX_CUSTOM_ACTION_TYPES} custom action types may exist; "
                        "delete one first",
                    )
                store.insert_type(conn, key, doc, now)
            tags = params.get("tags") or []
            tag_store.put_tags(conn, arn, [(t["key"], t.get("value", "")) for t in tags])
            all_tags = tag_store.list_tags(conn, arn)
        return {
            "actionType": action_type_wire(catalog_service.spec_from_custom(doc)),
            "tags": [{"key": k, "value": v} for k, v in all_tags],
        }

    def delete_custom(self, category: str, provider: str, version: str) -> None:
        key = ActionTypeKey(category=category, owner="Custom", provider=provider, version=version)
        with self.ctx.db.write() as conn:
            if not store.mark_deleted(conn, key, self.ctx.clock.now_ms()):
                raise error(
                    "ValidationException",
                    f"no custom action type {category}/{provider} version {version} exists",
                )
            tag_store.remove_all(conn, self.ctx.arns.action_type(key))

    def update(self, declaration: dict[str, Any]) -> None:
        type_id = declaration["id"]
        key = ActionTypeKey(**type_id)
        if key in catalog_service.builtin_types():
            raise error(
                "RequestFailedException",
                f"action type {key} is built in and cannot be updated",
            )
        with self.ctx.db.write() as conn:
            found = store.get(conn, key)
            if found is None or found.deleted:
                raise error(
                    "ActionTypeNotFoundException",
                    f"action type (category {key.category}, owner {key.owner}, provider "
                    f"{key.provider}, version {key.version}) does not exist",
                )
            urls = declaration.get("urls") or {}
            doc = {
                "id": _id(key),
                "settings": {
                    k: v
                    for k, v in {
                        "thirdPartyConfigurationUrl": urls.get("configurationUrl"),
                        "entityUrlTemplate": urls.get("entityUrlTemplate"),
                        "executionUrlTemplate": urls.get("executionUrlTemplate"),
                        "revisionUrlTemplate": urls.get("revisionUrlTemplate"),
                    }.items()
                    if v
                },
                "actionConfigurationProperties": [
                    {
                        "name": p["name"],
                        "required": not p["optional"],
                        "key": p["key"],
                        "secret": p["noEcho"],
                        "queryable": p.get("queryable", False),
                        **({"description": p["description"]} if p.get("description") else {}),
                    }
                    for p in declaration.get("properties") or []
                ],
                "inputArtifactDetails": declaration["inputArtifactDetails"],
                "outputArtifactDetails": declaration["outputArtifactDetails"],
                "description": declaration.get("description", ""),
            }
            store.replace(conn, key, doc, self.ctx.clock.now_ms())


def _check_custom_properties(props: list[dict[str, Any]]) -> None:
    """AWS's rules: unique names, at most one queryable property, which is required and not secret."""
    names = [p["name"] for p in props]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise error(
            "ValidationException",
            f"configuration property names must be unique; repeated: {', '.join(repeated)}",
        )
    queryable = [p for p in props if p.get("queryable")]
    if len(queryable) > 1:
        raise error(
            "ValidationException",
            "at most one configuration property may be queryable; "
            f"these are: {', '.join(p['name'] for p in queryable)}",
        )
    for p in queryable:
        if not p["required"] or p["secret"]:
            raise error(
                "ValidationException",
                f"queryable property '{p['name']}' must be required and not secret",
            )
