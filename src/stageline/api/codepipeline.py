"""CodePipeline operations: wire params in, service calls, wire responses out."""

from __future__ import annotations

from typing import Any

from stageline.api.protocol import ServiceEndpoint
from stageline.clock import ms_to_datetime
from stageline.definitions.catalog import ActionTypeKey
from stageline.services.action_types import ActionTypeService
from stageline.services.pipelines import PipelineService, PipelineView
from stageline.services.tags import TagService

TARGET_PREFIX = "CodePipeline_20150709"


def _tags_wire(items: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in items]


def build_endpoint(
    pipelines: PipelineService, tags: TagService, action_types: ActionTypeService
) -> ServiceEndpoint:
    endpoint = ServiceEndpoint(service_name="codepipeline", target_prefix=TARGET_PREFIX)
    h = endpoint.handlers

    def metadata(view: PipelineView) -> dict[str, Any]:
        return {
            "pipelineArn": view.arn,
            "created": ms_to_datetime(view.created_ms),
            "updated": ms_to_datetime(view.updated_ms),
        }

    def create_pipeline(p: dict[str, Any]) -> dict[str, Any]:
        tag_list = p.get("tags") or []
        view = pipelines.create(p["pipeline"], tag_list)
        return (
            {"pipeline": view.declaration, "tags": tag_list}
            if tag_list
            else {"pipeline": view.declaration}
        )

    def get_pipeline(p: dict[str, Any]) -> dict[str, Any]:
        view = pipelines.get(p["name"], p.get("version"))
        return {"pipeline": view.declaration, "metadata": metadata(view)}

    def update_pipeline(p: dict[str, Any]) -> dict[str, Any]:
        return {"pipeline": pipelines.update(p["pipeline"]).declaration}

    def delete_pipeline(p: dict[str, Any]) -> None:
        pipelines.delete(p["name"])

    def list_pipelines(p: dict[str, Any]) -> dict[str, Any]:
        rows, token = pipelines.list(next_token=p.get("nextToken"), max_results=p.get("maxResults"))
        out: dict[str, Any] = {
            "pipelines": [
                {
                    "name": r.name,
                    "version": r.version,
                    "pipelineType": r.pipeline_type,
                    "executionMode": r.execution_mode,
                    "created": ms_to_datetime(r.created_ms),
                    "updated": ms_to_datetime(r.updated_ms),
                }
                for r in rows
            ]
        }
        if token:
            out["nextToken"] = token
        return out

    def tag_resource(p: dict[str, Any]) -> dict[str, Any]:
        tags.tag(p["resourceArn"], p["tags"])
        return {}

    def untag_resource(p: dict[str, Any]) -> dict[str, Any]:
        tags.untag(p["resourceArn"], p["tagKeys"])
        return {}

    def list_tags_for_resource(p: dict[str, Any]) -> dict[str, Any]:
        items, token = tags.list(
            p["resourceArn"], next_token=p.get("nextToken"), max_results=p.get("maxResults")
        )
        out: dict[str, Any] = {"tags": _tags_wire(items)}
        if token:
            out["nextToken"] = token
        return out

    def list_action_types(p: dict[str, Any]) -> dict[str, Any]:
        types, token = action_types.list(
            owner=p.get("actionOwnerFilter"),
            next_token=p.get("nextToken"),
            region=p.get("regionFilter"),
        )
        out: dict[str, Any] = {"actionTypes": types}
        if token:
            out["nextToken"] = token
        return out

    def get_action_type(p: dict[str, Any]) -> dict[str, Any]:
        key = ActionTypeKey(
            category=p["category"], owner=p["owner"], provider=p["provider"], version=p["version"]
        )
        return {"actionType": action_types.get(key)}

    def create_custom_action_type(p: dict[str, Any]) -> dict[str, Any]:
        return action_types.create_custom(p)

    def delete_custom_action_type(p: dict[str, Any]) -> None:
        action_types.delete_custom(p["category"], p["provider"], p["version"])

    def update_action_type(p: dict[str, Any]) -> None:
        action_types.update(p["actionType"])

    h.update(
        CreatePipeline=create_pipeline,
        GetPipeline=get_pipeline,
        UpdatePipeline=update_pipeline,
        DeletePipeline=delete_pipeline,
        ListPipelines=list_pipelines,
        TagResource=tag_resource,
        UntagResource=untag_resource,
        ListTagsForResource=list_tags_for_resource,
        ListActionTypes=list_action_types,
        GetActionType=get_action_type,
        CreateCustomActionType=create_custom_action_type,
        DeleteCustomActionType=delete_custom_action_type,
        UpdateActionType=update_action_type,
    )
    return endpoint
