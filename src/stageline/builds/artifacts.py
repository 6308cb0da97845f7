"""Choosing a build's output files the way the buildspec's ``artifacts`` section describes.

Paths are relative to the source directory (``CODEBUILD_SRC_DIR``) or, when
set, to ``base-directory``, which may itself be a glob matching several
directories (``'my-build*'``); the matched directories themselves are not
part of the artifact, only what is below them. ``files`` and
``exclude-paths`` use the globs of :mod:`stageline.artifacts.globs`;
``discard-paths: yes`` flattens everything to file names, and two files with
one name is an error rather than one silently replacing the other.
``enable-symlinks: yes`` keeps symlinks that point inside the base directory
as symlinks; otherwise (and for links that point outside) what a link points
to is taken. A dangling link is skipped.

As in CodeBuild, an artifact that matches nothing fails the upload with
``CLIENT_ERROR: no matching artifact paths found``, and a base directory that
matches nothing with ``no matching base directory path found for <dir>``.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from stageline.artifacts.globs import PathFilter, glob_to_regex
from stageline.builds.buildspec import ArtifactSpec
from stageline.builds.errors import ArtifactError
from stageline.builds.results import ArtifactOutput

_GLOB_CHARS = re.compile(r"[*?\[]")


@dataclass(frozen=True, kw_only=True)
class ArtifactFile:
    """One file of an artifact: where it is read from and its path inside the artifact."""

    source: Path
    archive_path: str
    #: Set when the entry is kept as a symlink (``enable-symlinks: yes``): the link's text.
    link_target: str | None = None


def select_files(source_dir: Path, spec: ArtifactSpec) -> list[ArtifactFile]:
    """The files ``spec`` takes from ``source_dir``, sorted; raises :class:`ArtifactError`."""
    wanted = PathFilter(list(spec.files), list(spec.exclude_paths))
    taken: dict[str, ArtifactFile] = {}
    origin: dict[str, str] = {}
    for root in base_directories(source_dir, spec.base_directory):
        # A kept link's relative text would not resolve once paths are flattened.
        keep_links = spec.enable_symlinks and not spec.discard_paths
        for rel, path, link in _walk(root, keep_links=keep_links):
            if not wanted.matches(rel):
                continue
            name = posixpath.basename(rel) if spec.discard_paths else rel
            where = str(path.relative_to(source_dir)) if path.is_relative_to(source_dir) else rel
            if name in taken:
                how = (
                    "discard-paths: yes puts" if spec.discard_paths else "two base directories put"
                )
                raise ArtifactError(
                    f"{how} both {origin[name]!r} and {where!r} at {name!r} in the artifact"
                    f"{_label(spec)}; exclude one of them or keep the paths"
                )
            taken[name] = ArtifactFile(source=path, archive_path=name, link_target=link)
            origin[name] = where
    if not taken:
        raise ArtifactError(f"no matching artifact paths found{_label(spec)}")
    return [taken[name] for name in sorted(taken)]


def base_directories(source_dir: Path, base_directory: str | None) -> list[Path]:
    """The directories paths are relative to: the source dir, or those ``base_directory`` names."""
    if base_directory is None:
        return [source_dir]
    pattern = base_directory.strip("/")
    if not _GLOB_CHARS.search(pattern):
        root = source_dir / pattern
        if root.is_dir() and _inside(root, source_dir):
            return [root]
        raise ArtifactError(f"no matching base directory path found for {base_directory}")
    regex = glob_to_regex(pattern)
    depth = None if "**" in pattern else pattern.count("/") + 1
    found = [
        source_dir / rel
        for rel in _directories(source_dir, depth)
        if regex.fullmatch(rel) and _inside(source_dir / rel, source_dir)
    ]
    if not found:
        raise ArtifactError(f"no matching base directory path found for {base_directory}")
    return sorted(found)


def copy_files(files: list[ArtifactFile], out_dir: Path) -> int:
    """Copy ``files`` under ``out_dir`` at their archive paths; returns how many."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for item in files:
        dest = out_dir.joinpath(*item.archive_path.split("/"))
        dest.parent.mkdir(parents=True, exist_ok=True)
        if item.link_target is not None:
            os.symlink(item.link_target, dest)
        else:
            shutil.copy2(item.source, dest)
    return len(files)


def produce_artifacts(
    source_dir: Path,
    spec: ArtifactSpec,
    out_root: Path,
    names: Mapping[str | None, str | None] | None = None,
) -> list[ArtifactOutput]:
    """Copy the primary artifact to ``out_root/primary`` and each secondary one to
    ``out_root/secondary/<identifier>``. ``names`` are the expanded ``name`` values."""
    names = names or {}
    outputs: list[ArtifactOutput] = []
    for item in (spec, *spec.secondary):
        if item.identifier is None:
            directory = out_root / "primary"
        else:
            directory = out_root / "secondary" / item.identifier
        count = copy_files(select_files(source_dir, item), directory)
        outputs.append(
            ArtifactOutput(
                identifier=item.identifier,
                name=names.get(item.identifier, item.name),
                directory=directory,
                files=count,
            )
        )
    return outputs


def _label(spec: ArtifactSpec) -> str:
    return "" if spec.identifier is None else f" (secondary artifact {spec.identifier})"


def _inside(path: Path, root: Path) -> bool:
    real, real_root = os.path.realpath(path), os.path.realpath(root)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def _directories(root: Path, depth: int | None) -> Iterator[str]:
    """Relative paths of directories under ``root`` (not following links), down to ``depth``."""
    stack: list[tuple[str, Path, int]] = [("", root, 0)]
    while stack:
        rel, path, level = stack.pop()
        if depth is not None and level >= depth:
            continue
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                child = f"{rel}/{entry.name}" if rel else entry.name
                yield child
                stack.append((child, Path(entry.path), level + 1))


def _walk(root: Path, *, keep_links: bool) -> Iterator[tuple[str, Path, str | None]]:
    """``(relative path, path, link text or None)`` for every file under ``root``.

    Links are kept (not followed) only with ``keep_links`` and only when they
    resolve inside ``root``; followed directory links carry the chain of
    directories above them so a link back to an ancestor is not followed forever.
    """
    real_root = os.path.realpath(root)
    root_st = os.stat(root)
    stack: list[tuple[str, Path, frozenset[tuple[int, int]]]] = [
        ("", root, frozenset({(root_st.st_dev, root_st.st_ino)}))
    ]
    while stack:
        rel_dir, directory, ancestors = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            path = Path(entry.path)
            if entry.is_symlink():
                real = os.path.realpath(path)
                internal = real == real_root or real.startswith(real_root + os.sep)
                if keep_links and internal and os.path.exists(path):
                    target = os.readlink(path)
                    if os.path.isabs(target):  # keep it valid wherever the artifact lands
                        target = os.path.relpath(real, os.path.realpath(path.parent))
                    yield rel, path, target
                    continue
                try:
                    st = os.stat(path)
                except OSError:
                    continue  # dangling: nothing to take
            else:
                st = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                identity = (st.st_dev, st.st_ino)
                if identity not in ancestors:
                    subdirs.append((rel, path, ancestors | {identity}))
            elif stat.S_ISREG(st.st_mode):
                yield rel, path, None
        stack.extend(reversed(subdirs))


__all__ = [
    "ArtifactFile",
    "base_directories",
    "copy_files",
    "produce_artifacts",
    "select_files",
]
