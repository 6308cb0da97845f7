"""Zip a workspace directory into an artifact, the way CodeBuild's ``artifacts`` section does.

The archive is written as a stream: each file is copied into the zip in 1 MiB
chunks, and ``dest`` may be any writable binary stream (a file, or an upload
pipe that cannot seek), so memory stays flat whatever the size (DESIGN.md §2.6).

``include``/``exclude`` are the buildspec's ``files`` and ``exclude-paths``
globs (see :mod:`stageline.artifacts.globs`), applied to paths relative to
``base_directory`` (``base-directory``); ``discard_paths`` is ``discard-paths``.
A symlink is stored as a symlink only if what it points to stays inside the
archived directory, because extraction (:func:`extract_zip`) refuses any other;
``follow_symlinks=True`` (``enable-symlinks: no``) archives what links point to.

Extraction lives in :mod:`stageline.artifacts.extraction` and is re-exported here.
"""

from __future__ import annotations

import contextlib
import io
import os
import posixpath
import stat
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from stageline.artifacts.extraction import ExtractSummary, UnsafeArchiveError, extract_zip
from stageline.artifacts.globs import PathFilter

__all__ = [
    "ExtractSummary",
    "PackagingError",
    "UnsafeArchiveError",
    "ZipSummary",
    "extract_zip",
    "zip_directory",
]

#: Bytes copied per read from a source file into the archive.
CHUNK_BYTES = 1024 * 1024
# zipfile picks the ZIP64 format from the size it is told up front; a file that
# grows while being read must not cross the 4 GiB line without it.
_ZIP64_ABOVE = 1024**3

_Kind = Literal["file", "empty_dir", "symlink", "special"]


class PackagingError(ValueError):
    """The directory cannot be archived as asked; the message names the path and the fix."""


@dataclass(frozen=True, kw_only=True)
class ZipSummary:
    """What went into an archive: entry counts and the bytes of file content."""

    files: int
    directories: int
    symlinks: int
    bytes: int
    #: Sockets, FIFOs and device files that matched but cannot go in a zip.
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Entry:
    rel: str  # '/'-separated, relative to the archive root
    path: str  # where to read it on disk
    kind: _Kind
    st: os.stat_result


def zip_directory(
    src: Path,
    dest: BinaryIO,
    *,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    discard_paths: bool = False,
    base_directory: str | None = None,
    follow_symlinks: bool = False,
) -> ZipSummary:
    """Write the matching files under ``src`` (or ``src/base_directory``) to ``dest`` as a zip.

    ``include=None`` takes everything (``**/*``). Only empty directories get
    entries of their own; others are implied by their files. Nothing matching
    is not an error here: the summary says ``files=0`` and the caller decides.
    Raises :class:`PackagingError` for a symlink that leaves the archive, a
    ``discard_paths`` name collision or a missing base directory; on error,
    ``dest`` holds a partial archive the caller must discard.
    """
    root = _archive_root(Path(src), base_directory)
    wanted = PathFilter(include, exclude)
    own_archive = _identity(dest)
    taken: dict[str, str] = {}  # archive name -> relative path it came from
    files = directories = symlinks = total = 0
    skipped: list[str] = []
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in _walk(root, follow_symlinks):
            if not wanted.matches(entry.rel):
                continue
            if entry.kind == "special":
                skipped.append(entry.rel)
                continue
            if entry.kind == "empty_dir":
                if not discard_paths:
                    archive.mkdir(_zipinfo(_name(entry.rel) + "/", entry.st))
                    directories += 1
                continue
            if (entry.st.st_dev, entry.st.st_ino) == own_archive:
                continue  # the archive being written sits inside the tree it archives
            name = _name(posixpath.basename(entry.rel) if discard_paths else entry.rel)
            if name in taken:
                raise PackagingError(
                    f"discard_paths puts both {taken[name]!r} and {entry.rel!r} at {name!r} "
                    "in the artifact; rename one, exclude one, or keep the paths"
                )
            taken[name] = entry.rel
            if entry.kind == "symlink":
                if discard_paths:
                    raise PackagingError(
                        f"symlink {entry.rel!r} cannot be kept with discard_paths: its target "
                        "would no longer resolve once paths are flattened; archive what it "
                        "points to with follow_symlinks=True, or exclude it"
                    )
                target = _symlink_target(root, entry)
                info = _zipinfo(name, entry.st)
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                info.compress_type = zipfile.ZIP_STORED
                archive.writestr(info, os.fsencode(target))
                symlinks += 1
            else:
                total += _add_file(archive, name, entry, follow_symlinks)
                files += 1
    return ZipSummary(
        files=files, directories=directories, symlinks=symlinks, bytes=total, skipped=tuple(skipped)
    )


def _add_file(archive: zipfile.ZipFile, name: str, entry: _Entry, follow: bool) -> int:
    """Copy one file into the archive in chunks; return the bytes copied."""
    info = _zipinfo(name, entry.st)
    info.compress_type = zipfile.ZIP_DEFLATED
    copied = 0
    with (
        _open_source(entry.path, follow) as source,
        archive.open(info, "w", force_zip64=entry.st.st_size > _ZIP64_ABOVE) as out,
    ):
        while chunk := source.read(CHUNK_BYTES):
            out.write(chunk)
            copied += len(chunk)
    return copied


def _open_source(path: str, follow: bool) -> BinaryIO:
    """Open a file to archive; without ``follow``, refuse one swapped for a symlink since the walk."""
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    return os.fdopen(os.open(path, flags), "rb")


