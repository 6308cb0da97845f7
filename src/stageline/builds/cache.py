"""``cache.paths``: files kept between builds of one project.

A cache path is a glob; an absolute one (``/root/.m2/**/*``) names files on
the build machine, a relative one (``node_modules/**/*``) files under the
source directory. A path without glob characters naming a directory means
everything in it. The cache directory of a project holds them in two trees,
``root/`` (absolute paths, with the leading ``/`` removed) and ``src/``
(relative paths), so no pattern can make the cache write outside its own
directory: ``..`` is refused and each pattern is walked only from its literal
prefix (``/root/.m2``), never from ``/``.

Saving builds a new tree beside the old one and swaps it in with renames, so
a build that dies while saving leaves the previous cache intact. Restoring
copies the trees back over the source directory and over ``fs_root`` (``/``
on a real machine; tests and container executors pass another directory),
cached files replacing files of the same name, as CodeBuild's local cache does.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

from stageline.artifacts.globs import glob_to_regex
from stageline.builds.buildspec import CacheSpec
from stageline.builds.environment import PROJECT_NAME
from stageline.builds.errors import CacheError

_GLOB_CHARS = re.compile(r"[*?\[]")
_TREES = ("src", "root")


def project_cache_dir(cache_root: Path, project: str) -> Path:
    """The cache directory of ``project`` under ``cache_root``."""
    if not PROJECT_NAME.fullmatch(project):
        raise CacheError(f"project name {project!r} cannot name a cache directory")
    return cache_root / project


def save_cache(
    spec: CacheSpec, *, cache_dir: Path, source_dir: Path, fs_root: Path = Path("/")
) -> int:
    """Replace the project's cache with the files ``spec.paths`` match now; returns how many."""
    staging = cache_dir.with_name(f".{cache_dir.name}.new-{secrets.token_hex(4)}")
    count = 0
    try:
        for pattern in spec.paths:
            tree, base, prefix, regex = _mapping(pattern, source_dir, fs_root)
            for rel, path in _matching(base, prefix, regex):
                dest = staging / tree / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                if os.path.lexists(dest):
                    continue  # two patterns matched the same file
                if path.is_symlink():
                    os.symlink(os.readlink(path), dest)
                else:
                    shutil.copy2(path, dest)
                count += 1
        staging.mkdir(parents=True, exist_ok=True)
        old = cache_dir.with_name(f".{cache_dir.name}.old-{secrets.token_hex(4)}")
        if cache_dir.exists():
            cache_dir.rename(old)
        staging.rename(cache_dir)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return count


def restore_cache(cache_dir: Path, *, source_dir: Path, fs_root: Path = Path("/")) -> int:
    """Copy a saved cache back into place; returns how many files (0 when there is none)."""
    count = 0
    for tree, target in zip(_TREES, (source_dir, fs_root), strict=True):
        saved = cache_dir / tree
        if not saved.is_dir():
            continue
        for rel, path in _matching(saved, "", None):
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            if os.path.lexists(dest) and not dest.is_dir():
                dest.unlink()
            if path.is_symlink():
                os.symlink(os.readlink(path), dest)
            else:
                shutil.copy2(path, dest)
            count += 1
    return count


def _mapping(
    pattern: str, source_dir: Path, fs_root: Path
) -> tuple[str, Path, str, re.Pattern[str] | None]:
    """(tree, base directory, literal prefix, regex over paths relative to base or None)."""
    absolute = pattern.startswith("/")
    rel = pattern.lstrip("/")
    if not rel:
        raise CacheError(f"cache path {pattern!r} would cache the whole machine; name a directory")
    try:
        regex = glob_to_regex(rel)
    except ValueError as exc:
        raise CacheError(f"cache path {pattern!r}: {exc}") from None
    segments = [s for s in rel.split("/") if s not in ("", ".")]
    literal: list[str] = []
    for segment in segments:
        if _GLOB_CHARS.search(segment):
            break
        literal.append(segment)
    whole = len(literal) == len(segments)
    tree, base = ("root", fs_root) if absolute else ("src", source_dir)
    # No glob at all: the named file, or everything in the named directory.
    return tree, base, "/".join(literal), (None if whole else regex)


def _matching(base: Path, prefix: str, regex: re.Pattern[str] | None) -> Iterator[tuple[str, Path]]:
    """Files and symlinks under ``base/prefix`` (links not followed) matching ``regex``."""
    start = base / prefix if prefix else base
    try:
        st = start.lstat()
    except OSError:
        return
    if not stat.S_ISDIR(st.st_mode):
        if regex is None or regex.fullmatch(prefix):
            yield prefix, start
        return
    stack = [(prefix, start)]
    while stack:
        rel_dir, directory = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.is_dir(follow_symlinks=False):
                stack.append((rel, Path(entry.path)))
            elif regex is None or regex.fullmatch(rel):
                yield rel, Path(entry.path)
