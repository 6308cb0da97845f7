"""Copying a function's code directory into the store, refusing what could leak the host.

A function's code arrives from a user's directory or an uploaded zip, and
later runs with the server's own Python. So the copy keeps only regular
files, directories and symlinks that stay inside the code directory (they
are re-created relative, so they point into the copy, never back at the
source); a symlink that leaves it, or a device file, FIFO or socket, refuses
the whole copy. Size and file count are capped (Lambda's 250 MB unzipped
quota by default), counted on the bytes actually copied.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Lambda's quota on a function's unzipped code (250 MB).
MAX_CODE_BYTES = 250 * 1024 * 1024
MAX_CODE_FILES = 20_000
_CHUNK = 1024 * 1024


class UnsafeCodeError(ValueError):
    """The code directory cannot be taken as it is; the message names the path and why."""


@dataclass(frozen=True, kw_only=True)
class CodeSummary:
    files: int
    bytes: int
    # Hex SHA-256 over every path, link target and file content, in path order: the same
    # tree always gives the same digest, whatever the file times.
    sha256: str


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def copy_code(
    src: Path,
    dest: Path,
    *,
    max_bytes: int = MAX_CODE_BYTES,
    max_files: int = MAX_CODE_FILES,
) -> CodeSummary:
    """Copy the directory ``src`` into ``dest`` (which must not exist); see the module docstring.

    Raises :class:`UnsafeCodeError`; ``dest`` may then hold a partial copy the
    caller discards.
    """
    root = os.path.realpath(src)
    if not os.path.isdir(root):
        raise UnsafeCodeError(f"code directory {str(src)!r} does not exist or is not a directory")
    os.makedirs(dest)
    digest = hashlib.sha256()
    files = total = 0
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        with os.scandir(os.path.join(root, rel_dir)) as scan:
            entries = sorted(scan, key=lambda e: e.name)
        for entry in entries:
            rel = os.path.join(rel_dir, entry.name)
            st = entry.stat(follow_symlinks=False)
            files += 1
            if files > max_files:
                raise UnsafeCodeError(f"the code holds more than {max_files} files and directories")
            target = os.path.join(dest, rel)
            if stat.S_ISLNK(st.st_mode):
                link = _relative_link(root, rel)
                os.symlink(link, target)
                digest.update(b"L" + rel.encode("utf-8", "surrogateescape") + b"\0")
                digest.update(link.encode("utf-8", "surrogateescape") + b"\0")
            elif stat.S_ISDIR(st.st_mode):
                os.mkdir(target)
                stack.append(rel)
            elif stat.S_ISREG(st.st_mode):
                digest.update(b"F" + rel.encode("utf-8", "surrogateescape") + b"\0")
                total += _copy_file(os.path.join(root, rel), target, total, max_bytes, digest)
                os.chmod(target, 0o755 if st.st_mode & 0o111 else 0o644)
            else:
                raise UnsafeCodeError(
                    f"{rel!r} is not a regular file, directory or symlink (a device, FIFO or "
                    "socket); remove it from the code directory"
                )
    return CodeSummary(files=files, bytes=total, sha256=digest.hexdigest())


def _relative_link(root: str, rel: str) -> str:
    """The target of the symlink at ``rel``, relative to its directory, if it stays in ``root``."""
    here = os.path.join(root, rel)
    resolved = os.path.realpath(here)
    if not _inside(resolved, root):
        raise UnsafeCodeError(
            f"symlink {rel!r} points to {os.readlink(here)!r}, outside the code directory; "
            "copy what it points to into the directory instead"
        )
    return os.path.relpath(resolved, os.path.dirname(here))


def _copy_file(source: str, target: str, so_far: int, limit: int, digest: Any) -> int:
    copied = 0
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(source, flags)
    with os.fdopen(fd, "rb") as fin, open(target, "xb") as fout:
        while chunk := fin.read(_CHUNK):
            copied += len(chunk)
            if so_far + copied > limit:
                raise UnsafeCodeError(
                    f"the code is larger than the {limit / (1024 * 1024):g} MiB a function's "
                    "unzipped code may take"
                )
            digest.update(chunk)
            fout.write(chunk)
    return copied


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
