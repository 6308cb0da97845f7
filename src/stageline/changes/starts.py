"""Starting an execution for a source revision, recorded as that action's last seen."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from stageline.changes import store
from stageline.engine.operations import Operations
from stageline.engine.transitions import StateWriter


@dataclass(frozen=True, kw_only=True)
class Started:
    execution_id: str | None
    # False when the revision was already the action's last seen and nothing was started.
    new_revision: bool


def start_for_revision(
    operations: Operations,
    pipeline_name: str,
    *,
    action_name: str,
    revision: str,
    revision_type: str,
    trigger_type: str,
    trigger_detail: str | None,
    only_if_new: bool = False,
) -> Started:
    """Start ``pipeline_name`` with ``revision`` pinned for ``action_name``.

    The revision becomes the action's last seen in the same transaction, so polling never
    starts a second execution for it. With ``only_if_new`` (polling, PutActionRevision)
    nothing starts when it already was the last seen: two server replicas polling at once,
    or a poll racing a push, start one execution between them (the pipeline row is locked).
    """
    pinned = {"actionName": action_name, "revisionType": revision_type, "revisionValue": revision}
    with operations.engine.transaction(pipeline_name) as (conn, writer):
        seen = store.last_revision(conn, pipeline_name, action_name)
        if only_if_new and seen == revision:
            return Started(execution_id=None, new_revision=False)
        execution_id = _record_and_start(
            operations, conn, writer, pipeline_name, trigger_type, trigger_detail, [pinned]
        )
    return Started(execution_id=execution_id, new_revision=seen != revision)


def start_recorded(
    operations: Operations,
    pipeline_name: str,
    *,
    trigger_type: str,
    trigger_detail: str | None = None,
    source_revisions: list[dict[str, str]] | None = None,
) -> str:
    """``Operations.start`` for changes seen by a push or webhook: each pinned revision also
    becomes its action's last seen, so the poller does not start the same commit again."""
    with operations.engine.transaction(pipeline_name) as (conn, writer):
        return _record_and_start(
            operations,
            conn,
            writer,
            pipeline_name,
            trigger_type,
            trigger_detail,
            source_revisions or [],
        )


def _record_and_start(
    operations: Operations,
    conn: Connection,
    writer: StateWriter,
    pipeline_name: str,
    trigger_type: str,
    trigger_detail: str | None,
    source_revisions: list[dict[str, str]],
) -> str:
    for pinned in source_revisions:
        store.record(conn, pipeline_name, pinned["actionName"], pinned["revisionValue"], writer.now)
    return operations.start_in(
        conn,
        writer,
        pipeline_name,
        trigger_type=trigger_type,
        trigger_detail=trigger_detail,
        source_revisions=source_revisions or None,
    )
