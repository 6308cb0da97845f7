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


def lambda_invoke(context: ProviderContext) -> ActionProvider | None:
    """Runs on an agent that has the functions and can see the job's status at the server:
    the server's own. Elsewhere it returns None, so the action waits for that agent."""
    from stageline.providers.invoke.lambda_invoke import LambdaInvokeProvider

    functions = context.services.get("functions")
    server_url = context.services.get("server_url")
    job_status = context.services.get("job_status")
    if functions is None or server_url is None or job_status is None:
        return None
    return LambdaInvokeProvider(functions, server_url=server_url, job_status=job_status)


def _codebuild(context: ProviderContext, category: str) -> ActionProvider | None:
    """Runs where the build projects are: the server's own agent."""
    from stageline.definitions.catalog import ActionTypeKey
    from stageline.providers.build.codebuild import CodeBuildProvider

    builds = context.services.get("builds")
    if builds is None:
        return None
    key = ActionTypeKey(category=category, owner="AWS", provider="CodeBuild", version="1")
    return CodeBuildProvider(
        key,
        builds,
        data_dir=context.data_dir,
        secret_resolver=context.services.get("secret_resolver"),
        executor=context.services.get("build_executor") or "auto",
    )


def codebuild_build(context: ProviderContext) -> ActionProvider | None:
    return _codebuild(context, "Build")


def codebuild_test(context: ProviderContext) -> ActionProvider | None:
    return _codebuild(context, "Test")


def s3_source(context: ProviderContext) -> ActionProvider | None:
    from stageline.providers.source.s3 import S3Source

    return S3Source(endpoint_url=context.services.get("s3_endpoint_url"))


def ecr_source(context: ProviderContext) -> ActionProvider | None:
    from stageline.providers.source.ecr import ECRSource

    return ECRSource(registry_url=context.services.get("registry_url"))


def connection_source(context: ProviderContext) -> ActionProvider | None:
    """Runs where the connections and their credentials are: the server's own agent."""
    from stageline.providers.source.connection import ConnectionSource

    connections = context.services.get("connections")
    if connections is None:
        return None
    return ConnectionSource(connections, data_dir=context.data_dir)


def github_source(context: ProviderContext) -> ActionProvider | None:
    from stageline.providers.source.github import GitHubSource

    return GitHubSource(
        base_url=context.services.get("github_url") or "https://github.com",
        data_dir=context.data_dir,
    )
