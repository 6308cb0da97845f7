"""Stopping every process a command started, not only the shell.

A build's shell starts children, which start their own (`make` → `cc`, `npm` →
`node`, `sleep 1000 &`). Killing the shell alone leaves them running, holding
the output pipe open and burning the agent's CPU after the action has ended.
The shell is started as the leader of a new session, so every descendant
carries its session id even when it moved to another process group (`set -m`
job control does that); we signal the group and then every process in /proc
whose session or group is the shell's. A process that calls setsid() itself
escapes on purpose, as a daemon does; stopping those needs a container.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator

_POLL_S = 0.02
_HAVE_PROC = os.path.isdir("/proc/self")


def _members(leader: int) -> Iterator[int]:
    """Live (non-zombie) processes whose session or process group is ``leader``."""
    try:
        entries = os.listdir("/proc")
    except OSError:  # pragma: no cover - no procfs: the group signal is all we have
        return
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # the process ended while we looked
            continue
        # The command name is in parentheses and may itself hold spaces or ')'.
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) < 4 or fields[0] == b"Z":
            continue
        pgrp, session = int(fields[2]), int(fields[3])
        if leader in (pgrp, session):
            yield int(entry)


def is_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (a zombie has already stopped)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    fields = stat[stat.rfind(b")") + 2 :].split()
    return bool(fields) and fields[0] != b"Z"


def signal_tree(leader: int, sig: int) -> int:
    """Send ``sig`` to the group and session led by ``leader``; returns how many were signalled."""
    count = 0
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(leader, sig)
    for pid in _members(leader):
        try:
            os.kill(pid, sig)
            count += 1
        except (ProcessLookupError, PermissionError):
            pass
    return count


def tree_alive(leader: int) -> bool:
    return any(True for _ in _members(leader))


def terminate_tree(leader: int, *, grace_s: float) -> int:
    """SIGTERM the whole tree, wait up to ``grace_s`` for it to exit, then SIGKILL what is left.

    Returns the number of processes that were running when this started (the
    shell counts while it runs; once exited it is a zombie and does not).
    """
    if not _HAVE_PROC:  # pragma: no cover - Linux always has it; elsewhere the group is all we see
        signal_tree(leader, signal.SIGTERM)
        time.sleep(min(grace_s, 0.2))
        signal_tree(leader, signal.SIGKILL)
        return 0
    found = sum(1 for _ in _members(leader))
    if found == 0:
        return 0
    signal_tree(leader, signal.SIGTERM)
    # A stopped process keeps SIGTERM pending until it is continued.
    signal_tree(leader, signal.SIGCONT)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not tree_alive(leader):
            return found
        time.sleep(_POLL_S)
    signal_tree(leader, signal.SIGKILL)
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and tree_alive(leader):
        time.sleep(_POLL_S)
    return found
