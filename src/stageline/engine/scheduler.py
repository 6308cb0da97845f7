"""Time as an input: the loop that fires timeouts and lease expiries when they fall due."""

from __future__ import annotations

import logging

from stageline.engine.jobs import JobService
from stageline.engine.operations import Operations
from stageline.periodic import Periodic

log = logging.getLogger("stageline.scheduler")


class Scheduler:
    """Calls :meth:`tick` every ``interval_s``; tests call ``tick`` directly with a manual clock."""

    def __init__(
        self, operations: Operations, jobs: JobService, *, interval_s: float = 0.25
    ) -> None:
        self.operations = operations
        self.jobs = jobs
        self.interval_s = interval_s
        self._periodic = Periodic("scheduler", interval_s, self.tick, log)

    def tick(self) -> int:
        now = self.operations.ctx.clock.now_ms()
        return self.operations.expire_actions(now) + self.jobs.expire_leases()

    def start(self) -> None:
        self._periodic.start()

    def stop(self) -> None:
        self._periodic.stop()
