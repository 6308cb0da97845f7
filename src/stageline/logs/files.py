"""The log store on a local directory: ``<root>/<log id>.log`` plus ``<log id>.done`` at close.

Writing is buffered, because a build that prints a million lines must not pay
a system call per line; a store-wide flusher thread writes out every open
log's pending lines every ``flush_interval_s / 2`` so readers see output
within the interval even when a build prints one line and then goes quiet.
A log is capped (50 MiB by default): past the cap one marker line is stored
and the rest is counted and dropped, so a runaway ``yes`` cannot fill the
disk. Offsets are byte positions in the file, always at a line boundary, so a
reader following a long log seeks instead of rescanning it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from itertools import accumulate
from operator import add
from pathlib import Path
from typing import BinaryIO

from stageline.clock import SystemClock
from stageline.logs import records
from stageline.logs.model import (
    DEFAULT_MAX_BYTES,
    DEFAULT_PAGE_BYTES,
    MAX_PAGE_LINES,
    TRUNCATION_MARKER,
    LogLine,
    LogNotFoundError,
    LogPage,
    part_id,
    validate_log_id,
)

_log = logging.getLogger(__name__)

MAX_LOGS_PER_ID = 1000
DEFAULT_FLUSH_INTERVAL_S = 0.1
DEFAULT_FLUSH_LINES = 4096
_FLUSH_BYTES = 256 * 1024
_READ_CHUNK = 256 * 1024


class FileLogWriter:
    """Appends lines to one log file; thread-safe. Use through ``FileLogStore.writer``."""

    def __init__(
        self,
        path: Path,
        done_path: Path,
        *,
        clock: Callable[[], int],
        max_bytes: int,
        secrets: Iterable[str],
        flush_lines: int,
        on_close: Callable[[FileLogWriter], None],
    ) -> None:
        # The file is created with the first output (or at close): starting an action need
        # not wait for the filesystem. The store reserves the id, so it stays one writer per id.
        self._path = path
        self._file: BinaryIO | None = None
        self.log_id = path.stem
        self._done_path = done_path
        self._clock = clock
        self._max_bytes = max_bytes
        masker = records.SecretMasker(secrets)
        self._mask = masker.mask if masker else None
        self._flush_lines = flush_lines
        self._on_close = on_close
        self._lock = threading.Lock()
        self._buffer: list[bytes] = []
        self._buffered_bytes = 0
        self._number = 0
        self._stored_bytes = 0
        self._truncated = False
        self._dropped = 0
        self._closed = False

    @property
    def dropped_lines(self) -> int:
        """Lines discarded because the log reached its cap."""
        return self._dropped

    @property
    def closed(self) -> bool:
        return self._closed

    def write(self, line: str) -> None:
        # Masking and escaping outside the lock: other threads keep writing meanwhile.
        if self._mask is not None:
            line = self._mask(line)
        line = records.escape(line)
        with self._lock:
            if self._closed:
                raise ValueError("write to a closed log writer")
            if self._truncated:
                self._dropped += 1
                return
            ts = self._clock()
            record = records.encode(self._number + 1, ts, line)
            size = len(record)
            if self._stored_bytes + size > self._max_bytes:
                self._truncated = True
                self._dropped += 1
                marker = TRUNCATION_MARKER.format(limit=self._max_bytes)
                record = records.encode(self._number + 1, ts, records.escape(marker))
                size = len(record)
            self._number += 1
            self._stored_bytes += size
            self._buffer.append(record)
            self._buffered_bytes += size
            if self._buffered_bytes >= _FLUSH_BYTES or len(self._buffer) >= self._flush_lines:
                self._flush_locked()

    def flush(self) -> None:
        with self._lock:
            if not self._closed:
                self._flush_locked()

    def _flush_locked(self, *, create: bool = False) -> None:
        if self._file is None:
            if not self._buffer and not create:
                return
            self._file = open(self._path, "xb")  # noqa: SIM115 - lives until close()
        if self._buffer:
            self._file.write(b"".join(self._buffer))
            self._buffer.clear()
            self._buffered_bytes = 0
        self._file.flush()

    def close(self) -> None:
        """Flush, close, and mark the log complete. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._flush_locked(create=True)
            finally:
                if self._file is not None:
                    self._file.close()
                # The marker comes after the data: a reader that sees it has seen everything.
                self._done_path.touch()
        self._on_close(self)

    def __enter__(self) -> FileLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FileLogStore:
    """Action logs as files under ``root``; see the module docstring for the format."""

    def __init__(
        self,
        root: Path,
        *,
        clock: Callable[[], int] | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        flush_interval_s: float = DEFAULT_FLUSH_INTERVAL_S,
        flush_lines: int = DEFAULT_FLUSH_LINES,
    ) -> None:
        if max_bytes < 1024:
            raise ValueError("max_bytes must be at least 1024")
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._clock = clock or SystemClock().now_ms
        self._max_bytes = max_bytes
        self._flush_interval_s = flush_interval_s
        self._flush_lines = max(1, flush_lines)
        self._lock = threading.Lock()
        self._writers: set[FileLogWriter] = set()
        self._reserved: set[str] = set()  # ids whose writer has not created its file yet
        self._flusher: threading.Thread | None = None

    def _paths(self, log_id: str) -> tuple[Path, Path]:
        validate_log_id(log_id)
        return self.root / f"{log_id}.log", self.root / f"{log_id}.done"

    def writer(self, log_id: str, *, secrets: Iterable[str] = ()) -> FileLogWriter:
        """Start the log ``log_id``; FileExistsError if it was ever started before."""
        path, done = self._paths(log_id)
        with self._lock:
            if log_id in self._reserved or path.exists():
                raise FileExistsError(f"log {log_id} was already started")
            self._reserved.add(log_id)
        writer = FileLogWriter(
            path,
            done,
            clock=self._clock,
            max_bytes=self._max_bytes,
            secrets=secrets,
            flush_lines=self._flush_lines,
            on_close=self._forget,
        )
        with self._lock:
            self._writers.add(writer)
            if self._flusher is None:
                self._flusher = threading.Thread(
                    target=self._flush_loop, name="stageline-log-flusher", daemon=True
                )
                self._flusher.start()
        return writer

    def next_writer(self, base_id: str, *, secrets: Iterable[str] = ()) -> FileLogWriter:
        """A writer for the first unused id of ``base_id``, ``base_id.1``, ``base_id.2``…

        One action can write several logs: a continuation, or a re-run after its
        worker was lost, starts a further log of the same action execution.
        """
        for n in range(MAX_LOGS_PER_ID):
            try:
                return self.writer(part_id(base_id, n), secrets=secrets)
            except FileExistsError:
                continue
        raise RuntimeError(f"too many logs for {base_id}")

    def _forget(self, writer: FileLogWriter) -> None:
        with self._lock:
            self._writers.discard(writer)
            self._reserved.discard(writer.log_id)

    def _flush_loop(self) -> None:
        """Flush every open writer each half interval; end when none is left open."""
        while True:
            time.sleep(self._flush_interval_s / 2)
            with self._lock:
                writers = list(self._writers)
                if not writers:
                    self._flusher = None
                    return
            for writer in writers:
                try:
                    writer.flush()
                except Exception:  # a full disk must not kill the flusher for every other log
                    _log.exception("flushing a log failed")

    def exists(self, log_id: str) -> bool:
        """Whether the log was started: written to, or its writer open with nothing yet."""
        path = self._paths(log_id)[0]
        with self._lock:
            if log_id in self._reserved:
                return True
        return path.exists()

    def parts(self, log_id: str) -> list[str]:
        """The started parts of ``log_id`` in order: itself, ``log_id.1``… (see ``part_id``)."""
        found: list[str] = []
        for n in range(MAX_LOGS_PER_ID):
            if not self.exists(part_id(log_id, n)):
                break
            found.append(part_id(log_id, n))
        return found

    def read(
        self, log_id: str, *, offset: int = 0, limit: int = 1000, max_bytes: int | None = None
    ) -> LogPage:
        """Up to ``limit`` lines from byte ``offset`` (0, or a ``next_offset`` from a page).

        With ``max_bytes`` the page also stops before the line that would take it
        past that many stored bytes (it always holds one line when one is there),
        so a reader's memory is bounded whatever the lines are like.
        """
        path, done_path = self._paths(log_id)
        if not isinstance(offset, int) or offset < 0:
            raise ValueError(f"offset must be a byte offset >= 0, got {offset!r}")
        if not 1 <= limit <= MAX_PAGE_LINES:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_LINES}, got {limit}")
        budget = sys.maxsize if max_bytes is None else max(1, max_bytes)
        done = done_path.exists()  # before reading: if it is there, the file is final
        try:
            f = open(path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            with self._lock:
                started = log_id in self._reserved
            if started and offset == 0:  # started, nothing written yet
                return LogPage(lines=[], next_offset=0, complete=False)
            raise LogNotFoundError(log_id) from None
        with f:
            size = os.fstat(f.fileno()).st_size
            if offset > size:
                raise ValueError(f"offset {offset} is past the end of log {log_id!r} ({size})")
            if offset:
                f.seek(offset - 1)
                if f.read(1) != b"\n":
                    raise ValueError(f"offset {offset} is not at a line boundary")
            lines: list[LogLine] = []
            ends: list[int] = []
            position = offset
            pending = b""
            full = False
            while not full:
                chunk = f.read(_READ_CHUNK)
                if not chunk:
                    break
                data = pending + chunk
                last = data.rfind(b"\n")
                if last < 0:  # one record longer than a chunk, or a writer mid-flush
                    pending = data
                    continue
                start = position
                whole = data[:last].split(b"\n")
                if len(lines) + len(whole) <= limit and position + last + 1 - offset <= budget:
                    # All of it fits (the usual case): each line's end computed in C.
                    for record in whole:
                        lines.append(_parse(record, lines))
                    ends.extend(
                        map(
                            add,
                            accumulate(map(len, whole)),
                            range(position + 1, position + 1 + len(whole)),
                        )
                    )
                    position += last + 1
                else:
                    for record in whole:
                        record_size = len(record) + 1
                        if len(lines) >= limit or (
                            lines and position + record_size - offset > budget
                        ):
                            full = True
                            break
                        lines.append(_parse(record, lines))
                        position += record_size
                        ends.append(position)
                pending = data[position - start :]
                full = full or len(lines) >= limit or position - offset >= budget
            end_of_file = position == os.fstat(f.fileno()).st_size
        return LogPage(lines=lines, next_offset=position, complete=done and end_of_file, ends=ends)

    def follow(
        self,
        log_id: str,
        offset: int = 0,
        *,
        poll_s: float = 0.1,
        stop: threading.Event | None = None,
    ) -> Iterator[LogLine]:
        """Yield lines from ``offset`` as they are written, until the log is complete.

        Waits for a log that has not started yet. Ends early when ``stop`` is set.
        """
        validate_log_id(log_id)
        stop = stop or threading.Event()
        while not stop.is_set():
            try:
                page = self.read(
                    log_id, offset=offset, limit=MAX_PAGE_LINES, max_bytes=DEFAULT_PAGE_BYTES
                )
            except LogNotFoundError:
                page = None
            if page is not None:
                yield from page.lines
                offset = page.next_offset
                if page.complete:
                    return
                if page.lines:
                    continue
            stop.wait(poll_s)

    def close(self) -> None:
        """Close every writer still open (at shutdown)."""
        with self._lock:
            writers = list(self._writers)
        for writer in writers:
            writer.close()


def _parse(record: bytes, previous: list[LogLine]) -> LogLine:
    parsed = records.decode(record)
    if parsed is None:  # not written by us: keep it readable rather than fail the page
        number = previous[-1].number + 1 if previous else 0
        return LogLine(0, record.decode("utf-8", "replace"), number)
    number, ts, text = parsed
    return LogLine(ts, text, number)
