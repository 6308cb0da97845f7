"""One function invocation as a process: start it, stream its output, read its control pipe.

The function runs as the leader of a new session (so everything it starts
can be found and stopped, see :mod:`stageline.runner.proctree`), with stdin
from /dev/null and stdout and stderr merged into one pipe that is read line
by line into the action's log. A second pipe carries the bootstrap's
messages (:mod:`.bootstrap`), so the function's own output is never parsed.

The caller drives it with :meth:`FunctionProcess.pump`, a bounded wait that
reads whatever arrived, and decides from :attr:`phase`, :meth:`leader_exited`
and :meth:`tree_alive` what the invocation has come to: the caller also has to
watch the job's status, which this module knows nothing about.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from stageline.providers.base import LogSink
from stageline.runner.lines import LineSplitter
from stageline.runner.proctree import terminate_tree
from stageline.runner.proctree import tree_alive as _tree_alive

_READ_SIZE = 64 * 1024
# A control message is small; a traceback of a deep recursion is the largest we expect.
_MAX_CONTROL_BYTES = 1024 * 1024


class FunctionProcess:
    """A started function process; see the module docstring."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        log: LogSink,
        control_fd_arg: int,
    ) -> None:
        """Start ``argv``; the argument at index ``control_fd_arg`` is replaced by the
        number of the control pipe's write end as the child sees it."""
        read_fd, write_fd = os.pipe()
        args = list(argv)
        args[control_fd_arg] = str(write_fd)
        try:
            self.proc = subprocess.Popen(
                args,
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
                pass_fds=(write_fd,),
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        self.started = time.monotonic()
        self.phase = "init"  # then "invoke", then "returned" or "error"
        self.invoked_at: float | None = None
        self.finished_at: float | None = None
        self.error: dict[str, Any] | None = None
        self.exit_status: int | None = None
        assert self.proc.stdout is not None
        self._out_fd = self.proc.stdout.fileno()
        self._control_fd = read_fd
        os.set_blocking(self._out_fd, False)
        os.set_blocking(read_fd, False)
        self._splitter = LineSplitter(log)
        self._control = bytearray()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._out_fd, selectors.EVENT_READ, "out")
        self._selector.register(read_fd, selectors.EVENT_READ, "control")
        self._closed = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    def pump(self, wait_s: float) -> None:
        """Read what the process wrote within ``wait_s`` seconds (less if something arrives)."""
        if self._closed or not self._selector.get_map():
            time.sleep(wait_s)
            return
        for key, _events in self._selector.select(timeout=wait_s):
            fd = key.fd
            try:
                data = os.read(fd, _READ_SIZE)
            except BlockingIOError:
                continue
            if not data:
                self._selector.unregister(fd)
                continue
            if key.data == "out":
                self._splitter.feed(data)
            else:
                self._on_control(data)

    def _on_control(self, data: bytes) -> None:
        if len(self._control) + len(data) > _MAX_CONTROL_BYTES:
            return
        self._control += data
        while (nl := self._control.find(b"\n")) >= 0:
            line = bytes(self._control[:nl])
            del self._control[: nl + 1]
            try:
                message = json.loads(line)
            except ValueError:
                continue
            phase = message.get("phase") if isinstance(message, dict) else None
            if phase == "invoke" and self.phase == "init":
                self.phase, self.invoked_at = "invoke", time.monotonic()
            elif phase in ("returned", "error") and self.phase in ("init", "invoke"):
                self.phase, self.finished_at = phase, time.monotonic()
                if phase == "error":
                    self.error = message

    def leader_exited(self) -> bool:
        """Whether the function's own process exited, without reaping it: while it is a
        zombie its pid, which is also the session id we sweep by, cannot be reused."""
        if self.exit_status is not None:
            return True
        try:
            info = os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        if info is None or info.si_pid != self.proc.pid:
            return False
        # Popen's convention: the exit code, or minus the signal that killed it.
        killed = info.si_code in (os.CLD_KILLED, os.CLD_DUMPED)
        self.exit_status = -info.si_status if killed else info.si_status
        return True

    def tree_alive(self) -> bool:
        """Whether any process of the invocation still runs (the function's or its children)."""
        return _tree_alive(self.proc.pid)

    def settle(self, timeout_s: float) -> None:
        """Give the processes up to ``timeout_s`` to end by themselves (the function's own
        process takes a moment to shut its interpreter down after the handler returned)."""
        deadline = time.monotonic() + timeout_s
        while self.tree_alive() and time.monotonic() < deadline:
            self.pump(0.02)

    def stop(self, *, grace_s: float) -> int:
        """Stop every process of the invocation, read what they printed, release everything.
        Returns how many processes were still running."""
        if self._closed:
            return 0
        stopped = terminate_tree(self.proc.pid, grace_s=grace_s)
        self.proc.wait()
        deadline = time.monotonic() + 0.5
        while self._selector.get_map() and time.monotonic() < deadline:
            self.pump(0.05)  # the last lines; a process that escaped the session may hold the pipe
        self._splitter.close()
        self._selector.close()
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        os.close(self._control_fd)
        self._closed = True
        return stopped
