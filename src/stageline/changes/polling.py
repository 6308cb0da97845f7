"""Polling: source actions with ``PollForSourceChanges`` true are checked on a schedule.

AWS polls such actions about once a minute and starts an execution (trigger
``PollForSourceChanges``) when the revision changed. stageline does the same every
``--poll-interval`` seconds. The last revision seen is stored and written in the
transaction that starts the execution (:mod:`stageline.changes.starts`), so one new
revision starts exactly one execution — across restarts, with several server
replicas, and when a push or webhook got there first.

The first time an action is polled its revision becomes the baseline without a
start: CreatePipeline already started an execution with it. An empty repository or
a missing object is recorded as the empty revision, so the first commit that
arrives later does start the pipeline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from stageline.changes import sources, store
from stageline.changes.starts import start_for_revision
from stageline.definitions.model import ActionDecl, PipelineDecl, pipeline_from_wire
from stageline.engine.operations import Operations
from stageline.engine.status import TriggerType
from stageline.errors import ApiError
from stageline.periodic import Periodic
from stageline.store import pipelines as pipeline_store

log = logging.getLogger("stageline.polling")

# The action's current revision, None when there is none yet (empty repository, no object).
Probe = Callable[[ActionDecl], str | None]
NOTHING = ""


class Poller:
    def __init__(self, operations: Operations, probe: Probe, *, interval_s: float) -> None:
        self.operations = operations
        self.ctx = operations.ctx
        self.probe = probe
        self.interval_s = interval_s
        self._periodic = Periodic("poller", interval_s, self.tick, log)

    def tick(self) -> int:
        """Poll every watched action once; returns how many executions were started."""
        started = 0
        for name, decl, raw in self._pipelines():
            for action in sources.source_actions(decl):
                if sources.polled(action, raw):
                    started += self._poll(name, action)
        return started

    def _poll(self, pipeline_name: str, action: ActionDecl) -> int:
        try:
            revision = self.probe(action) or NOTHING
        except Exception as exc:  # a source that can't be reached is tried again next time
            log.warning(
                "polling %s/%s failed: %s; trying again in %.0f s",
                pipeline_name,
                action.name,
                exc,
                self.interval_s,
            )
            return 0
        with self.ctx.db.read() as conn:
            seen = store.last_revision(conn, pipeline_name, action.name)
        if seen == revision:
            return 0
        if seen is None or revision == NOTHING:
            with self.ctx.db.write() as conn:
                store.record(conn, pipeline_name, action.name, revision, self.ctx.clock.now_ms())
            return 0
        key = sources.NATURAL_TYPE.get(action.type, sources.COMMIT_ID)
        try:
            result = start_for_revision(
                self.operations,
                pipeline_name,
                action_name=action.name,
                revision=revision,
                revision_type=key,
                trigger_type=TriggerType.POLL_FOR_SOURCE_CHANGES,
                trigger_detail=action.name,
                only_if_new=True,
            )
        except ApiError as exc:  # e.g. the pipeline was deleted meanwhile
            log.info("polling %s/%s started nothing: %s", pipeline_name, action.name, exc.message)
            return 0
        if result.execution_id:
            log.info(
                "new revision %s of %s/%s: started execution %s",
                revision[:12],
                pipeline_name,
                action.name,
                result.execution_id,
            )
            return 1
        return 0

    def _pipelines(self) -> Iterator[tuple[str, PipelineDecl, dict[str, Any]]]:
        with self.ctx.db.read() as conn:
            rows = pipeline_store.current_declarations(conn)
        for name, raw in rows:
            try:
                decl = pipeline_from_wire(raw)
            except Exception:  # a stored declaration is valid; never let one stop the others
                log.exception("pipeline %s could not be read for polling", name)
                continue
            yield name, decl, raw

    def start(self) -> None:
        self._periodic.start()

    def stop(self) -> None:
        self._periodic.stop()
