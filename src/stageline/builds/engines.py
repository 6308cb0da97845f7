"""Finding and talking to a container engine (``docker`` or ``podman``) for builds.

Whether an engine is reachable is asked with ``<engine> info`` under a short
timeout; the answer, reachable or not, is kept for :data:`PROBE_TTL_S` so a
burst of builds costs one probe and an agent without an engine does not pay
the timeout on every build. The same call says whether the engine is
rootless, which decides how the agent's user is mapped into containers.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from stageline.runner.proctree import terminate_tree

#: Container engines tried, in this order, by ``auto`` and ``docker``.
ENGINES = ("docker", "podman")
PROBE_TIMEOUT_S = 5.0
#: How long an engine probe's answer is trusted; builds in a burst share one probe.
PROBE_TTL_S = 30.0
_ENGINE_CALL_TIMEOUT_S = 30.0


@dataclass(frozen=True, kw_only=True)
class EngineStatus:
    """What probing one engine found: whether it answers, and if not, why."""

    engine: str
    binary: str
    reachable: bool
    detail: str = ""
    rootless: bool = False


_probes: dict[str, tuple[float, EngineStatus]] = {}
_probes_lock = threading.Lock()


def find_engine(engines: Sequence[str] = ENGINES) -> tuple[EngineStatus | None, list[str]]:
    """The first reachable engine, and for each one tried before it, why it was not."""
    tried: list[str] = []
    for engine in engines:
        status = probe_engine(engine)
        if status.reachable:
            return status, tried
        tried.append(f"{engine}: {status.detail}")
    return None, tried


def probe_engine(engine: str, *, timeout_s: float = PROBE_TIMEOUT_S) -> EngineStatus:
    """Ask ``<engine> info`` whether its daemon answers; answers are kept :data:`PROBE_TTL_S`."""
    binary = shutil.which(engine)
    key = binary or engine
    now = time.monotonic()
    with _probes_lock:
        cached = _probes.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    status = _probe(engine, binary, timeout_s)
    with _probes_lock:
        _probes[key] = (now + PROBE_TTL_S, status)
    return status


def forget_engines() -> None:
    """Drop the cached probe answers (an engine was started or stopped; tests)."""
    with _probes_lock:
        _probes.clear()


def _probe(engine: str, binary: str | None, timeout_s: float) -> EngineStatus:
    if binary is None:
        return EngineStatus(engine=engine, binary=engine, reachable=False, detail="not installed")
    try:
        done = subprocess.run(
            [binary, "info", "--format", "{{json .}}"],
            capture_output=True,
            timeout=timeout_s,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        detail = f"'{engine} info' did not answer within {timeout_s:g} s"
        return EngineStatus(engine=engine, binary=binary, reachable=False, detail=detail)
    except OSError as exc:
        return EngineStatus(engine=engine, binary=binary, reachable=False, detail=str(exc))
    if done.returncode != 0:
        detail = (
            last_line(done.stderr.decode("utf-8", "replace")) or f"exit status {done.returncode}"
        )
        return EngineStatus(engine=engine, binary=binary, reachable=False, detail=detail)
    return EngineStatus(
        engine=engine, binary=binary, reachable=True, rootless=_rootless(done.stdout)
    )


def _rootless(info: bytes) -> bool:
    """Docker lists ``name=rootless`` in SecurityOptions; Podman says host.security.rootless."""
    try:
        data = json.loads(info)
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    options = data.get("SecurityOptions") or []
    if any("name=rootless" in str(option) for option in options):
        return True
    security = (data.get("host") or {}).get("security") or {}
    return bool(security.get("rootless")) if isinstance(security, dict) else False


def run_stoppable(
    argv: Sequence[str], *, deadline: float | None, cancel: threading.Event | None
) -> tuple[int | None, str, str | None]:
    """Run ``argv`` until it ends, the deadline passes or ``cancel`` is set.

    Returns (exit status or None, its output, "timeout" / "cancel" or None).
    """
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        stopped: str | None = None
        while proc.poll() is None:
            if cancel is not None and cancel.is_set():
                stopped = "cancel"
            elif deadline is not None and time.monotonic() >= deadline:
                stopped = "timeout"
            if stopped is not None:
                terminate_tree(proc.pid, grace_s=1.0)
                proc.wait()
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.1)
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    return (None if stopped else proc.returncode), output, stopped


def engine_call(argv: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
    """A short engine command whose failure is an answer, not an error (inspect, kill)."""
    try:
        return subprocess.run(
            argv,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=_ENGINE_CALL_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(list(argv), 1, b"", str(exc).encode())


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""