def _walk(root: str, follow: bool) -> Iterator[_Entry]:
    """Everything under ``root`` in sorted order, without descending into symlinks unless asked.

    Following symlinks keeps the chain of directories above each one, so a link
    back to an ancestor is reported instead of being followed forever.
    """
    root_st = os.stat(root)
    stack: list[tuple[str, str, tuple[tuple[int, int], ...]]] = [
        ("", root, ((root_st.st_dev, root_st.st_ino),))
    ]
    while stack:
        rel_dir, abs_dir, ancestors = stack.pop()
        with os.scandir(abs_dir) as scan:
            children = sorted(scan, key=lambda child: child.name)
        if not children and rel_dir:
            yield _Entry(rel_dir, abs_dir, "empty_dir", os.stat(abs_dir))
        subdirs: list[tuple[str, str, tuple[tuple[int, int], ...]]] = []
        for child in children:
            rel = f"{rel_dir}/{child.name}" if rel_dir else child.name
            st = child.stat(follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                if not follow:
                    yield _Entry(rel, child.path, "symlink", st)
                    continue
                st = _follow(rel, child.path)
            if stat.S_ISDIR(st.st_mode):
                identity = (st.st_dev, st.st_ino)
                if identity in ancestors:
                    raise PackagingError(
                        f"symlink {rel!r} leads back to a directory that contains it; following "
                        "it would never end (exclude it, or archive with follow_symlinks=False)"
                    )
                subdirs.append((rel, child.path, (*ancestors, identity)))
            elif stat.S_ISREG(st.st_mode):
                yield _Entry(rel, child.path, "file", st)
            else:
                yield _Entry(rel, child.path, "special", st)
        stack.extend(reversed(subdirs))


def _follow(rel: str, path: str) -> os.stat_result:
    try:
        return os.stat(path)
    except OSError as exc:
        raise PackagingError(
            f"symlink {rel!r} points to {os.readlink(path)!r}, which cannot be followed "
            f"({exc.strerror}); fix or exclude the link"
        ) from None


def _symlink_target(root: str, entry: _Entry) -> str:
    """The target to store for a symlink, relative, after checking it stays inside ``root``.

    Checked twice: lexically, as extraction will check it, and on disk, so a
    link that reaches outside through another symlink is refused too. An
    absolute target inside the tree is stored relative, so it still resolves
    wherever the artifact is extracted.
    """
    target = os.readlink(entry.path)
    real_root = os.path.realpath(root)
    stored = target
    if os.path.isabs(target):
        real_target = os.path.realpath(target)
        if _inside(real_target, real_root):
            link_dir = os.path.realpath(os.path.dirname(entry.path))
            stored = os.path.relpath(real_target, link_dir).replace(os.sep, "/")
    lexical = posixpath.normpath(posixpath.join(posixpath.dirname(entry.rel), stored))
    escapes = os.path.isabs(stored) or lexical == ".." or lexical.startswith("../")
    if escapes or not _inside(os.path.realpath(entry.path), real_root):
        raise PackagingError(
            f"symlink {entry.rel!r} points to {target!r}, outside the directory being "
            "archived; only links that stay inside it can be kept (exclude it, or archive "
            "what it points to with follow_symlinks=True)"
        )
    return stored


def _archive_root(src: Path, base_directory: str | None) -> str:
    """``src`` or ``src/base_directory``, refusing a base directory that leaves ``src``."""
    src_abs = os.path.abspath(src)
    if not os.path.isdir(src_abs):
        raise PackagingError(f"{str(src)!r} is not a directory; nothing to archive")
    if base_directory is None or base_directory.strip("/") in ("", "."):
        return src_abs
    segments = [s for s in base_directory.split("/") if s not in ("", ".")]
    if "\\" in base_directory or ".." in segments or base_directory.startswith("/"):
        raise PackagingError(
            f"base directory {base_directory!r} must be a relative path inside the "
            "workspace, with '/' separators and no '..'"
        )
    root = os.path.join(src_abs, *segments)
    if not os.path.isdir(root):
        raise PackagingError(
            f"base directory {base_directory!r} does not exist in the workspace; "
            "check the path, or create it in the build"
        )
    if not _inside(os.path.realpath(root), os.path.realpath(src_abs)):
        raise PackagingError(
            f"base directory {base_directory!r} leads outside the workspace through a symlink"
        )
    return root


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _name(rel: str) -> str:
    """An archive member name; zip names are UTF-8, so undecodable file names are refused."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        raise PackagingError(
            f"file name {rel!r} is not valid UTF-8 and cannot be stored in a zip; rename it"
        ) from None
    return rel


def _zipinfo(name: str, st: os.stat_result) -> zipfile.ZipInfo:
    """A member header keeping the real mode and mtime (clamped to what zip can hold)."""
    date_time = time.localtime(st.st_mtime)[:6]
    if date_time[0] < 1980:
        date_time = (1980, 1, 1, 0, 0, 0)
    elif date_time[0] > 2107:
        date_time = (2107, 12, 31, 23, 59, 59)
    info = zipfile.ZipInfo(name, date_time)
    info.create_system = 3  # Unix, so extractors read the mode bits
    info.external_attr = (st.st_mode & 0xFFFF) << 16
    if name.endswith("/"):
        info.external_attr |= 0x10  # MS-DOS directory flag
        info.CRC = 0
    else:
        info.file_size = st.st_size
    return info


def _identity(stream: BinaryIO) -> tuple[int, int] | None:
    with contextlib.suppress(AttributeError, OSError, io.UnsupportedOperation):
        st = os.fstat(stream.fileno())
        return (st.st_dev, st.st_ino)
    return None
