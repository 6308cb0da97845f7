"""Helper processes that announce their address in their output: starting, waiting, stopping.

The stageline server, moto_server and docker-registry all pick a free loopback
port themselves and print it; tests read it from their output, then wait until
an HTTP probe answers. Their output is kept, to show when something fails.
"""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass
class Announced:
    """A started process, the match of the line that announced it, and its output so far."""

    proc: subprocess.Popen[str]
    match: re.Match[str]
    log: list[str]
    pump: threading.Thread


def launch(
    argv: Sequence[str],
    *,
    announce: re.Pattern[str],
    what: str,
    env: Mapping[str, str],
    timeout: float,
    cwd: Path | None = None,
) -> Announced:
    """Start ``argv`` and wait for a line of its output that matches ``announce``."""
    proc = subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(env),
        cwd=cwd,
    )
    log: list[str] = []
    found: list[re.Match[str]] = []
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.append(line)
            match = announce.search(line)
            if match and not found:
                found.append(match)
                ready.set()
        ready.set()

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    if not ready.wait(timeout) or not found:
        proc.kill()
        raise RuntimeError(f"{what} did not start:\n" + "".join(log))
    return Announced(proc=proc, match=found[0], log=log, pump=thread)


def await_http(
    started: Announced,
    url: str,
    *,
    what: str,
    timeout: float,
    ok: Callable[[httpx.Response], bool] = lambda _response: True,
) -> None:
    """Wait until ``url`` answers (and ``ok`` accepts the answer); else stop the process."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ok(httpx.get(url, timeout=2)):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    stop(started.proc, started.pump)
    raise RuntimeError(f"{what} never answered {url}:\n" + "".join(started.log))


def stop(proc: subprocess.Popen[str], pump: threading.Thread, sig: int = signal.SIGTERM) -> None:
    """Signal the process, kill it if it has not ended within 10 s, and close its output."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    pump.join(timeout=5)
    if proc.stdout is not None:
        proc.stdout.close()
