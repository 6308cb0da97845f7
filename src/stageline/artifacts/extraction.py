"""Safe extraction of an artifact zip into a workspace: every archive is treated as hostile.

An input artifact may come from a user's S3 upload, a custom job worker or a
build that ran someone's code, so extraction refuses (DESIGN.md §2.6):

* entries whose path is absolute, has a drive letter, a backslash, a control
  character, or climbs out of the workspace with ``..``;
* symlinks whose target resolves outside the workspace (following the other
  links, as the kernel would), and any entry under a symlink;
* more than ``max_total_bytes`` of content, counted on the bytes actually
  written, never trusting the headers; more than ``max_files`` entries, or
  files, directories and links created;
* device files, FIFOs, sockets; encrypted entries; compression methods other
  than stored and deflated (zipfile cannot bound the output of bzip2/lzma reads);
* shapes that would make the checks themselves costly: names past 4096 bytes
  or 256 levels, link targets past 4 KiB each or 16 MiB in all, a central
  directory far bigger than ``max_files`` entries need.

The work happens in three passes: check every header (:mod:`.plan`), check
every symlink target, then write files and directories in chunks and create
the symlinks last, so no file is ever written through a link. Nothing is ever
written outside ``dest``; after a refusal ``dest`` may hold partial files, and
the caller discards it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import struct
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from stageline.artifacts.plan import Entry, check_links, make_plan, refuse_size
from stageline.artifacts.rules import (
    MAX_LINK_TARGET_BYTES,
    MAX_TOTAL_LINK_TARGET_BYTES,
    UnsafeArchiveError,
    check_end_record,
    refuse,
)

__all__ = ["ExtractSummary", "UnsafeArchiveError", "extract_zip"]

#: Bytes decompressed and written per step; memory stays flat whatever the archive.
CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class ExtractSummary:
    """What an extraction created, and the bytes of file content it wrote."""

    files: int
    directories: int
    symlinks: int
    bytes: int


def extract_zip(
    source: BinaryIO | Path,
    dest: Path,
    *,
    max_total_bytes: int,
    max_files: int = 100_000,
) -> ExtractSummary:
    """Extract the zip ``source`` into ``dest`` (created if missing), refusing anything unsafe.

    Raises :class:`UnsafeArchiveError` whose message names the entry and why it
    is refused. ``max_files`` bounds the entries and also everything created,
    directories implied by deep paths included. Executable bits are kept
    (files become 0755 or 0644); setuid, setgid and sticky bits never are. A
    non-seekable stream is first spooled to a temporary file, capped near the
    size such an archive could have.
    """
    dest_dir = os.path.abspath(dest)
    os.makedirs(dest_dir, exist_ok=True)
    with os.scandir(dest_dir) as scan:
        occupied = next(scan, None) is not None
    # Headers cost ~100 bytes per entry plus names; deflate may grow data by 0.1%.
    spool_cap = max_total_bytes + max_total_bytes // 100 + max_files * 1024 + CHUNK_BYTES
    with _seekable(source, spool_cap) as fp:
        check_end_record(fp, max_files, slack=CHUNK_BYTES)
        try:
            archive = zipfile.ZipFile(fp)
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, struct.error) as exc:
            refuse(f"the artifact is not a readable zip archive ({exc})")
        with archive:
            plan = make_plan(archive.infolist(), max_files, max_total_bytes)
            writer = _Writer(archive, dest_dir, max_total_bytes, max_files)
            for link in plan.links:
                link.target = writer.read_link(link)
            check_links(plan, dest_dir if occupied else None)
            for entry in plan.entries:
                writer.entry(entry)
            for link in plan.links:
                writer.symlink(link)
    return ExtractSummary(
        files=writer.files,
        directories=writer.directories,
        symlinks=len(plan.links),
        bytes=writer.file_bytes,
    )


class _Writer:
    """Creates entries under ``dest``, counting bytes really written and paths created."""

    def __init__(self, archive: zipfile.ZipFile, dest: str, limit: int, max_paths: int) -> None:
        self.archive = archive
        self.dest = dest
        self.limit = limit
        self.max_paths = max_paths
        self.written = 0  # everything counted against the limit, link targets included
        self.link_bytes = 0
        self.file_bytes = 0
        self.files = 0
        self.directories = 0  # explicit directory entries
        self.created = 0  # files, links and directories (implied ones too)
        self._dirs: set[str] = {""}

    def read_link(self, link: Entry) -> str:
        name = link.name
        with self._reading(name), self.archive.open(link.info) as member:
            data = member.read(MAX_LINK_TARGET_BYTES + 1)
        if len(data) > MAX_LINK_TARGET_BYTES:
            refuse(f"symlink {name!r} has a target longer than {MAX_LINK_TARGET_BYTES} bytes")
        self._count(len(data))
        self.link_bytes += len(data)
        if self.link_bytes > MAX_TOTAL_LINK_TARGET_BYTES:
            refuse(
                f"archive's symlink targets add up to more than {MAX_TOTAL_LINK_TARGET_BYTES} bytes"
            )
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            refuse(f"symlink {name!r} has a target that is not valid UTF-8")

    def entry(self, entry: Entry) -> None:
        name, info = entry.name, entry.info
        with self._creating(name):
            if entry.kind == "dir":
                self._directory(entry.path, name)
                self.directories += 1
                return
            self._directory(entry.path.rpartition("/")[0], name)
            self._created()
            path = os.path.join(self.dest, entry.path)
            executable = (info.external_attr >> 16) & 0o111
            with self._reading(name), self.archive.open(info) as member, _create(path, name) as out:
                while chunk := member.read(CHUNK_BYTES):
                    self._count(len(chunk))
                    out.write(chunk)
                    self.file_bytes += len(chunk)
                out.flush()  # before utime, or the final flush would move the mtime
                os.fchmod(out.fileno(), 0o755 if executable else 0o644)
                with contextlib.suppress(OverflowError, ValueError, OSError):
                    mtime = time.mktime((*info.date_time, 0, 0, -1))
                    os.utime(out.fileno(), (mtime, mtime))
            self.files += 1

    def symlink(self, link: Entry) -> None:
        name = link.name
        with self._creating(name):
            self._directory(link.path.rpartition("/")[0], name)
            self._created()
            path = os.path.join(self.dest, link.path)
            with contextlib.suppress(FileNotFoundError):
                if stat.S_ISDIR(os.lstat(path).st_mode):
                    refuse(f"symlink {name!r} would replace the directory of the same name")
                os.unlink(path)  # something already in dest; the archive wins
            os.symlink(link.target, path)

    def _directory(self, rel: str, name: str) -> None:
        """Create ``rel`` and its parents as real directories, never through a symlink or file."""
        if rel in self._dirs:
            return
        known = rel
        while known not in self._dirs:
            known = known.rpartition("/")[0]
        todo = rel[len(known) :].lstrip("/").split("/")
        for segment in todo:
            known = f"{known}/{segment}" if known else segment
            path = os.path.join(self.dest, known)
            try:
                os.mkdir(path, 0o755)
                self._created()
            except FileExistsError:
                mode = os.lstat(path).st_mode
                if stat.S_ISLNK(mode):
                    refuse(f"entry {name!r} would be written through the symlink {known!r}")
                if not stat.S_ISDIR(mode):
                    refuse(f"entry {name!r} needs {known!r} to be a directory, but it is a file")
            self._dirs.add(known)

    def _created(self) -> None:
        self.created += 1
        if self.created > self.max_paths:
            refuse(
                f"archive would create more than {self.max_paths} files, directories and "
                "symlinks, the limit"
            )

    def _count(self, size: int) -> None:
        self.written += size
        if self.written > self.limit:
            refuse_size(self.limit)

    @contextlib.contextmanager
    def _reading(self, name: str) -> Iterator[None]:
        """Report a damaged member (bad CRC, truncated data, lying sizes) as a refusal."""
        try:
            yield
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            refuse(f"entry {name!r} is corrupt ({exc})")

    @contextlib.contextmanager
    def _creating(self, name: str) -> Iterator[None]:
        """Report a path the archive made impossible (too long, a clash) as a refusal.

        Failures that are not the archive's fault (disk full, permissions) stay OSErrors.
        """
        try:
            yield
        except (NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
            refuse(f"entry {name!r} clashes with another entry ({exc.strerror})")
        except OSError as exc:
            if exc.errno not in _ARCHIVE_ERRNOS:
                raise
            refuse(f"entry {name!r} cannot be created ({exc.strerror})")


# Errors that mean the archive asked for an impossible path, not that the disk failed.
_ARCHIVE_ERRNOS = {errno.ENAMETOOLONG, errno.ELOOP, errno.EILSEQ, errno.EINVAL}


@contextlib.contextmanager
def _create(path: str, name: str) -> Iterator[BinaryIO]:
    """A new regular file at ``path``; never opened through a symlink or into a hard link."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        mode = os.lstat(path).st_mode
        if stat.S_ISLNK(mode):
            refuse(f"entry {name!r} would be written through the symlink {name!r}")
        if stat.S_ISDIR(mode):
            refuse(f"entry {name!r} clashes with a directory of the same name")
        os.unlink(path)  # a file already in dest; the archive wins, in a fresh inode
        fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "wb") as out:
        yield out


@contextlib.contextmanager
def _seekable(source: BinaryIO | Path, cap: int) -> Iterator[BinaryIO]:
    """``source`` as a seekable stream (zipfile reads the end first), spooling a pipe to disk."""
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as opened:
            yield opened
        return
    seekable = getattr(source, "seekable", None)
    if seekable is not None and seekable():
        yield source
        return
    with tempfile.TemporaryFile() as spool:
        copied = 0
        while chunk := source.read(CHUNK_BYTES):
            copied += len(chunk)
            if copied > cap:
                refuse(f"archive is larger than {cap} bytes, more than its contents may expand to")
            spool.write(chunk)
        spool.seek(0)
        yield spool
