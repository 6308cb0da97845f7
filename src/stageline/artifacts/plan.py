"""The checked plan of an archive: every header judged before anything is written.

Clashes a hostile archive relies on (a file under a symlink, a file where a
directory is needed, one path twice) are found by sorting the entries' paths
with '/' as the lowest character: every path is then directly followed by
its duplicates and descendants, so comparing neighbours finds them all
whatever the order in the archive, in memory no bigger than the names.

Symlink targets are then resolved the way the kernel would, through the
archive's other links (and any already in the workspace), to refuse any that
lead outside. Work is bounded by caps on target sizes and resolution length,
so a crafted archive cannot make the check itself the attack.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from typing import NoReturn

from stageline.artifacts.rules import (
    MAX_LINK_TARGET_BYTES,
    MAX_PATH_BYTES,
    EntryKind,
    entry_kind,
    refuse,
    safe_parts,
    target_escapes,
)

#: Links followed while resolving one path, the kernel's own limit (ELOOP).
MAX_LINK_HOPS = 40


@dataclass(eq=False)
class Entry:
    """One checked entry; ``path`` is normalized ('/'-joined, no '.', '..' or empty parts)."""

    info: zipfile.ZipInfo
    name: str  # as the archive spells it, for messages
    path: str
    kind: EntryKind
    target: str = ""  # for a symlink, once read


@dataclass
class Plan:
    """Files and directories to create, parents first, and the symlinks to create last."""

    entries: list[Entry] = field(default_factory=list)
    links: list[Entry] = field(default_factory=list)


def make_plan(infos: list[zipfile.ZipInfo], max_files: int, max_total_bytes: int) -> Plan:
    """Check every header; refuse the archive on the first problem, before any write."""
    if len(infos) > max_files:
        refuse(f"archive has {len(infos)} entries, more than {max_files}, the limit")
    found: list[tuple[str, Entry]] = []
    for info in infos:
        name = info.orig_filename  # before zipfile cuts the name at a NUL
        parts = safe_parts(name)
        kind = entry_kind(info, name)
        if kind != "dir":
            _check_content(info, name, parts, kind)
        if parts:  # no parts: "./", the workspace itself
            path = "/".join(parts)
            found.append((path.replace("/", "\0"), Entry(info, name, path, kind)))
    _check_declared(infos, max_total_bytes)
    found.sort(key=lambda item: item[0])  # stable: duplicates keep archive order
    plan = Plan()
    previous_key, previous = "", None
    for key, entry in found:
        if previous is not None and key == previous_key:
            if entry.kind == previous.kind == "dir":
                continue  # a directory listed twice is harmless
            refuse(
                f"entry {entry.name!r} appears more than once in the archive ({previous.name!r})"
            )
        if previous is not None and key.startswith(previous_key + "\0"):
            if previous.kind == "symlink":
                refuse(
                    f"entry {entry.name!r} would be written through the symlink {previous.name!r}"
                )
            if previous.kind == "file":
                refuse(
                    f"entry {entry.name!r} needs {previous.name!r} to be a directory, "
                    "but it is a file"
                )
        (plan.links if entry.kind == "symlink" else plan.entries).append(entry)
        previous_key, previous = key, entry
    return plan


def _check_content(info: zipfile.ZipInfo, name: str, parts: tuple[str, ...], kind: str) -> None:
    if not parts:
        refuse(f"entry {name!r} has no file name")
    if info.flag_bits & 0x1:
        refuse(f"entry {name!r} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        refuse(
            f"entry {name!r} uses compression method {info.compress_type}; only "
            "stored and deflated entries can be extracted with bounded memory"
        )
    if kind == "symlink" and info.file_size > MAX_LINK_TARGET_BYTES:
        refuse(f"symlink {name!r} has a target longer than {MAX_LINK_TARGET_BYTES} bytes")


def _check_declared(infos: list[zipfile.ZipInfo], limit: int) -> None:
    """Refuse early, before writing, an archive that admits it is too big.

    Only an early exit: sizes in headers can lie, so the limit is enforced on
    the bytes actually written (``extraction._Writer``).
    """
    if sum(info.file_size for info in infos if not info.is_dir()) > limit:
        refuse_size(limit)


def refuse_size(limit: int) -> NoReturn:
    refuse(f"archive expands to more than {limit} bytes, the limit")


def check_links(plan: Plan, occupied_dest: str | None) -> None:
    """Refuse any symlink (targets already read) that resolves outside the workspace.

    ``occupied_dest`` is the workspace when it already held something: links
    found there take part in resolution, as they would on disk.
    """
    targets: dict[str, str] = {}
    if occupied_dest is not None:
        targets.update(_links_on_disk(occupied_dest))
    names = {link.path: link.name for link in plan.links}
    targets.update((link.path, link.target) for link in plan.links)
    resolver = _Resolver(targets, names)
    for link in plan.links:
        resolver.resolve(link.path, hops=0)


class _Resolver:
    """Resolves links as the kernel does: a link met is replaced by its target, then ``..``.

    So ``a/up -> ..`` and ``b -> a/up/..`` is caught although ``a/up/..`` looks
    harmless on paper: ``a/up`` is the workspace, and its ``..`` the parent. No
    entry lies under a link (the plan refused those), so every path walked is a
    real directory path and a link's result can be remembered and reused.
    """

    def __init__(self, targets: dict[str, str], names: dict[str, str]) -> None:
        self.targets = targets
        self.names = names
        self.resolved: dict[str, str] = {}
        self.active: set[str] = set()

    def resolve(self, path: str, hops: int) -> str:
        """Where the link at ``path`` leads, as a workspace-relative path ('' is the workspace)."""
        done = self.resolved.get(path)
        if done is not None:
            return done
        name = self.names.get(path, path)
        if path in self.active or hops > MAX_LINK_HOPS:
            refuse(f"symlink {name!r} is part of a symlink loop")
        target = self.targets[path]
        reason = target_escapes(target)
        if reason:
            refuse(f"symlink {name!r} points to {target!r}, {reason}")
        self.active.add(path)
        current = path.rpartition("/")[0]
        for segment in target.split("/"):
            if segment in ("", "."):
                continue
            if segment == "..":
                if not current:
                    refuse(f"symlink {name!r} points to {target!r}, outside the workspace")
                current = current.rpartition("/")[0]
                continue
            current = f"{current}/{segment}" if current else segment
            if current in self.targets:
                current = self.resolve(current, hops + 1)
            if len(current) > MAX_PATH_BYTES:
                refuse(f"symlink {name!r} resolves to a path longer than {MAX_PATH_BYTES} bytes")
        self.active.discard(path)
        self.resolved[path] = current
        return current


def _links_on_disk(dest: str) -> dict[str, str]:
    """Symlinks already in the workspace, by workspace-relative path."""
    found: dict[str, str] = {}
    for directory, dirnames, filenames in os.walk(dest):
        for entry in dirnames + filenames:
            full = os.path.join(directory, entry)
            if os.path.islink(full):
                found[os.path.relpath(full, dest).replace(os.sep, "/")] = os.readlink(full)
    return found
