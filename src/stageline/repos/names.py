"""Which repository names and ref names we accept, checked before any path or git call.

Names reach the file system (``<repos>/<name>.git``) and git's command line, so
they are validated here, once, with CodeCommit's rules for repositories and
git's own ``check-ref-format`` rules for refs.
"""

from __future__ import annotations

import re

from stageline.repos.errors import (
    InvalidBranchName,
    InvalidCommitId,
    InvalidReferenceName,
    InvalidRepositoryName,
)

MAX_REPOSITORY_NAME = 100
MAX_REF_NAME = 256
# CodeCommit's pattern is Java's [\w.-], which is ASCII-only; Python's \w is not.
_REPOSITORY_NAME = re.compile(r"[\w.-]+", re.ASCII)
_HEX = re.compile(r"[0-9a-f]+")
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def check_repository_name(name: str) -> str:
    """``name`` if CodeCommit would accept it as a repository name, else InvalidRepositoryName."""
    rule = (
        "repository names are 1 to 100 letters, digits, '_', '.' or '-', "
        "not '.' or '..' and not ending in '.git'"
    )
    if not isinstance(name, str) or not name:
        raise InvalidRepositoryName(f"a repository name is required; {rule}")
    shown = name if len(name) <= 120 else name[:117] + "..."
    if len(name) > MAX_REPOSITORY_NAME or not _REPOSITORY_NAME.fullmatch(name):
        raise InvalidRepositoryName(f"repository name {shown!r} is not valid: {rule}")
    if name in {".", ".."} or name.lower().endswith(".git"):
        raise InvalidRepositoryName(f"repository name {shown!r} is not valid: {rule}")
    return name


def is_commit_id(value: str, *, full: bool = False) -> bool:
    """A lower-case hex object id: abbreviated (4+) unless ``full`` (SHA-1 or SHA-256 length)."""
    if not _HEX.fullmatch(value):
        return False
    return len(value) in (40, 64) if full else 4 <= len(value) <= 64


def check_commit_id(value: str) -> str:
    if not is_commit_id(value, full=True):
        raise InvalidCommitId(
            f"commit id {value[:80]!r} is not valid: give the full 40-character SHA of the commit"
        )
    return value


def ref_problem(name: str) -> str | None:
    """Why ``name`` is not a valid git ref name (git check-ref-format --allow-onelevel), or None."""
    if not name:
        return "it is empty"
    if len(name) > MAX_REF_NAME:
        return f"it is longer than {MAX_REF_NAME} characters"
    if name.startswith("-"):
        return "it starts with '-'"
    if _REF_FORBIDDEN.search(name):
        return "it contains a space, a control character or one of ~ ^ : ? * [ \\"
    if ".." in name or "@{" in name or name == "@" or "//" in name:
        return "it contains '..', '@{' or '//', or is '@'"
    if name.startswith("/") or name.endswith("/") or name.endswith("."):
        return "it starts or ends with '/' or ends with '.'"
    for part in name.split("/"):
        if part.startswith(".") or part.endswith(".lock"):
            return "a '/'-separated part starts with '.' or ends with '.lock'"
    return None


def check_branch_name(name: str) -> str:
    """``name`` if git accepts it as a branch name, else InvalidBranchName naming the rule."""
    problem = ref_problem(name) if isinstance(name, str) else "it is not a string"
    if problem:
        raise InvalidBranchName(f"branch name {str(name)[:80]!r} is not valid: {problem}")
    return name


def check_revision(value: str) -> str:
    """A branch, tag, full ref or (abbreviated) commit id that is safe to hand to git."""
    if isinstance(value, str) and is_commit_id(value):
        return value
    problem = ref_problem(value) if isinstance(value, str) else "it is not a string"
    if problem:
        raise InvalidReferenceName(
            f"{str(value)[:80]!r} is not a branch, tag or commit id: {problem}"
        )
    return value
