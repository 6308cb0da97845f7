"""The refusal rules behind extraction: what an archive, and each of its entries, may be.

Kept apart from the extraction loop so each rule reads on its own. Every
refusal is an :class:`UnsafeArchiveError` whose message names the entry, what
is wrong and ends "the artifact is refused", because that message reaches the
user as the action's failure reason.
"""

from __future__ import annotations

import os
import re
import stat
import struct
import zipfile
from typing import BinaryIO, Literal, NoReturn

EntryKind = Literal["file", "dir", "symlink"]

#: Linux's PATH_MAX: a longer entry name cannot be created, and deep names cost CPU.
MAX_PATH_BYTES = 4096
#: Deeper than any real tree; a deeper one would also defeat the recursive
#: shutil.rmtree that cleans the workspace up (RecursionError near 1,000).
MAX_PATH_DEPTH = 256
#: Longer than any PATH_MAX; a longer "target" is not a link a build made.
MAX_LINK_TARGET_BYTES = 4096
#: All link targets of one archive together (node_modules/.bin links are ~40
#: bytes each); they are held in memory while every link is checked.
MAX_TOTAL_LINK_TARGET_BYTES = 16 * 1024 * 1024

# Central-directory bytes allowed per permitted entry (a record is 46 bytes plus
# name, extra and comment). zipfile reads the whole directory into memory, so
# its size is checked from the end record before zipfile sees it.
_DIRECTORY_BYTES_PER_ENTRY = 1024
_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
_DRIVE = re.compile(r"[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPECIAL = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
}


class UnsafeArchiveError(ValueError):
    """An archive, or one of its entries, was refused; the message says which and why."""


def refuse(reason: str) -> NoReturn:
    raise UnsafeArchiveError(f"{reason}; the artifact is refused")


def safe_parts(name: str) -> tuple[str, ...]:
    """The path components an entry name stands for, refusing any name that could leave the workspace.

    ``..`` is allowed only where it stays inside (``a/../b`` is ``b``); the
    result never contains ``..``, ``.`` or empty parts, so joining it under the
    workspace cannot climb out. Backslashes are refused outright: Windows tools
    read ``..\\x`` as a parent directory, and no build output needs one.
    """
    if "\0" in name:
        refuse(f"entry {name!r} contains a NUL character")
    if len(name.encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES:
        refuse(f"entry {name[:60]!r}... has a path longer than {MAX_PATH_BYTES} bytes")
    if "\\" in name:
        refuse(f"entry {name!r} contains a backslash, which Windows tools read as a path separator")
    if _CONTROL.search(name):
        refuse(f"entry {name!r} contains a control character")
    if name.startswith("/"):
        refuse(f"entry {name!r} has an absolute path and would be written outside the workspace")
    if _DRIVE.match(name):
        refuse(
            f"entry {name!r} starts with a drive letter and would be written outside the workspace"
        )
    segments = name[:-1].split("/") if name.endswith("/") else name.split("/")
    if "" in segments or "." in segments or ".." in segments:
        segments = _normalize(name, segments)
    if len(segments) > MAX_PATH_DEPTH:
        refuse(f"entry {name[:60]!r}... is nested more than {MAX_PATH_DEPTH} levels deep")
    return tuple(segments)


def _normalize(name: str, segments: list[str]) -> list[str]:
    parts: list[str] = []
    for segment in segments:
        if segment in ("", "."):
            continue
        if segment == "..":
            if not parts:
                refuse(f"entry {name!r} would be written outside the workspace")
            parts.pop()
            continue
        parts.append(segment)
    return parts


def entry_kind(info: zipfile.ZipInfo, name: str) -> EntryKind:
    """File, directory or symlink, from the Unix mode in ``external_attr``; refuse anything else.

    Unix tools store ``st_mode`` in the high 16 bits; Windows tools leave them
    zero and some tools (Python's zipfile among them) store only permission
    bits, so an entry with no file type is a file (a directory if named ``x/``).
    """
    mode = info.external_attr >> 16
    file_type = stat.S_IFMT(mode)
    if file_type not in (0, stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK):
        what = _SPECIAL.get(file_type, f"a special file (mode {oct(mode)})")
        refuse(f"entry {name!r} is {what}; only files, directories and symlinks can be extracted")
    if file_type == stat.S_IFLNK:
        if name.endswith("/"):
            refuse(f"entry {name!r} is marked both as a directory and as a symlink")
        return "symlink"
    if name.endswith("/") or file_type == stat.S_IFDIR:
        return "dir"
    return "file"


def target_escapes(target: str) -> str | None:
    """Why a link target is unacceptable on its own, or None; ``..`` is judged by resolution."""
    if not target:
        return "which is empty"
    if "\0" in target:
        return "which contains a NUL character"
    if "\\" in target:
        return "which contains a backslash"
    if target.startswith("/"):
        return "outside the workspace (an absolute path)"
    if _DRIVE.match(target):
        return "outside the workspace (a drive letter)"
    return None


def check_end_record(fp: BinaryIO, max_files: int, *, slack: int) -> None:
    """Refuse an archive whose end record announces too many entries or a huge directory.

    Reads the end-of-central-directory record (and its ZIP64 form) the way
    zipfile locates it, before zipfile loads the whole central directory into
    memory. Anything unreadable is left for zipfile to report.
    """
    fp.seek(0, os.SEEK_END)
    size = fp.tell()
    tail_start = max(0, size - (22 + 65535))
    fp.seek(tail_start)
    tail = fp.read(size - tail_start)
    if tail[-22:-18] == _EOCD and tail[-2:] == b"\0\0":
        at = len(tail) - 22
    else:
        at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        fp.seek(0)
        return
    entries, directory_size = struct.unpack("<10xHL6x", tail[at : at + 22])
    locator_at = tail_start + at - 20
    if (entries == 0xFFFF or directory_size == 0xFFFFFFFF) and locator_at >= 56:
        fp.seek(locator_at - 56)
        record = fp.read(76)
        if record[:4] == _EOCD64 and record[56:60] == _EOCD64_LOCATOR:
            entries, directory_size = struct.unpack("<32xQQ", record[:48])
    fp.seek(0)
    if entries > max_files:
        refuse(f"archive has {entries} entries, more than {max_files}, the limit")
    allowed = max_files * _DIRECTORY_BYTES_PER_ENTRY + slack
    if directory_size > allowed:
        refuse(
            f"archive's central directory is {directory_size} bytes, more than {allowed} "
            f"for at most {max_files} entries"
        )
