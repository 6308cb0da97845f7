"""Factories for stageline's own providers, registered as entry points in pyproject.toml."""

from __future__ import annotations

from stageline.agent.registry import ProviderContext
from stageline.providers.base import ActionProvider


def codecommit(context: ProviderContext) -> ActionProvider | None:
    from stageline.providers.source.codecommit import CodeCommitSource

    repos = context.services.get("repos")
    if repos is None:
        return None  # a remote agent without the repositories reaches them over HTTP (later)
    return CodeCommitSource(repos)


def commands(context: ProviderContext) -> ActionProvider | None:
    from stageline.providers.compute.commands import CommandsProvider

    return CommandsProvider()
