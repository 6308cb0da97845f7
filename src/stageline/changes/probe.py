"""What polling and triggers ask a source: the revision its action would take right now,
and the files a range of commits changed."""

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
        poll = getattr(self._provider(action), "poll_revision", None)
        if poll is None:
            return None
        revision: str | None = poll(action.configuration)
        return revision

    def changed_files(self, action: ActionDecl, old: str | None, new: str) -> list[str] | None:
        """The paths changed between two commits of the action's repository (trigger file
        path filters), None when the source cannot tell."""
        if action.type == sources.CODECOMMIT:
            return self.repos.changed_files(
                action.configuration.get("RepositoryName", ""), old, new
            )
        diff = getattr(self._provider(action), "changed_files", None)
        if diff is None:
            return None
        files: list[str] | None = diff(action.configuration, old, new)
        return files

    def _provider(self, action: ActionDecl) -> object:
        if self._loaded is None:
            self._loaded = self._registry()
        return self._loaded.get(action.type)
