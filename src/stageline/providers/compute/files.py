"""Choosing the files of an output artifact by glob, the way CodeBuild's ``artifacts.files`` does.

Patterns are relative to the directory the commands ran in and use ``/``:

* ``*`` matches within one path segment (dotfiles included), ``?`` one
  character, ``[abc]`` / ``[!abc]`` a class;
* ``**`` as a whole segment matches any number of directories, zero included,
  so ``**/*`` is every file and ``**/*.txt`` every ``.txt`` at any depth;
* a pattern whose last segment names a directory without wildcards takes
  everything under it (``dist``, ``dist/`` and ``dist/**/*`` are the same),
  while ``dist/*`` is only the files directly in ``dist``, as in CodeBuild;
  ``**``, ``**/`` and ``**/*`` are everything.

Absolute patterns and ``..`` are refused: an artifact holds files of the
workspace, nothing else. Symbolic links are not followed out of the
directory: a link to a file inside it is copied as that file, anything else
(a link leading outside, a link to a directory, a dangling link) is skipped
and reported, so ``ln -s /etc secrets`` cannot export the agent's files.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


class PatternError(ValueError):
    """A ``files`` pattern that cannot name files of the workspace."""


def _segment(segment: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = segment.find("]", i + 2 if segment[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end < 0:
                out.append(re.escape(char))
            else:
                body = segment[i + 1 : end]
                negate = body.startswith("!")
                if negate:
                    body = body[1:]
                # Escape all but ranges, so no character gets a regex meaning ('^', '[', '&&').
                escaped = "".join(c if c == "-" else re.escape(c) for c in body if c != "/")
                out.append("[" + ("^/" if negate else "") + escaped + "]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Glob:
    pattern: str
    regex: re.Pattern[str]
    directories_only: bool
    # Whether a directory it matches brings its whole subtree: `dist` and `dist/` do,
    # `d/*` does not (CodeBuild: "all files in d", not below it).
    takes_subtree: bool

    @classmethod
    def compile(cls, pattern: str) -> Glob:
        text = pattern.strip()
        if not text:
            raise PatternError("an empty pattern names no files")
        if text.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", text):
            raise PatternError(f"pattern {pattern!r} is absolute; patterns are relative paths")
        directories_only = text.endswith("/")
        parts = [p for p in text.strip("/").split("/") if p not in ("", ".")]
        if ".." in parts:
            raise PatternError(f"pattern {pattern!r} leaves the directory with '..'")
        if not parts or parts == ["**"]:
            parts, directories_only = ["**"], False
        takes_subtree = directories_only or not any(c in parts[-1] for c in "*?[")
        regex = ""
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if part == "**":
                regex += ".*" if last else "(?:[^/]+/)*"
            else:
                regex += _segment(part) + ("" if last else "/")
        return cls(pattern, re.compile(regex, re.DOTALL), directories_only, takes_subtree)

    def matches(self, path: str, *, is_dir: bool) -> bool:
        if self.directories_only and not is_dir:
            return False
        return self.regex.fullmatch(path) is not None


def compile_patterns(patterns: Iterable[str]) -> list[Glob]:
    return [Glob.compile(p) for p in patterns]


def _selected(path: str, globs: Sequence[Glob]) -> bool:
    if any(g.matches(path, is_dir=False) for g in globs):
        return True
    parent = path
    while "/" in parent:  # a matched ancestor directory takes the whole subtree
        parent = parent.rsplit("/", 1)[0]
        if any(g.takes_subtree and g.matches(parent, is_dir=True) for g in globs):
            return True
    return False


@dataclass(frozen=True, kw_only=True)
class CopyReport:
    copied: int
    skipped_links: tuple[str, ...]


def copy_matching(
    source: Path, destination: Path, globs: Sequence[Glob], *, exclude: Iterable[Path] = ()
) -> CopyReport:
    """Copy the files under ``source`` selected by ``globs`` into ``destination``, keeping paths.

    ``exclude`` lists directories never to descend into (output directories that
    happen to lie inside ``source``).
    """
    root = source.resolve()
    excluded = {p.resolve() for p in exclude}
    copied = 0
    skipped: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):  # followlinks=False: no loops, no escape
        current = Path(dirpath)
        relative_dir = current.relative_to(root).as_posix()
        prefix = "" if relative_dir == "." else relative_dir + "/"
        kept = []
        for name in sorted(dirnames):
            child = current / name
            if child.resolve() in excluded:
                continue
            if child.is_symlink():
                if _selected(prefix + name, globs):
                    skipped.append(prefix + name)
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            relative = prefix + name
            if not _selected(relative, globs):
                continue
            file = current / name
            if file.is_symlink():
                target = file.resolve()
                if not target.is_file() or not target.is_relative_to(root):
                    skipped.append(relative)
                    continue
            elif not file.is_file():  # a fifo or socket a command left behind
                continue
            out = destination / relative
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, out)
            copied += 1
    return CopyReport(copied=copied, skipped_links=tuple(skipped))
