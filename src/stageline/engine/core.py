"""The engine: moves executions through stages and action groups, one transaction per event.

Every operation locks the pipeline (a row lock on PostgreSQL; SQLite serialises
writers), applies its change, then calls :meth:`Engine._advance`, which steps
each active execution of that pipeline as far as it can go: entering stages
whose lock and transitions allow it, starting the next runOrder group, and
finishing stages and executions. The engine never does an action's work — it
creates jobs, and agents report back (DESIGN.md §2.3).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from stageline.definitions.model import ActionDecl, PipelineDecl, StageDecl
from stageline.engine import actions as action_starts
from stageline.engine.declarations import DeclarationCache
from stageline.engine.status import ActionStatus, ExecutionStatus, StageStatus
from stageline.engine.transitions import StateWriter
from stageline.errors import error
from stageline.services.context import ServiceContext
from stageline.store import executions as store
from stageline.store import pipelines as pipeline_store
from stageline.store.executions import ExecutionRow, StageRow

log = logging.getLogger("stageline.engine")

MAX_STEPS = 10_000
Listener = Callable[[str], None]
Relay = Callable[[str, bool, bool], None]  # pipeline, jobs created, jobs cancelled


@dataclass
class Step:
    """What one pass over a pipeline's executions did."""

    released: bool = False
    # The execution now waits for actions it just started: stepping it again finds nothing to do.
    resting: bool = False
    progressed: bool = False
    jobs_created: bool = False


