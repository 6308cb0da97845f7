"""Finding action providers: built-in ones plus any installed through the entry point group.

A third party adds a provider by installing a package that declares, in its
``pyproject.toml``::

    [project.entry-points."stageline.providers"]
    my-deployer = "my_package.provider:create"

where ``create(context: ProviderContext) -> ActionProvider``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from stageline.definitions.catalog import ActionTypeKey
from stageline.providers.base import ActionProvider

log = logging.getLogger("stageline.agent")
ENTRY_POINT_GROUP = "stageline.providers"


@dataclass(frozen=True, kw_only=True)
class ProviderContext:
    """What a provider factory may need from the process it runs in."""

    data_dir: Path
    services: dict[str, Any] = field(default_factory=dict)


Factory = Callable[[ProviderContext], ActionProvider | None]


class ProviderRegistry:
    def __init__(self) -> None:
        self._providers: dict[ActionTypeKey, ActionProvider] = {}

    def add(self, provider: ActionProvider) -> None:
        self._providers[provider.key] = provider

    def get(self, key: ActionTypeKey) -> ActionProvider | None:
        return self._providers.get(key)

    def types(self) -> list[ActionTypeKey]:
        return list(self._providers)

    @classmethod
    def discover(cls, context: ProviderContext) -> ProviderRegistry:
        """Every provider registered under the ``stageline.providers`` entry point group."""
        registry = cls()
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            try:
                factory: Factory = ep.load()
                provider = factory(context)
            except Exception:
                log.exception(
                    "provider plugin %s could not be loaded; its actions will wait", ep.name
                )
                continue
            if provider is not None:
                registry.add(provider)
        return registry
