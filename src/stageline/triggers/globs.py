"""The glob patterns of V2 trigger filters, read as CodePipeline reads them.

CodePipeline's rules ("Working with glob patterns in syntax") are those of
Java's ``PathMatcher`` glob syntax, and a pattern must match the whole name:

- ``*`` is zero or more characters within one path segment (never ``/``);
- ``**`` is zero or more characters across segments, so ``feature/**`` matches
  ``feature/a`` and ``feature/a/b``. It is plain ``.*``: ``**/README.md`` needs
  at least one directory and does not match a ``README.md`` at the root;
- ``?`` is one character other than ``/``;
- ``[abc]``, ``[a-z]``, ``[!a-c]`` is one character of (or not of) a set; inside
  the brackets ``*``, ``?`` and ``\\`` are themselves, and ``-`` first (or right
  after ``!``) is itself;
- ``{a,b}`` is any of the comma-separated sub-patterns; groups do not nest;
- ``\\`` makes the next character literal.

A pattern that breaks these rules (an unclosed ``[`` or ``{``, a nested group,
a trailing ``\\``) raises :class:`GlobError`, which the declaration checks
report against the field that holds it.
"""

from __future__ import annotations

import re
from functools import lru_cache

SPECIAL = set("\\^$.|?*+()[]{}")


class GlobError(ValueError):
    """A pattern that is not a valid glob; the message says where and why."""


@lru_cache(maxsize=1024)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """The regular expression that matches exactly what ``pattern`` matches."""
    out: list[str] = []
    in_group = False
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "\\":
            if i >= n:
                raise GlobError(f"glob {pattern!r} ends with '\\', which escapes nothing")
            out.append(re.escape(pattern[i]))
            i += 1
        elif c == "/":
            out.append("/")
        elif c == "[":
            i = _bracket(pattern, i, out)
        elif c == "{":
            if in_group:
                raise GlobError(f"glob {pattern!r} nests a '{{' group inside another")
            out.append("(?:(?:")
            in_group = True
        elif c == "}" and in_group:
            out.append("))")
            in_group = False
        elif c == "," and in_group:
            out.append(")|(?:")
        elif c == "*":
            if i < n and pattern[i] == "*":
                out.append(".*")
                i += 1
            else:
                out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        else:
            out.append("\\" + c if c in SPECIAL else c)
    if in_group:
        raise GlobError(f"glob {pattern!r} opens a '{{' group that is never closed with '}}'")
    return re.compile("".join(out), re.DOTALL)


def _bracket(pattern: str, i: int, out: list[str]) -> int:
    """Translate the bracket expression starting after the '[' at ``i - 1``."""
    n = len(pattern)
    parts = ["[^/"] if i < n and pattern[i] == "!" else ["["]
    if parts == ["[^/"]:
        i += 1
    elif i < n and pattern[i] == "^":
        parts.append("\\^")
        i += 1
    if i < n and pattern[i] == "-":
        parts.append("\\-")
        i += 1
    previous = ""
    closed = False
    while i < n:
        c = pattern[i]
        i += 1
        if c == "]":
            closed = True
            break
        if c == "/":
            raise GlobError(f"glob {pattern!r} puts '/' inside [...], which cannot match it")
        if c == "-" and previous and i < n and pattern[i] != "]":
            high = pattern[i]
            i += 1
            if high < previous:
                raise GlobError(f"glob {pattern!r} has an empty range [{previous}-{high}]")
            parts.append("-" + _class_char(high))
            previous = ""
            continue
        parts.append(_class_char(c))
        previous = c
    if not closed:
        raise GlobError(f"glob {pattern!r} opens a '[' that is never closed with ']'")
    if len(parts) == 1 and parts[0] == "[":
        raise GlobError(f"glob {pattern!r} has an empty [] set")
    out.append("".join(parts) + "]")
    return i


def _class_char(c: str) -> str:
    return "\\" + c if c in "\\^-[]" else c


def matches(pattern: str, text: str) -> bool:
    """True when ``pattern`` matches all of ``text``."""
    return compile_glob(pattern).fullmatch(text) is not None


def check(pattern: str) -> None:
    """Raise GlobError when ``pattern`` is not a valid glob."""
    compile_glob(pattern)
