"""Log lines for people: what a terminal would leave on screen, with UTC times."""

from __future__ import annotations

import pytest

from stageline.logs.text import plain, timestamp


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text", "plain text"),
        ("\x1b[1;31mbold red\x1b[0m", "bold red"),
        ("\x1b]0;window title\x07after", "after"),
        ("\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("\x1b[2K\x1b[1Gcleared", "cleared"),
        ("windows line\r", "windows line"),
        ("10%\r50%\r100%", "100%"),
        ("a\rb\nc\rd", "b\nd"),
        ("tab\tand é ✓", "tab\tand é ✓"),
    ],
)
def test_plain(raw: str, shown: str) -> None:
    assert plain(raw) == shown


def test_timestamp_is_utc_with_milliseconds() -> None:
    assert timestamp(1_700_000_000_007) == "2023-11-14T22:13:20.007Z"
    assert timestamp(0) == "1970-01-01T00:00:00.000Z"
