"""A git change, whichever host reported it: a branch or tag push, or a pull request event."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

BRANCH_PREFIX = "refs/heads/"
TAG_PREFIX = "refs/tags/"


class PayloadError(ValueError):
    """A webhook payload that cannot be read; the message says what is wrong with it."""


class ChangeKind(StrEnum):
    PUSH = "push"
    PULL_REQUEST = "pullRequest"


class RefKind(StrEnum):
    BRANCH = "branch"
    TAG = "tag"


class PullRequestEvent(StrEnum):
    """The pull request events a V2 trigger filters on (GitPullRequestFilter.events)."""

    OPEN = "OPEN"
    UPDATED = "UPDATED"
    CLOSED = "CLOSED"


@dataclass(frozen=True, kw_only=True)
class GitChange:
    """One change to one reference of a repository.

    For a push, ``ref`` is the pushed reference, ``before``/``after`` the commits
    it moved between (``None`` where the reference did not exist), and ``files``
    the paths the pushed commits touched when the payload lists them (``None``
    when it does not, or lists only part of them). For a pull request, ``ref``
    is the source branch, ``after`` its head commit, ``before`` the destination's
    base commit when the host says, and ``files`` is ``None``: no host lists a
    pull request's files in its payload.
    """

    provider: str  # github | gitlab | bitbucket | codecommit
    repository: str  # owner/repo (GitLab: the full namespace path)
    kind: ChangeKind
    ref: str
    ref_kind: RefKind
    name: str  # the branch or tag name, without refs/heads/ or refs/tags/
    before: str | None = None
    after: str | None = None
    deleted: bool = False
    files: tuple[str, ...] | None = None
    event: PullRequestEvent | None = None
    source_branch: str | None = None
    destination_branch: str | None = None
    number: int | None = None
    merged: bool = False

    @property
    def is_pull_request(self) -> bool:
        return self.kind is ChangeKind.PULL_REQUEST

    @property
    def head_commit(self) -> str | None:
        """The commit an execution for this change runs: the pushed or the pull request head."""
        return self.after

    def describe(self) -> str:
        """A short phrase for logs and execution trigger details."""
        if self.is_pull_request:
            number = f" #{self.number}" if self.number is not None else ""
            return (
                f"pull request{number} {self.event} from {self.source_branch} "
                f"into {self.destination_branch} of {self.repository}"
            )
        verb = "deletion of" if self.deleted else "push to"
        return f"{verb} {self.ref_kind} {self.name} of {self.repository}"


def split_ref(ref: str) -> tuple[RefKind, str] | None:
    """``refs/heads/x`` → (BRANCH, x), ``refs/tags/v1`` → (TAG, v1); other refs → None."""
    if ref.startswith(BRANCH_PREFIX) and len(ref) > len(BRANCH_PREFIX):
        return RefKind.BRANCH, ref[len(BRANCH_PREFIX) :]
    if ref.startswith(TAG_PREFIX) and len(ref) > len(TAG_PREFIX):
        return RefKind.TAG, ref[len(TAG_PREFIX) :]
    return None


def push(
    *,
    provider: str,
    repository: str,
    ref: str,
    before: str | None,
    after: str | None,
    files: tuple[str, ...] | None = None,
) -> GitChange | None:
    """The change for a push of ``ref``; None for refs that are neither branches nor tags.

    ``before``/``after`` of None (or git's all-zero id) mean the reference was
    created or deleted. Callers with a push of their own (stageline's hosted
    repositories) build their change here too, so every path reads the same way.
    """
    split = split_ref(ref)
    if split is None:
        return None
    kind, name = split
    before, after = _commit(before), _commit(after)
    return GitChange(
        provider=provider,
        repository=repository,
        kind=ChangeKind.PUSH,
        ref=ref,
        ref_kind=kind,
        name=name,
        before=before,
        after=after,
        deleted=after is None,
        files=files,
    )


def _commit(value: str | None) -> str | None:
    if not value or set(value) == {"0"}:
        return None
    return value
