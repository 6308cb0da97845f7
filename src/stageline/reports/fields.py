"""Turning the attribute strings report tools write into numbers and messages.

Test tools disagree on small things (``time="1,234.5"``, ``duration="00:00:01.25"``,
a missing time), and a report should not be thrown away over a duration; so
durations are read leniently and fall back to 0. Coverage counts are what a
coverage report is for, so a count that is not a whole number is an error.
"""

from __future__ import annotations

import math
import re
from xml.etree.ElementTree import Element

from stageline.reports.errors import MalformedReport

MAX_MESSAGE_CHARS = 8192
_NS_PER_SECOND = 1_000_000_000
# TRX durations are .NET TimeSpans: [d.]hh:mm:ss[.fffffff]
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$")


def seconds_to_ns(value: str | None) -> int:
    """A duration in (possibly fractional) seconds, as nanoseconds; 0 if unreadable."""
    if not value:
        return 0
    text = value.strip()
    # "1,234.5" uses commas for thousands; a lone comma is a decimal comma ("0,25").
    text = text.replace(",", "") if "." in text else text.replace(",", ".")
    try:
        seconds = float(text)
    except ValueError:
        return 0
    if not math.isfinite(seconds) or seconds < 0:
        return 0
    return round(seconds * _NS_PER_SECOND)


def millis_to_ns(value: str | None) -> int:
    """A duration in milliseconds (TestNG's ``duration-ms``), as nanoseconds."""
    return seconds_to_ns(value) // 1000 if value else 0


def number_to_ns(value: object) -> int:
    """A JSON duration already in nanoseconds (Cucumber); 0 if not a non-negative number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    if not math.isfinite(value) or value < 0:
        return 0
    return int(value)


def timespan_to_ns(value: str | None) -> int:
    """A .NET TimeSpan string ("00:00:01.2500000") as nanoseconds; 0 if unreadable."""
    match = _TIMESPAN.match(value.strip()) if value else None
    if match is None:
        return 0
    days, hours, minutes, seconds = match.groups()
    whole = (int(days or 0) * 24 + int(hours)) * 3600 + int(minutes) * 60
    return whole * _NS_PER_SECOND + round(float(seconds) * _NS_PER_SECOND)


def count_attr(label: str, element: Element, name: str, default: int = 0) -> int:
    """A non-negative whole-number attribute, or a MalformedReport naming the element."""
    raw = element.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise MalformedReport(
            label, f"<{element.tag}> has {name}={raw!r}, which is not a whole number"
        ) from None
    if value < 0:
        raise MalformedReport(label, f"<{element.tag}> has a negative {name} ({value})")
    return value


def clip(text: str | None) -> str | None:
    """A message cut to MAX_MESSAGE_CHARS (stack traces can be huge); None when empty."""
    if not text:
        return None
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    return text[: MAX_MESSAGE_CHARS - 14] + " … (truncated)"


def join_message(*parts: str | None) -> str | None:
    """A message from a summary and its details, skipping blanks and repeats."""
    kept: list[str] = []
    for part in parts:
        text = (part or "").strip()
        if text and text not in kept:
            kept.append(text)
    return clip("\n".join(kept))
