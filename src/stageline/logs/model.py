"""What the log store is: lines with timestamps, pages of them, and who may write.

Every action's output is kept line by line so the console and the CLI can
show it while the action runs (CodePipeline sends Commands output to
CloudWatch Logs under ``/aws/codepipeline/<pipeline>``; we keep it ourselves).
Log ids come from outside (API requests name them), so they are checked
before they become file names.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
MAX_PAGE_LINES = 100_000
# What one page may hold when a reader asks for a byte budget: enough for a thousand
# ordinary lines, small enough that streaming a 50 MiB log never holds more than a page.
DEFAULT_PAGE_BYTES = 256 * 1024
TRUNCATION_MARKER = "[stageline] log truncated: more than {limit} bytes; further output discarded"

_LOG_ID = re.compile(r"[A-Za-z0-9._-]{1,200}")


class InvalidLogIdError(ValueError):
    """A log id that could not be a file name of ours (empty, too long, a path, '..')."""


class LogNotFoundError(KeyError):
    """No log has been started under this id."""

    def __str__(self) -> str:
        return f"no log with id {self.args[0]!r}"


def validate_log_id(log_id: str) -> str:
    if not isinstance(log_id, str) or not _LOG_ID.fullmatch(log_id) or log_id in (".", ".."):
        shown = repr(log_id)[:80]
        raise InvalidLogIdError(
            f"log id must be 1 to 200 characters of A-Z, a-z, 0-9, '.', '_' or '-', "
            f"and not '.' or '..'; got {shown}"
        )
    return log_id


def part_id(log_id: str, part: int) -> str:
    """The id of one part of a log: ``log_id`` itself, then ``log_id.1``, ``log_id.2``…

    An action execution writes a further part when it continues (a continuation
    token) or runs again after its worker was lost; its parts read in order are
    its whole output.
    """
    return log_id if part == 0 else f"{log_id}.{part}"


class LogLine(NamedTuple):
    """One stored line. ``number`` counts from 1 in the order lines were written.

    A NamedTuple rather than a frozen dataclass: reading a million lines builds
    a million of these, and a tuple is several times cheaper to create.
    """

    ts_ms: int
    text: str
    number: int


@dataclass(frozen=True, kw_only=True)
class LogPage:
    """A run of lines and where to continue.

    ``next_offset`` is an opaque cursor to pass back as ``offset`` (for the file
    store, the byte position after the last line returned). ``ends`` holds the
    same cursor after each line, so a stream can say after every line where to
    resume. ``complete`` is true when the writer has closed and this page reaches
    the end of the log.
    """

    lines: list[LogLine]
    next_offset: int
    complete: bool
    ends: list[int] = field(default_factory=list)


class LogWriter(Protocol):
    """Appends lines to one log; ``write`` is a LogSink for providers."""

    @property
    def dropped_lines(self) -> int: ...

    def write(self, line: str) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


class LogStore(Protocol):
    """Where action logs live: written once by one writer, read by anyone while it grows."""

    def writer(self, log_id: str, *, secrets: Iterable[str] = ()) -> LogWriter: ...

    def exists(self, log_id: str) -> bool: ...

    def parts(self, log_id: str) -> list[str]: ...

    def read(
        self, log_id: str, *, offset: int = 0, limit: int = 1000, max_bytes: int | None = None
    ) -> LogPage: ...

    def follow(
        self,
        log_id: str,
        offset: int = 0,
        *,
        poll_s: float = 0.1,
        stop: threading.Event | None = None,
    ) -> Iterator[LogLine]: ...
