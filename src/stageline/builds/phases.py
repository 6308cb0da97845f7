"""Running one buildspec phase in the build's shell: its commands, its ``finally``, its retries.

CodeBuild runs a phase's commands one at a time, in order, and stops at the
first that fails; the ``finally`` commands run next "even if a command in the
commands block fails", and the phase succeeds only if every command of both
blocks did. With ``on-failure: RETRY…`` a failed phase runs again (commands
and ``finally``) as long as retries are left and the failure matches the
regex (:meth:`OnFailure.should_retry`); the shell, and so ``cd`` and exported
variables, carries over from one attempt to the next.

A failing command yields CodeBuild's phase context: ``COMMAND_EXECUTION_ERROR``
with "Error while executing command: X. Reason: exit status N".
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from stageline.builds.buildspec import PhaseSpec
from stageline.builds.onfailure import FailureAction
from stageline.builds.results import PhaseContext, PhaseType
from stageline.builds.session import ShellSession, Stop

#: Output kept per attempt for matching an ``on-failure: RETRY-<regex>``.
RETRY_TAIL_BYTES = 1024 * 1024


class _Tail:
    """The last lines of output, bounded in bytes (a build may print gigabytes)."""

    def __init__(self, limit: int) -> None:
        self.lines: deque[str] = deque()
        self._size = 0
        self._limit = limit

    def add(self, line: str) -> None:
        self.lines.append(line)
        self._size += len(line)
        while self._size > self._limit and self.lines:
            self._size -= len(self.lines.popleft())


class PhaseExecutor:
    """Runs one phase; after :meth:`run`, ``stopped`` says if a timeout or cancel ended it.

    The runner passes every output line to :meth:`observe` while the phase
    runs, so a retry regex can be matched against what the attempt printed.
    """

    def __init__(
        self,
        session: ShellSession,
        *,
        say: Callable[[str], None],
        deadline: float | None,
        cancel: threading.Event | None,
        isolated: bool,
    ) -> None:
        self._session = session
        self._say = say
        self._deadline = deadline
        self._cancel = cancel
        self._isolated = isolated
        self._tail: _Tail | None = None
        self.stopped: Stop | None = None

    def observe(self, line: str) -> None:
        if self._tail is not None:
            self._tail.add(line)

    def run(self, spec: PhaseSpec, phase_type: PhaseType) -> PhaseContext | None:
        """Run the phase (with retries); None when it succeeded or was stopped."""
        on_failure = spec.on_failure
        retries = 0
        if on_failure is not None and on_failure.action is FailureAction.RETRY:
            retries = on_failure.retries
        attempts = 1 + retries
        for attempt in range(1, attempts + 1):
            self._tail = _Tail(RETRY_TAIL_BYTES) if retries else None
            context = self._attempt(spec)
            lines = self._tail.lines if self._tail is not None else deque()
            self._tail = None
            if context is None or self.stopped is not None:
                return None
            if attempt == attempts or on_failure is None:
                return context
            if not on_failure.should_retry(context.message, lines):
                self._say(f"The failure does not match {on_failure.raw}; not retrying")
                return context
            self._say(
                f"Phase {phase_type.value} failed; retrying, attempt {attempt + 1} of "
                f"{attempts} ({on_failure.raw})"
            )
        return None  # pragma: no cover - the loop always returns

    def _attempt(self, spec: PhaseSpec) -> PhaseContext | None:
        """Commands to the first failure, then ``finally``; the first failure's context."""
        failure: PhaseContext | None = None
        for block in (spec.commands, spec.finally_commands):
            for command in block:
                code = self._command(command)
                if code is None:
                    return None
                if code != 0:
                    failure = failure or PhaseContext(
                        status_code="COMMAND_EXECUTION_ERROR",
                        message=f"Error while executing command: {command}. "
                        f"Reason: exit status {code}",
                    )
                    break
        return failure

    def _command(self, command: str) -> int | None:
        """Run one command; its exit status, or None when the build was stopped."""
        self._say(f"Running command {command}")
        outcome = self._session.run(
            command, deadline=self._deadline, cancel=self._cancel, isolated=self._isolated
        )
        if outcome.stopped is not None:
            self.stopped = outcome.stopped
            return None
        if outcome.exit_code != 0:
            self._say(
                f"Command did not exit successfully {command} exit status {outcome.exit_code}"
            )
        if outcome.shell_exited:
            self._say("The command ended the shell; the build goes on in a new one")
        assert outcome.exit_code is not None
        return outcome.exit_code
