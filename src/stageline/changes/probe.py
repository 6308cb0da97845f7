"""What polling asks a source for: the revision its action would take right now."""

from __future__ import annotations

from collections.abc import Callable

from stageline.agent.registry import ProviderRegistry
from stageline.changes import sources
from stageline.definitions.model import ActionDecl
from stageline.repos import RepositoryService
from stageline.repos.errors import BranchDoesNotExist, EmptyRepository, RepositoryDoesNotExist


class SourceProbe:
    """Hosted repositories are read directly; other sources through their provider's
    ``poll_revision(configuration)``, for providers that have one."""

    def __init__(self, repos: RepositoryService, registry: Callable[[], ProviderRegistry]) -> None:
        self.repos = repos
        self._registry = registry
        self._loaded: ProviderRegistry | None = None

    def __call__(self, action: ActionDecl) -> str | None:
        if action.type == sources.CODECOMMIT:
            config = action.configuration
            try:
                return self.repos.branch_tip(
                    config.get("RepositoryName", ""), config.get("BranchName", "")
                )
            except (BranchDoesNotExist, EmptyRepository, RepositoryDoesNotExist):
                return None
        if self._loaded is None:
            self._loaded = self._registry()
        provider = self._loaded.get(action.type)
        poll = getattr(provider, "poll_revision", None)
        if poll is None:
            return None
        revision: str | None = poll(action.configuration)
        return revision
