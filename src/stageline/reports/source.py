"""Reading a report file's bytes without trusting its size.

A build can write a report of any size; the size is checked before the file is
read (and again while reading, in case it grows), so a runaway test runner
cannot make the agent or server read gigabytes into memory.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from stageline.reports.errors import MalformedReport, ReportError, ReportTooLarge

Source = str | os.PathLike[str] | bytes


def read_source(source: Source, limit: int, name: str | None = None) -> tuple[str, bytes]:
    """The file's display name and its bytes, refusing anything over ``limit`` bytes."""
    if isinstance(source, bytes):
        label = name or "<report>"
        _check_size(label, len(source), limit)
        return label, source
    path = Path(source)
    label = name or str(path)
    try:
        size = path.stat().st_size
        _check_size(label, size, limit)
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ReportError(label, f"cannot be read: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise ReportTooLarge(label, f"grew past the report size limit of {limit} bytes while read")
    return label, data


def _check_size(label: str, size: int, limit: int) -> None:
    if size > limit:
        raise ReportTooLarge(label, f"is {size} bytes, over the report size limit of {limit} bytes")


def decode_text(label: str, data: bytes) -> str:
    """UTF-8 text (a byte-order mark is allowed), or a clear error naming the file."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedReport(
            label, f"is not UTF-8 text (invalid byte at offset {exc.start})"
        ) from None


def load_json(label: str, data: bytes) -> Any:
    """The decoded JSON document, or a MalformedReport saying where it breaks."""
    try:
        return json.loads(decode_text(label, data))
    except json.JSONDecodeError as exc:
        raise MalformedReport(
            label, f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise MalformedReport(label, "nests JSON too deeply") from None
