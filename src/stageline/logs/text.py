"""A log line as a person reads it: a timestamp, and text without terminal control codes.

The store keeps what a program printed, colours and carriage returns included,
so a terminal following the log shows it as the program meant. A browser
showing the plain-text view would print the escape codes as garbage, so that
view drops them and keeps what a terminal would leave on screen: the text
after a line's last carriage return (a progress bar's final state).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

# CSI (colours, cursor moves), OSC (titles, links) and the two-character escapes.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")


def timestamp(ts_ms: int) -> str:
    """``2024-05-01T12:00:00.123Z``: UTC with milliseconds, as CloudWatch Logs shows times."""
    moment = datetime.fromtimestamp(ts_ms / 1000, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ts_ms % 1000:03d}Z"


def plain(text: str) -> str:
    """``text`` as a terminal would leave it on screen, without escape sequences."""
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "\r" in text:
        text = "\n".join(segment.rstrip("\r").rsplit("\r", 1)[-1] for segment in text.split("\n"))
    return text
