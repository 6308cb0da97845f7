"""A background thread that calls a function every few seconds until it is stopped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any


class Periodic:
    """Calls ``tick`` every ``interval_s`` on a daemon thread named ``name``. A failing tick
    is logged on ``log`` and the next one runs as usual."""

    def __init__(
        self, name: str, interval_s: float, tick: Callable[[], Any], log: logging.Logger
    ) -> None:
        self.name = name
        self.interval_s = interval_s
        self.tick = tick
        self.log = log
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
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
                self.log.exception("%s failed; trying again in %.2g s", self.name, self.interval_s)
