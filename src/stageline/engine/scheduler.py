"""Time as an input: the loop that fires timeouts and lease expiries when they fall due."""

from __future__ import annotations

import logging
import threading

from stageline.engine.jobs import JobService
from stageline.engine.operations import Operations

log = logging.getLogger("stageline.scheduler")


class Scheduler:
    """Calls :meth:`tick` every ``interval_s``; tests call ``tick`` directly with a manual clock."""

    def __init__(
        self, operations: Operations, jobs: JobService, *, interval_s: float = 0.25
    ) -> None:
        self.operations = operations
        self.jobs = jobs
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> int:
        now = self.operations.ctx.clock.now_ms()
        return self.operations.expire_actions(now) + self.jobs.expire_leases()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.tick()
            except Exception:
                log.exception("scheduler tick failed; will retry")
