"""The on-disk form of one log line, and the masking of secrets before it is stored.

A record is ``<number> <epoch_ms> <text>\\n``. The text is escaped so that one
line is always one record and a file can be shown with ``cat`` without a
program's control sequences acting on the terminal: backslash, CR, LF and the
other C0 controls and DEL become ``\\\\``, ``\\r``, ``\\n`` and ``\\xHH``; tab stays.
Reading undoes the escaping, so ANSI colours and CRs come back as written.
Most lines need no escaping, which keeps writing a million lines cheap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_NEEDS_ESCAPE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\\]")
_OTHER_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]")
_ESCAPED = re.compile(r"\\(\\|n|r|x[0-9a-f]{2})")
_NAMED = {"\\": "\\\\", "\n": "\\n", "\r": "\\r"}
MASK = "***"
MIN_SECRET_LENGTH = 4


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or f"\\x{ord(char):02x}"


def _unescape_char(match: re.Match[str]) -> str:
    code = match.group(1)
    if code == "\\":
        return "\\"
    if code == "n":
        return "\n"
    if code == "r":
        return "\r"
    return chr(int(code[1:], 16))


def escape(text: str) -> str:
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    # The usual suspects (colours, progress bars) by plain replace, which is far
    # cheaper than a substitution callback per character; the rare rest after.
    text = (
        text.replace("\\", "\\\\")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\x1b", "\\x1b")
    )
    if _OTHER_CONTROLS.search(text) is None:
        return text
    return _OTHER_CONTROLS.sub(_escape_char, text)


def encode(number: int, ts_ms: int, escaped: str) -> bytes:
    """A record for text already passed through ``escape``."""
    # errors="replace": a lone surrogate from a caller must not lose the line.
    return f"{number} {ts_ms} {escaped}\n".encode("utf-8", "replace")


def decode(record: bytes) -> tuple[int, int, str] | None:
    """Parse a record without its newline; None when it is not one of ours."""
    parts = record.split(b" ", 2)
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    text = parts[2].decode("utf-8", "replace")
    if "\\" in text:
        text = _ESCAPED.sub(_unescape_char, text)
    return int(parts[0]), int(parts[1]), text


class SecretMasker:
    """Replaces every occurrence of each secret value with ``***``.

    Values shorter than four characters are ignored: masking every "1" or
    "yes" would wreck the log and protect nothing. A multi-line value (a PEM
    key) is also masked line by line, since output reaches the log one line
    at a time. Longer values are replaced first so a secret that contains
    another is masked whole.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values: set[str] = set()
        for secret in secrets:
            if not isinstance(secret, str):
                continue
            values.add(secret)
            if "\n" in secret:
                values.update(part.strip("\r") for part in secret.split("\n"))
        self._values = sorted(
            (v for v in values if len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True
        )

    def __bool__(self) -> bool:
        return bool(self._values)

    def mask(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        return text
