"""V2 triggers for pushes to stageline's own repositories.

A push to a hosted repository reaches pipelines two ways: as a ``CodeCommit
Repository State Change`` event (``changes.push_events``; EventBridge rules, the
managed ones included), and here, for CodeCommit source actions that declare a
``triggers[].gitConfiguration`` (a stageline extension: AWS allows triggers only
on connection sources). Such actions have no managed rule and are not polled, so
this hook is the only thing that starts them; the router evaluates their branch,
tag and file path filters, reading the changed files from the repository itself.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from stageline.errors import ApiError
from stageline.repos import RefUpdate, RepositoryService
from stageline.triggers import changes
from stageline.triggers.router import TriggerRouter

log = logging.getLogger(__name__)


class HostedPushTriggers:
    """A RepositoryService push hook that routes each pushed ref through the triggers."""

    def __init__(self, repos: RepositoryService, router: TriggerRouter) -> None:
        self.repos = repos
        self.router = router

    def __call__(self, name: str, updates: list[RefUpdate]) -> None:
        def watches(_pipeline: str, wire: Mapping[str, Any]) -> bool:
            type_id = wire.get("actionTypeId") or {}
            config = wire.get("configuration") or {}
            return (
                type_id.get("owner") == "AWS"
                and type_id.get("provider") == "CodeCommit"
                and config.get("RepositoryName") == name
            )

        for update in updates:
            change = changes.push(
                provider="codecommit",
                repository=name,
                ref=update.ref,
                before=update.old,
                after=self._commit(name, update.new),
            )
            if change is None:
                continue
            for started in self.router.route(change, source_matches=watches, default_trigger=None):
                log.info(
                    "push to %s %s started %s (%s)",
                    name,
                    update.ref,
                    started.pipeline,
                    started.execution_id,
                )

    def _commit(self, name: str, new: str | None) -> str | None:
        """The commit a ref now names: an annotated tag's id is peeled to its commit."""
        if new is None:
            return None
        try:
            return self.repos.resolve(name, new)
        except ApiError:  # deleted again meanwhile
            return None
