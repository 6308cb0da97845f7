"""``stageline webhook``: the webhooks a server holds, and one webhook in detail.

They read through boto3's codepipeline client (ListWebhooks), as any AWS client
would. Webhooks are created with ``aws codepipeline put-webhook`` or boto3's
``put_webhook`` against the server; the secret token never comes back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from stageline.cli.client import call, endpoint_option, output_option

console = Console()


def _all(endpoint_url: str) -> Iterator[dict[str, Any]]:
    params: dict[str, Any] = {}
    while True:
        page = call(endpoint_url, "list_webhooks", **params)
        yield from page.get("webhooks", [])
        if not page.get("NextToken"):
            return
        params["NextToken"] = page["NextToken"]


def _when(item: dict[str, Any]) -> str:
    last = item.get("lastTriggered")
    return last.strftime("%Y-%m-%d %H:%M:%S") if last else "never"


@click.group("webhook")
def webhook() -> None:
    """CodePipeline webhooks (PutWebhook): list them, or show one.

    Create one with `aws codepipeline put-webhook --endpoint-url ...` or boto3;
    a git host then POSTs to its URL.
    """


@webhook.command("list")
@endpoint_option
@output_option
def list_webhooks(endpoint_url: str, output: str) -> None:
    """Every webhook: its target, authentication, filters and last trigger."""
    items = list(_all(endpoint_url))
    if output == "json":
        click.echo(json.dumps(items, indent=2, default=str))
        return
    if not items:
        click.echo("no webhooks yet; create one with `aws codepipeline put-webhook`")
        return
    table = Table()
    table.add_column("name", no_wrap=True)
    for column in ("pipeline/action", "authentication", "last triggered"):
        table.add_column(column)
    for item in items:
        d = item["definition"]
        table.add_row(
            escape(d["name"]),
            escape(f"{d['targetPipeline']}/{d['targetAction']}"),
            d["authentication"],
            _when(item) + (" (error)" if item.get("errorMessage") else ""),
        )
    console.print(table)
    click.echo("details, filters and the URL: stageline webhook show NAME")


@webhook.command("show")
@click.argument("name")
@endpoint_option
@output_option
def show(name: str, endpoint_url: str, output: str) -> None:
    """One webhook: its URL to give the git host, its rules, and its last error."""
    item = next((w for w in _all(endpoint_url) if w["definition"]["name"] == name), None)
    if item is None:
        raise click.ClickException(
            f"no webhook named {name!r}; list them with `stageline webhook list`"
        )
    if output == "json":
        click.echo(json.dumps(item, indent=2, default=str))
        return
    d = item["definition"]
    click.echo(f"{d['name']}  →  pipeline {d['targetPipeline']}, action {d['targetAction']}")
    click.echo(f"  url:            {item['url']}")
    click.echo(f"  arn:            {item.get('arn', '')}")
    click.echo(f"  authentication: {d['authentication']}")
    for key, value in (d.get("authenticationConfiguration") or {}).items():
        click.echo(f"    {key}: {value}")
    for rule in d.get("filters", []):
        click.echo(f"  filter:         {rule['jsonPath']} == {rule.get('matchEquals', '(any)')}")
    click.echo(f"  last triggered: {_when(item)}")
    if item.get("errorMessage"):
        click.echo(f"  last error:     {item.get('errorCode', '')} {item['errorMessage']}")
    for tag in item.get("tags", []):
        click.echo(f"  tag:            {tag['key']}={tag.get('value', '')}")
