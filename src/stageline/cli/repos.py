"""``stageline repo``: create, list and delete the git repositories a server hosts.

They talk to the server through boto3's codecommit client, as any AWS client
would, so the commands exercise the same API users script against.
"""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from stageline.cli.client import call, endpoint_option, output_option

console = Console()


def _call(endpoint_url: str, operation: str, **params: Any) -> Any:
    """A codecommit call with connection and API errors turned into clean CLI errors."""
    return call(endpoint_url, operation, service="codecommit", **params)


@click.group("repo")
def repo() -> None:
    """Git repositories hosted by the server (the CodeCommit API).

    Clone and push over HTTP at <endpoint>/git/NAME; pipelines use them with the
    CodeCommit source action.
    """


@repo.command("create")
@click.argument("name")
@click.option("--description", default=None, help="A description shown by get-repository.")
@endpoint_option
@output_option
def create(name: str, description: str | None, endpoint_url: str, output: str) -> None:
    """Create the repository NAME and print its clone URL."""
    params: dict[str, Any] = {"repositoryName": name}
    if description is not None:
        params["repositoryDescription"] = description
    meta = _call(endpoint_url, "create_repository", **params)["repositoryMetadata"]
    if output == "json":
        click.echo(json.dumps(meta, indent=2, default=str))
        return
    url = meta.get("cloneUrlHttp") or f"{endpoint_url.rstrip('/')}/git/{name}"
    click.echo(f"created repository {name}")
    click.echo(f"  clone URL: {url}")
    click.echo(f"  try: git clone {url}")


@repo.command("list")
@endpoint_option
@output_option
def list_repositories(endpoint_url: str, output: str) -> None:
    """List the repositories, by name."""
    names: list[dict[str, str]] = []
    params: dict[str, Any] = {"sortBy": "repositoryName", "order": "ascending"}
    while True:
        page = _call(endpoint_url, "list_repositories", **params)
        names.extend(page.get("repositories", []))
        if not page.get("nextToken"):
            break
        params["nextToken"] = page["nextToken"]
    if output == "json":
        click.echo(json.dumps(names, indent=2))
        return
    if not names:
        click.echo("no repositories yet; create one with `stageline repo create NAME`")
        return
    table = Table("name", "clone URL", "id")
    base = endpoint_url.rstrip("/")
    for item in names:
        table.add_row(
            item["repositoryName"], f"{base}/git/{item['repositoryName']}", item["repositoryId"]
        )
    console.print(table)


@repo.command("delete")
@click.argument("name")
@endpoint_option
def delete(name: str, endpoint_url: str) -> None:
    """Delete the repository NAME and everything in it."""
    result = _call(endpoint_url, "delete_repository", repositoryName=name)
    if result.get("repositoryId"):
        click.echo(f"deleted repository {name}")
    else:
        click.echo(f"there was no repository {name}; nothing deleted")
