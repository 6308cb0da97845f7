"""What a hosted repository, a commit and a pushed ref change are, inside stageline.

Frozen dataclasses (STYLE.md §4); the CodeCommit wire shapes are built from
them at the API edge only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, kw_only=True)
class Repository:
    """A hosted repository's metadata, as CodeCommit's ``repositoryMetadata`` carries it."""

    name: str
    repository_id: str
    arn: str
    account_id: str
    description: str | None
    created_ms: int
    last_modified_ms: int
    # The branch HEAD names, when that branch exists (CodeCommit has none before the first push).
    default_branch: str | None = None


@dataclass(frozen=True, kw_only=True)
class CommitInfo:
    """One commit. Dates come in both forms AWS uses.

    ``author_date`` / ``committer_date`` are ISO 8601 in UTC (``2024-05-01T10:20:30Z``),
    the form of the CodeCommit source action's ``AuthorDate`` / ``CommitterDate``
    variables; ``author_timestamp`` / ``committer_timestamp`` are git's raw
    ``"<epoch seconds> <+hhmm>"``, which CodeCommit's GetCommit returns.
    """

    commit_id: str
    tree_id: str
    parents: tuple[str, ...]
    message: str
    author_name: str
    author_email: str
    author_date: str
    author_timestamp: str
    committer_name: str
    committer_email: str
    committer_date: str
    committer_timestamp: str

    @property
    def summary(self) -> str:
        """The message's first line (a subject, in git's terms)."""
        return self.message.split("\n", 1)[0].strip()

    @property
    def committed_ms(self) -> int:
        return int(self.committer_timestamp.split()[0]) * 1000


@dataclass(frozen=True, kw_only=True)
class RefUpdate:
    """One ref changed by a push; ``old``/``new`` are object ids, None when absent.

    The events work turns these into ``CodeCommit Repository State Change`` events.
    """

    ref: str
    old: str | None
    new: str | None

    @property
    def event(self) -> str:
        """CodeCommit's name for the change: referenceCreated / referenceUpdated / referenceDeleted."""
        if self.old is None:
            return "referenceCreated"
        if self.new is None:
            return "referenceDeleted"
        return "referenceUpdated"

    @property
    def reference_type(self) -> str:
        if self.ref.startswith("refs/heads/"):
            return "branch"
        if self.ref.startswith("refs/tags/"):
            return "tag"
        return "reference"

    @property
    def reference_name(self) -> str:
        for prefix in ("refs/heads/", "refs/tags/"):
            if self.ref.startswith(prefix):
                return self.ref[len(prefix) :]
        return self.ref


def iso_utc(epoch_seconds: int) -> str:
    """``2024-05-01T10:20:30Z``: ISO 8601 in UTC, to the second."""
    return datetime.fromtimestamp(epoch_seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def diff_refs(before: dict[str, str], after: dict[str, str]) -> list[RefUpdate]:
    """The ref changes between two ``for-each-ref`` snapshots, in ref order."""
    updates = []
    for ref in sorted(before.keys() | after.keys()):
        old, new = before.get(ref), after.get(ref)
        if old != new:
            updates.append(RefUpdate(ref=ref, old=old, new=new))
    return updates
