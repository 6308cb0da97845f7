"""Turning a byte stream into log lines, with flat memory whatever the program prints.

Programs print anything: text without a final newline, CRLF line ends, binary
data, a minified bundle as one 30 MB line. The splitter keeps at most one
partial line (bounded by ``max_line_bytes``) and never splits a UTF-8
character when it has to cut a long line.
"""

from __future__ import annotations

from collections.abc import Callable

DEFAULT_MAX_LINE_BYTES = 64 * 1024
# Starts every line the runner itself prints ("Running command: ..."), so it begins a new
# log line even when the previous command's output did not end with a newline.
MARK = b"\x1e"


def _char_boundary(data: bytes | bytearray, cut: int) -> int:
    """Move ``cut`` back (by at most 3 bytes) so it does not fall inside a UTF-8 sequence."""
    for back in range(4):
        pos = cut - back
        if pos <= 0:
            return cut
        if data[pos] & 0xC0 != 0x80:  # not a continuation byte: a character starts here
            return pos
    return cut  # not UTF-8 anyway: cut where asked


def decode(raw: bytes | bytearray) -> str:
    """Decode one line for the log: UTF-8, invalid bytes as U+FFFD, a CRLF's CR dropped."""
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    return bytes(raw).decode("utf-8", errors="replace")


class LineSplitter:
    """Feed bytes in, get whole decoded lines out through ``emit``."""

    def __init__(
        self, emit: Callable[[str], None], *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    ) -> None:
        if max_line_bytes < 4:
            raise ValueError("max_line_bytes must be at least 4")
        self._emit = emit
        self._max = max_line_bytes
        self._pending = bytearray()

    def feed(self, data: bytes) -> None:
        buf = self._pending
        buf += data
        start = 0
        while True:
            nl = buf.find(b"\n", start)
            mark = buf.find(MARK, start)
            if mark >= 0 and (nl < 0 or mark < nl):
                # A line of the runner's own begins: what came before it (output that did
                # not end with a newline) is a line of its own.
                if mark > start:
                    self._emit(decode(buf[start:mark]))
                start = mark + 1
                continue
            if nl < 0:
                break
            line_end = nl
            while line_end - start > self._max:
                cut = _char_boundary(buf, start + self._max)
                self._emit(decode(buf[start:cut]))
                start = cut
            self._emit(decode(buf[start:line_end]))
            start = nl + 1
        while len(buf) - start > self._max:
            cut = _char_boundary(buf, start + self._max)
            self._emit(decode(buf[start:cut]))
            start = cut
        del buf[:start]

    def close(self) -> None:
        """Emit what is left: the last line of output when it had no newline."""
        if self._pending:
            self._emit(decode(self._pending))
            self._pending.clear()