class Engine:
    """Executions of every pipeline; the only writer of their statuses (through StateWriter)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.declarations = DeclarationCache()
        # Called after a commit that changed a pipeline's executions (SSE, agents' wake-up).
        self.listeners: list[Listener] = []
        self.job_listeners: list[Callable[[], None]] = []
        # Called after a commit that cancelled open jobs, so agents stop working on them.
        self.cancel_listeners: list[Callable[[], None]] = []
        # Told of every change this process commits, to pass it on to other processes (the
        # change feed); their changes come back in through notify_local, never to the relays.
        self.relays: list[Relay] = []

    # --- transactions ---------------------------------------------------------------------

    def transaction(self, pipeline_name: str) -> _Tx:
        return _Tx(self, pipeline_name)

    def declaration(
        self, conn: Connection, name: str, version: int, *, created_ms: int | None = None
    ) -> tuple[PipelineDecl, dict[str, Any]]:
        found = self.declarations.get(conn, name, version, created_ms=created_ms)
        if found is None:
            raise error(
                "PipelineVersionNotFoundException", f"pipeline '{name}' has no version {version}"
            )
        return found

    def notify(self, pipeline_name: str, jobs_created: bool, jobs_cancelled: bool = False) -> None:
        """A commit of this process changed ``pipeline_name``: tell its listeners, then the relays."""
        self.notify_local(pipeline_name, jobs_created, jobs_cancelled)
        for relay in self.relays:
            try:
                relay(pipeline_name, jobs_created, jobs_cancelled)
            except Exception:  # a broken relay must not undo a committed change
                log.exception("change relay failed")

    def notify_local(
        self, pipeline_name: str, jobs_created: bool, jobs_cancelled: bool = False
    ) -> None:
        """Tell this process's listeners only: how changes other processes made arrive."""
        for listener in self.listeners:
            try:
                listener(pipeline_name)
            except Exception:  # a broken listener must not undo a committed change
                log.exception("execution listener failed")
        if jobs_created:
            for wake in self.job_listeners:
                wake()
        if jobs_cancelled:
            for poke in self.cancel_listeners:
                poke()

    # --- advancing ------------------------------------------------------------------------

    def advance(self, conn: Connection, writer: StateWriter, pipeline_name: str) -> Step:
        """Step the executions this transaction touched until they rest; then, if a stage lock
        was released (or the change was pipeline-wide, like a transition), the waiting ones."""
        total = Step()
        touched = set(writer.touched)
        if touched:
            self._settle(conn, writer, total, lambda: sorted(touched), waiting=None)
        if not touched or total.released:
            self._settle(conn, writer, total, lambda: [], waiting=pipeline_name)
        writer.flush()
        return total

    def _settle(
        self,
        conn: Connection,
        writer: StateWriter,
        total: Step,
        first: Callable[[], list[str]],
        *,
        waiting: str | None,
    ) -> None:
        """Step the ``first`` executions (and, with ``waiting``, every execution of that pipeline
        waiting at a stage entrance), then those that moved, until a pass moves nothing."""
        ids: list[str] = first()
        for _ in range(MAX_STEPS):
            candidates = [
                ex for ex in (store.get_execution(conn, i) for i in ids) if ex is not None
            ]
            if waiting is not None:
                known = {ex.id for ex in candidates}
                candidates += [
                    ex for ex in store.waiting_executions(conn, waiting) if ex.id not in known
                ]
                candidates.sort(key=lambda ex: ex.seq)
            moved: list[str] = []
            for ex in candidates:
                if not ExecutionStatus(ex.status).active:
                    continue
                step = Step()
                self._step(conn, writer, ex, step)
                total.jobs_created |= step.jobs_created
                total.released |= step.released
                if step.progressed:
                    total.progressed = True
                    if not step.resting:
                        moved.append(ex.id)
            if not moved:
                return
            ids = moved
        raise RuntimeError(f"executions did not settle after {MAX_STEPS} steps")

    def _step(self, conn: Connection, writer: StateWriter, ex: ExecutionRow, step: Step) -> None:
        """Move one execution as far as one decision goes (``ex`` was read this pass)."""
        if not ExecutionStatus(ex.status).active:
            return
        key = ("declaration", ex.pipeline_name, ex.pipeline_version)
        if key not in writer.cache:
            pipeline_row = writer.cache.get(("pipeline", ex.pipeline_name))
            writer.cache[key] = self.declaration(
                conn,
                ex.pipeline_name,
                ex.pipeline_version,
                created_ms=pipeline_row.created_ms if pipeline_row else None,
            )
        decl, raw = writer.cache[key]
        if ex.waiting:
            self._step_waiting(conn, writer, ex, decl, raw, step)
        else:
            self._step_in_stage(conn, writer, ex, decl, raw, step)

    def _step_waiting(
        self,
        conn: Connection,
        writer: StateWriter,
        ex: ExecutionRow,
        decl: PipelineDecl,
        raw: dict[str, Any],
        step: Step,
    ) -> None:
        index = ex.stage_index or 0
        if ex.status == ExecutionStatus.STOPPING:
            writer.execution(ex, ExecutionStatus.STOPPED)
            step.progressed = True
            return
        if not self._may_enter(conn, writer, ex, decl, index):
            return
        stage = decl.stages[index]
        previous = store.get_stage(conn, ex.id, stage.name)
        row = StageRow(
            execution_id=ex.id,
            pipeline_name=ex.pipeline_name,
            stage_name=stage.name,
            stage_index=index,
            status=StageStatus.IN_PROGRESS,
            attempt=(previous.attempt + 1) if previous else 1,
            floor=(previous.attempt + 1) if previous else 1,
            entered_ms=writer.now,
            updated_ms=writer.now,
        )
        ex = writer.execution(ex, waiting=False, waiting_since_ms=None)
        writer.stage(ex, row, StageStatus.IN_PROGRESS, previous=previous)
        step.progressed = True

    def _may_enter(
        self,
        conn: Connection,
        writer: StateWriter,
        ex: ExecutionRow,
        decl: PipelineDecl,
        index: int,
    ) -> bool:
        """Transitions enabled, and in SUPERSEDED/QUEUED mode the stage lock is free and it's our turn."""
        stage = decl.stages[index]
        key = ("transitions", ex.pipeline_name)
        if key not in writer.cache:
            writer.cache[key] = store.transitions_of(conn, ex.pipeline_name)
        transitions = writer.cache[key]
        inbound = transitions.get((stage.name, "Inbound"))
        if inbound is not None and not inbound.enabled:
            return False
        if index > 0:
            outbound = transitions.get((decl.stages[index - 1].name, "Outbound"))
            if outbound is not None and not outbound.enabled:
                return False
        if ex.execution_mode == "PARALLEL":
            return True
        others = [
            o
            for o in store.active_executions(conn, ex.pipeline_name)
            if o.id != ex.id and o.stage_index == index
        ]
        if any(not o.waiting for o in others):
            return False  # the stage is occupied
        waiting_before = [o for o in others if o.waiting and o.seq < ex.seq]
        return not waiting_before  # QUEUED: the oldest waiting goes first

    def _step_in_stage(
        self,
        conn: Connection,
        writer: StateWriter,
        ex: ExecutionRow,
        decl: PipelineDecl,
        raw: dict[str, Any],
        step: Step,
    ) -> None:
        index = ex.stage_index or 0
        stage = decl.stages[index]
        stage_row = store.get_stage(conn, ex.id, stage.name)
        assert stage_row is not None, (
            f"execution {ex.id} is in stage {stage.name} without a stage row"
        )
        latest = self._effective_actions(conn, ex, stage, stage_row)
        running = [a for a in latest.values() if a.status == ActionStatus.IN_PROGRESS]
        failed = [
            a for a in latest.values() if a.status in (ActionStatus.FAILED, ActionStatus.ABANDONED)
        ]
        if running:
            return
        if failed:
            first = failed[0]
            summary = first.error_message or f"action '{first.action_name}' failed"
            if (
                any(a.status == ActionStatus.ABANDONED for a in failed)
                and ex.status == ExecutionStatus.STOPPING
            ):
                writer.stage(ex, stage_row, StageStatus.STOPPED, previous=stage_row)
                writer.execution(ex, ExecutionStatus.STOPPED)
            else:
                writer.stage(ex, stage_row, StageStatus.FAILED, previous=stage_row)
                writer.execution(ex, ExecutionStatus.FAILED, status_summary=summary)
            step.progressed = step.released = True
            return
        if ex.status == ExecutionStatus.STOPPING:
            writer.stage(ex, stage_row, StageStatus.STOPPED, previous=stage_row)
            writer.execution(ex, ExecutionStatus.STOPPED)
            step.progressed = step.released = True
            return
        for _order, group in stage.run_order_groups():
            pending = [a for a in group if _status(latest, a) != ActionStatus.SUCCEEDED]
            if pending:
                resting = True
                for action in pending:
                    started = action_starts.start(
                        conn, writer, self.ctx, ex, decl, raw, stage, action, stage_row
                    )
                    step.jobs_created |= started.job_created
                    resting &= started.row.status == ActionStatus.IN_PROGRESS
                step.progressed = True
                step.resting = resting
                return
        writer.stage(ex, stage_row, StageStatus.SUCCEEDED, previous=stage_row)
        step.progressed = step.released = True
        if index + 1 >= len(decl.stages):
            writer.execution(ex, ExecutionStatus.SUCCEEDED)
            return
        ex = writer.execution(ex, stage_index=index + 1, waiting=True, waiting_since_ms=writer.now)
        self._supersede_waiting(conn, writer, ex, index + 1)

    def _effective_actions(
        self, conn: Connection, ex: ExecutionRow, stage: StageDecl, stage_row: StageRow
    ) -> dict[str, store.ActionBrief]:
        """The latest attempt of each action that still counts for this stage attempt."""
        rows = [
            a
            for a in store.briefs_of_stage(conn, ex.id, stage.name)
            if a.attempt >= stage_row.floor
            # a failure from before a retry is to be re-run, not counted again
            and not (
                a.attempt < stage_row.attempt
                and a.status in (ActionStatus.FAILED, ActionStatus.ABANDONED)
            )
        ]
        return {a.action_name: a for a in sorted(rows, key=lambda a: (a.attempt, a.started_ms))}

    def _supersede_waiting(
        self, conn: Connection, writer: StateWriter, ex: ExecutionRow, index: int
    ) -> None:
        """SUPERSEDED mode: of the executions waiting at one stage entrance only the newest stays."""
        if ex.execution_mode != "SUPERSEDED":
            return
        waiting = [
            o
            for o in store.active_executions(conn, ex.pipeline_name)
            if o.waiting and o.stage_index == index
        ]
        if len(waiting) < 2:
            return
        newest = max(waiting, key=lambda o: o.seq)
        for other in waiting:
            if other.id != newest.id:
                writer.execution(
                    other,
                    ExecutionStatus.SUPERSEDED,
                    status_summary=f"superseded by execution {newest.id} at the entrance of stage index {index}",
                )


