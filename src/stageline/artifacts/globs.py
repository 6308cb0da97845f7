"""Glob patterns as CodeBuild's buildspec ``artifacts.files`` and ``exclude-paths`` read them.

``*`` and ``?`` stay within one path segment, ``**`` as a whole segment spans
any number of segments (none included), and ``[...]`` is a character class. So
``*.txt`` matches only top-level files, ``**/*`` everything, ``src/**/*.js``
``src/a.js`` as well as ``src/x/y/a.js``. Dotfiles are not special: CodeBuild
archives them like any other file. Python 3.11's ``fnmatch`` lets ``*`` cross
``/`` and ``PurePath.full_match`` arrives only in 3.13, hence this translator.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Compile one pattern into a regex matched against a '/'-separated relative path.

    Raises ``ValueError`` naming the pattern when it could reach outside the
    directory it is applied to (absolute, ``..``) or uses a backslash.
    """
    segments = _segments(pattern)
    parts: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            # At the end, "dir/**" is everything below dir; inside, zero or more segments.
            parts.append(".+" if last else "(?:[^/]+/)*")
        else:
            parts.append(_translate_segment(segment) + ("" if last else "/"))
    return re.compile("".join(parts), re.DOTALL)


def _segments(pattern: str) -> list[str]:
    if not pattern or not pattern.strip():
        raise ValueError("an empty artifact path pattern matches nothing; remove it")
    if "\\" in pattern:
        raise ValueError(f"artifact path pattern {pattern!r} contains a backslash; use '/'")
    if pattern.startswith("/"):
        raise ValueError(
            f"artifact path pattern {pattern!r} is absolute; patterns are relative "
            "to the base directory"
        )
    trailing_slash = pattern.endswith("/")
    segments = [s for s in pattern.split("/") if s not in ("", ".")]
    if ".." in segments:
        raise ValueError(
            f"artifact path pattern {pattern!r} contains '..'; patterns cannot reach "
            "outside the base directory"
        )
    if trailing_slash:
        segments.append("**")  # "dir/" means everything in dir
    if not segments:
        raise ValueError(f"artifact path pattern {pattern!r} matches nothing; use '**/*'")
    return segments


def _translate_segment(segment: str) -> str:
    """Translate one segment; '**' inside a longer segment acts as '*'."""
    out: list[str] = []
    i, n = 0, len(segment)
    while i < n:
        char = segment[i]
        if char == "*":
            while i + 1 < n and segment[i + 1] == "*":
                i += 1
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = _class_end(segment, i)
            if end < 0:
                out.append(re.escape(char))
            else:
                body = segment[i + 1 : end]
                negate = body[:1] in ("!", "^")
                if negate:
                    body = body[1:]
                body = body.replace("\\", "\\\\").replace("[", "\\[")
                out.append(f"(?!/)[{'^' if negate else ''}{body}]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def _class_end(segment: str, start: int) -> int:
    """Index of the ']' closing the class opened at ``start``, or -1 (then '[' is literal)."""
    i = start + 1
    if i < len(segment) and segment[i] in ("!", "^"):
        i += 1
    if i < len(segment) and segment[i] == "]":
        i += 1  # a leading ']' is a member, as in fnmatch
    end = segment.find("]", i)
    return end


@dataclass(frozen=True)
class PathFilter:
    """Which relative paths an artifact takes: any ``include`` pattern, then no ``exclude``.

    ``include=None`` means everything, as ``files: ['**/*']`` does.
    """

    include: Sequence[str] | None = None
    exclude: Sequence[str] = ()
    _include: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    _exclude: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.include, str) or isinstance(self.exclude, str):
            # A bare string would be iterated character by character.
            raise TypeError("include and exclude take a sequence of patterns, not a string")
        include = tuple(glob_to_regex(p) for p in self.include or ())
        object.__setattr__(self, "_include", include)
        object.__setattr__(self, "_exclude", tuple(glob_to_regex(p) for p in self.exclude))

    def matches(self, path: str) -> bool:
        """Whether the '/'-separated relative ``path`` belongs in the artifact."""
        if self.include is not None and not any(r.fullmatch(path) for r in self._include):
            return False
        return not any(r.fullmatch(path) for r in self._exclude)
