"""The checked plan of an archive: every entry placed in a tree before anything is written.

Placing entries in a tree (one node per path, sharing parents) finds, in time
linear in the archive's size and whatever the entry order, the clashes a
hostile archive uses: a file under a symlink, a file standing where a
directory is needed, the same path twice. The same tree then resolves each
symlink target the way the kernel would, through the archive's other links,
to refuse any that lead out of the workspace.
"""

from __future__ import annotations

import os
import zipfile
from collections import deque
from dataclasses import dataclass, field
from typing import NoReturn

from stageline.artifacts.rules import (
    MAX_LINK_TARGET_BYTES,
    EntryKind,
    entry_kind,
    refuse,
    safe_parts,
    target_escapes,
)

#: Links followed while resolving one path, the kernel's own limit (ELOOP).
MAX_LINK_HOPS = 40
#: Path segments walked while resolving one link: no real link needs more, and
#: the cap keeps a crafted chain of long targets from costing minutes of CPU.
MAX_LINK_STEPS = 4096


class Node:
    """One path of the archive: an entry, or a directory implied by entries inside it."""

    __slots__ = ("children", "info", "inside", "kind", "name", "parts", "target")

    def __init__(self) -> None:
        self.children: dict[str, Node] = {}
        self.kind: EntryKind | None = None  # None: only implied by entries below it
        self.name = ""  # the entry's name as the archive spells it
        self.inside = ""  # the first entry found below this path
        self.info: zipfile.ZipInfo | None = None
        self.parts: tuple[str, ...] = ()
        self.target = ""  # for a symlink, once read


@dataclass
class Plan:
    """Files and directories to create in archive order, and the symlinks to create last."""

    root: Node = field(default_factory=Node)
    entries: list[Node] = field(default_factory=list)
    links: list[Node] = field(default_factory=list)


def make_plan(infos: list[zipfile.ZipInfo], max_files: int, max_total_bytes: int) -> Plan:
    """Check every header; refuse the archive on the first problem, before any write."""
    if len(infos) > max_files:
        refuse(f"archive has {len(infos)} entries, more than {max_files}, the limit")
    plan = Plan()
    for info in infos:
        name = info.orig_filename  # before zipfile cuts the name at a NUL
        parts = safe_parts(name)
        kind = entry_kind(info, name)
        if kind != "dir":
            _check_content(info, name, parts, kind)
        if not parts:
            continue  # "./": the workspace itself
        node = _place(plan.root, parts, kind, name)
        if node is None:
            continue  # a directory listed twice is harmless
        node.info, node.parts = info, parts
        (plan.links if kind == "symlink" else plan.entries).append(node)
    _check_declared(infos, max_total_bytes)
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


def _place(root: Node, parts: tuple[str, ...], kind: EntryKind, name: str) -> Node | None:
    """Put an entry in the tree, refusing it under a symlink or a file, or at a taken path."""
    node = root
    for segment in parts[:-1]:
        child = node.children.get(segment)
        if child is None:
            child = node.children[segment] = Node()
        elif child.kind == "symlink":
            refuse(f"entry {name!r} would be written through the symlink {child.name!r}")
        elif child.kind == "file":
            refuse(f"entry {name!r} needs {child.name!r} to be a directory, but it is a file")
        child.inside = child.inside or name
        node = child
    leaf = node.children.get(parts[-1])
    if leaf is None:
        leaf = node.children[parts[-1]] = Node()
    elif leaf.kind is None:  # so far only implied, by entries inside it
        if kind == "symlink":
            refuse(f"entry {leaf.inside!r} would be written through the symlink {name!r}")
        if kind == "file":
            refuse(f"entry {leaf.inside!r} needs {name!r} to be a directory, but it is a file")
    elif leaf.kind == kind == "dir":
        return None
    else:
        refuse(f"entry {name!r} appears more than once in the archive ({leaf.name!r})")
    leaf.kind, leaf.name = kind, name
    return leaf


def _check_declared(infos: list[zipfile.ZipInfo], limit: int) -> None:
    """Refuse early, before writing, an archive that admits it is too big.

    Only an early exit: sizes in headers can lie, so the limit is enforced on
    the bytes actually written (``extraction._Writer``).
    """
    if sum(info.file_size for info in infos if not info.is_dir()) > limit:
        refuse_size(limit)


def refuse_size(limit: int) -> NoReturn:
    refuse(f"archive expands to more than {limit} bytes, the limit")


def check_links(plan: Plan, dest: str | None) -> None:
    """Refuse any symlink (with its target read) that resolves outside the workspace.

    ``dest`` is given when the workspace already held something, so links
    found there take part in resolution too.
    """
    for link in plan.links:
        _resolve(plan.root, link, dest)


def _resolve(root: Node, link: Node, dest: str | None) -> None:
    """Follow ``link`` as the kernel would: each link met is replaced by its target, then ``..``.

    So ``a/up -> ..`` and ``b -> a/up/..`` is caught although ``a/up/..`` looks
    harmless on paper: ``a/up`` is the workspace, and its ``..`` the parent.
    """
    name, target = link.name, link.target
    reason = target_escapes(target)
    if reason:
        refuse(f"symlink {name!r} points to {target!r}, {reason}")
    stack: list[tuple[str, Node | None]] = []
    node = root
    for segment in link.parts[:-1]:
        node = node.children[segment]
        stack.append((segment, node))
    pending = deque(target.split("/"))
    hops = steps = 0
    while pending:
        steps += 1
        if steps > MAX_LINK_STEPS:
            refuse(f"symlink {name!r} takes more than {MAX_LINK_STEPS} steps to resolve")
        segment = pending.popleft()
        if segment in ("", "."):
            continue
        if segment == "..":
            if not stack:
                refuse(f"symlink {name!r} points to {target!r}, outside the workspace")
            stack.pop()
            continue
        parent = stack[-1][1] if stack else root
        child = parent.children.get(segment) if parent is not None else None
        next_target: str | None = None
        if child is not None and child.kind == "symlink":
            next_target = child.target
        elif child is None and dest is not None:
            on_disk = os.path.join(dest, *(s for s, _ in stack), segment)
            if os.path.islink(on_disk):
                next_target = os.readlink(on_disk)
        if next_target is None:
            stack.append((segment, child))
            continue
        hops += 1
        if hops > MAX_LINK_HOPS:
            refuse(f"symlink {name!r} is part of a symlink loop")
        if target_escapes(next_target):
            refuse(f"symlink {name!r} points to {target!r}, outside the workspace")
        pending.extendleft(reversed(next_target.split("/")))
