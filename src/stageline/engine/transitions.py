"""The one place where execution, stage and action statuses change.

Every change writes the new status, appends a history row and writes the
EventBridge event it emits to the outbox, inside the caller's transaction
(DESIGN.md §2.2): a crash leaves either all three or none.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import Connection

from stageline.engine import events
from stageline.engine.status import EVENT_STATE
from stageline.services.context import ServiceContext
from stageline.store import executions as store
from stageline.store.executions import ActionRow, ExecutionRow, StageRow

TERMINAL_EXECUTION = ("Succeeded", "Failed", "Stopped", "Superseded", "Cancelled")
_ACTION_DEFAULTS: dict[str, Any] = {
    name: None
    for name in (
        "summary",
        "external_execution_id",
        "external_execution_url",
        "percent_complete",
        "error_code",
        "error_message",
        "token",
        "updated_by",
        "due_ms",
    )
}


class AppendBatch:
    """Collects inserts (``execute(statement, params)``) to send as one executemany each."""

    def __init__(self) -> None:
        self.rows: dict[Any, list[dict[str, Any]]] = {}

    def execute(self, statement: Any, params: dict[str, Any]) -> None:
        self.rows.setdefault(statement, []).append(params)

    def flush(self, conn: Connection) -> None:
        for statement, rows in self.rows.items():
            if rows:
                conn.execute(statement, rows)
        self.rows.clear()


class StateWriter:
    """Status changes for one transaction, stamped with one 'now'."""

    def __init__(self, conn: Connection, ctx: ServiceContext, now_ms: int) -> None:
        self.conn = conn
        self.ctx = ctx
        self.now = now_ms
        # History rows and events are appended, not written one by one: ``flush`` sends them
        # in one batch per table before the transaction commits.
        self.appends = AppendBatch()
        # Set by operations that queue a job outside the engine's stepping (continuations).
        self.jobs_created = False
        # Set when open jobs were cancelled (abandon, timeout): agents must look now.
        self.jobs_cancelled = False
        # Executions changed in this transaction: the engine steps these first.
        self.touched: set[str] = set()
        # Per-transaction memo (declarations, the action type catalog).
        self.cache: dict[Any, Any] = {}

    def flush(self) -> None:
        """Write the batched history rows and events; call before the transaction commits."""
        self.appends.flush(self.conn)

    def _event_context(self, ex: ExecutionRow) -> events.EventContext:
        return events.EventContext(
            account_id=self.ctx.account_id,
            region=self.ctx.region,
            pipeline_arn=self.ctx.arns.pipeline(ex.pipeline_name),
            pipeline_name=ex.pipeline_name,
            pipeline_version=ex.pipeline_version,
            execution_id=ex.id,
        )

    # --- pipeline executions --------------------------------------------------------------

    def new_execution(self, **values: Any) -> ExecutionRow:
        store.insert_execution(self.conn, **values)
        ex = ExecutionRow(**values)
        self.touched.add(ex.id)
        self._history(ex, "pipeline", ex.id, None, ex.status)
        events.pipeline_event(
            self.appends, self._event_context(ex), "STARTED", self.now, trigger=ex.trigger
        )
        return ex

    def execution(self, ex: ExecutionRow, status: str | None = None, **fields: Any) -> ExecutionRow:
        """Update ``ex``; when ``status`` changes, record it and emit its event."""
        values = dict(fields)
        values["updated_ms"] = self.now
        self.touched.add(ex.id)
        if status is not None and status != ex.status:
            values["status"] = status
            if status in TERMINAL_EXECUTION:
                values["ended_ms"] = self.now
                values["waiting"] = False
        store.update_execution(self.conn, ex.id, **values)
        new = dataclasses.replace(ex, **values)
        if status is not None and status != ex.status:
            self._history(ex, "pipeline", ex.id, ex.status, status, fields.get("status_summary"))
            state = (
                "RESUMED"
                if status == "InProgress" and ex.status in ("Failed", "Stopped")
                else EVENT_STATE[status]
            )
            events.pipeline_event(
                self.appends, self._event_context(ex), state, self.now, trigger=ex.trigger
            )
        return new

    # --- stage executions -----------------------------------------------------------------

    def stage(
        self, ex: ExecutionRow, row: StageRow, status: str, *, previous: Any = ..., **fields: Any
    ) -> StageRow:
        if previous is ...:
            previous = store.get_stage(self.conn, row.execution_id, row.stage_name)
        new = dataclasses.replace(row, status=status, updated_ms=self.now, **fields)
        self.touched.add(ex.id)
        store.upsert_stage(self.conn, new)
        old_status = previous.status if previous else None
        if old_status != status or (previous and previous.attempt != new.attempt):
            self._history(ex, "stage", row.stage_name, old_status, status)
            state = (
                "RESUMED"
                if status == "InProgress" and old_status in ("Failed", "Stopped")
                else EVENT_STATE[status]
            )
            events.stage_event(
                self.appends, self._event_context(ex), row.stage_name, state, self.now
            )
        return new

    # --- action executions ----------------------------------------------------------------

    def new_action(self, ex: ExecutionRow, **values: Any) -> ActionRow:
        store.insert_action(self.conn, **values)
        row = ActionRow(**{**_ACTION_DEFAULTS, **values})
        self.touched.add(ex.id)
        self._history(ex, "action", row.id, None, row.status, row.error_message)
        self._action_event(ex, row, row.status)
        return row

    def action(
        self, ex: ExecutionRow, row: ActionRow, status: str | None = None, **fields: Any
    ) -> ActionRow:
        values = dict(fields)
        values["updated_ms"] = self.now
        self.touched.add(ex.id)
        if status is not None:
            values["status"] = status
        store.update_action(self.conn, row.id, **values)
        new = dataclasses.replace(row, **values)
        if status is not None and status != row.status:
            self._history(ex, "action", row.id, row.status, status, new.error_message)
            self._action_event(ex, new, status)
        return new

    def _action_event(self, ex: ExecutionRow, row: ActionRow, status: str) -> None:
        finished = status != "InProgress"
        result = None
        if finished:
            result = {
                k: v
                for k, v in {
                    "external-execution-id": row.external_execution_id,
                    "external-execution-summary": row.summary,
                    "external-execution-url": row.external_execution_url,
                    "error-code": row.error_code,
                }.items()
                if v
            }
        events.action_event(
            self.appends,
            self._event_context(ex),
            stage=row.stage_name,
            action=row.action_name,
            action_execution_id=row.id,
            state=EVENT_STATE[status],
            region=row.input.get("region") or self.ctx.region,
            type_id=row.input["actionTypeId"],
            input_artifacts=row.input.get("inputArtifacts", []),
            output_artifacts=row.output.get("outputArtifacts") if status == "Succeeded" else None,
            result=result,
            at_ms=self.now,
        )

    def _history(
        self,
        ex: ExecutionRow,
        entity: str,
        entity_id: str,
        old: str | None,
        new: str,
        detail: str | None = None,
    ) -> None:
        store.record(
            self.appends,
            pipeline_name=ex.pipeline_name,
            execution_id=ex.id,
            entity=entity,
            entity_id=entity_id,
            from_status=old,
            to_status=new,
            at_ms=self.now,
            detail=detail,
        )
