"""PutActionRevision: tell a source action about a new revision, which starts the pipeline."""

from __future__ import annotations

from typing import Any

from stageline.changes import sources
from stageline.changes.starts import start_for_revision
from stageline.definitions.model import pipeline_from_wire
from stageline.engine.operations import Operations
from stageline.engine.status import TriggerType
from stageline.errors import error
from stageline.services.pipelines import not_found
from stageline.store import executions as execution_store
from stageline.store import pipelines as pipeline_store


def put_action_revision(
    operations: Operations,
    pipeline_name: str,
    stage_name: str,
    action_name: str,
    revision: dict[str, Any],
) -> dict[str, Any]:
    """As on AWS: a revision the action has not seen starts an execution with it pinned
    (trigger ``PutActionRevision``) and answers ``newRevision: true``; the revision it saw
    last starts nothing and answers false with the latest execution."""
    ctx = operations.ctx
    with ctx.db.read() as conn:
        found = pipeline_store.get_version(conn, pipeline_name)
        if found is None:
            raise not_found(ctx, pipeline_name)
        decl = pipeline_from_wire(found.declaration)
        stage = decl.stage(stage_name)
        if stage is None:
            raise error(
                "StageNotFoundException",
                f"pipeline '{pipeline_name}' has no stage '{stage_name}'; stages: "
                f"{', '.join(s.name for s in decl.stages)}",
            )
        action = next((a for a in stage.actions if a.name == action_name), None)
        if action is None:
            raise error(
                "ActionNotFoundException",
                f"stage '{stage_name}' has no action '{action_name}'; actions: "
                f"{', '.join(a.name for a in stage.actions)}",
            )
        if not action.is_source or stage is not decl.stages[0]:
            raise error(
                "ActionNotFoundException",
                f"action '{action_name}' is not a source action; PutActionRevision takes a "
                f"source action of the first stage ({decl.stages[0].name})",
            )
    result = start_for_revision(
        operations,
        pipeline_name,
        action_name=action_name,
        revision=revision["revisionId"],
        revision_type=sources.NATURAL_TYPE.get(action.type, sources.COMMIT_ID),
        trigger_type=TriggerType.PUT_ACTION_REVISION,
        trigger_detail=revision.get("revisionChangeId") or revision["revisionId"],
        only_if_new=True,
    )
    if result.execution_id is not None:
        return {"newRevision": True, "pipelineExecutionId": result.execution_id}
    with ctx.db.read() as conn:
        latest = execution_store.list_executions(conn, pipeline_name, before_seq=None, limit=1)
    return {
        "newRevision": False,
        **({"pipelineExecutionId": latest[0].id} if latest else {}),
    }