def _status(latest: dict[str, store.ActionBrief], action: ActionDecl) -> str | None:
    row = latest.get(action.name)
    return row.status if row else None


class _Tx:
    """``with engine.transaction(name) as (conn, writer):`` — lock, change, advance, commit, notify."""

    def __init__(self, engine: Engine, pipeline_name: str) -> None:
        self.engine = engine
        self.pipeline_name = pipeline_name
        self.step = Step()

    def __enter__(self) -> tuple[Connection, StateWriter]:
        self._cm = self.engine.ctx.db.write()
        self.conn = self._cm.__enter__()
        try:
            row = pipeline_store.get(self.conn, self.pipeline_name, for_update=True)
            if row is None:
                raise error(
                    "PipelineNotFoundException",
                    f"Pipeline with name '{self.pipeline_name}' does not exist in account "
                    f"'{self.engine.ctx.account_id}'",
                )
        except BaseException as exc:
            self._cm.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self.writer = StateWriter(self.conn, self.engine.ctx, self.engine.ctx.clock.now_ms())
        self.writer.cache[("pipeline", self.pipeline_name)] = row
        return self.conn, self.writer

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            try:
                self.step = self.engine.advance(self.conn, self.writer, self.pipeline_name)
            except BaseException as inner:
                self._cm.__exit__(type(inner), inner, inner.__traceback__)
                raise
        self._cm.__exit__(exc_type, exc, tb)
        if exc_type is None:
            self.engine.notify(
                self.pipeline_name,
                self.step.jobs_created or self.writer.jobs_created,
                self.writer.jobs_cancelled,
            )


def new_id() -> str:
    return str(uuid.uuid4())
