"""``CodeCommit Repository State Change`` events for pushes to hosted repositories.

AWS emits one event per changed reference of a branch or tag: ``referenceCreated``
(with ``commitId``), ``referenceUpdated`` (``commitId`` and ``oldCommitId``) or
``referenceDeleted`` (``oldCommitId``), with the repository's ARN as the only
resource (seed ``000_…txt``; CodeCommit user guide, "Monitoring CodeCommit
events"). They go to the outbox like the engine's own events, so the event bus
delivers them to the rules that match — the seed's rule starts the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stageline.engine import events
from stageline.repos import RefUpdate, Repository, RepositoryService
from stageline.services.context import ServiceContext

SOURCE = "aws.codecommit"
DETAIL_TYPE = "CodeCommit Repository State Change"


def repository_event(
    repo: Repository, update: RefUpdate, *, region: str, at_ms: int
) -> dict[str, Any] | None:
    """The event for one ref change; None for refs that are neither branches nor tags."""
    if update.reference_type not in ("branch", "tag"):
        return None
    detail: dict[str, Any] = {
        "event": update.event,
        "repositoryName": repo.name,
        "repositoryId": repo.repository_id,
        "referenceType": update.reference_type,
        "referenceName": update.reference_name,
        "referenceFullName": update.ref,
    }
    if update.new is not None:
        detail["commitId"] = update.new
    if update.old is not None:
        detail["oldCommitId"] = update.old
    return events.envelope(
        detail_type=DETAIL_TYPE,
        source=SOURCE,
        account=repo.account_id,
        region=region,
        resources=[repo.arn],
        detail=detail,
        at_ms=at_ms,
    )


class PushEvents:
    """The push hook of a RepositoryService: writes the events, then wakes the bus."""

    def __init__(
        self,
        ctx: ServiceContext,
        repos: RepositoryService,
        *,
        wake: Callable[[], None],
    ) -> None:
        self.ctx = ctx
        self.repos = repos
        self.wake = wake

    def __call__(self, name: str, updates: list[RefUpdate]) -> None:
        repo = self.repos.get(name)
        now = self.ctx.clock.now_ms()
        built = [repository_event(repo, u, region=self.ctx.region, at_ms=now) for u in updates]
        to_write = [e for e in built if e is not None]
        if not to_write:
            return
        with self.ctx.db.write() as conn:
            for event in to_write:
                events.write(conn, event, now)
        self.wake()
