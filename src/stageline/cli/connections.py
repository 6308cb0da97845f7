"""``stageline connection``: the connections CodeStarSourceConnection source actions fetch through.

Creating, listing, showing and deleting go through boto3's
``codestar-connections`` client, as any AWS client would. Where a connection
fetches from, the secret holding its token and the secret its webhook
deliveries must prove are stageline's own settings (AWS settles them in its
console), set through the server's
``/_stageline/connections/{name}/settings`` route so the CLI works against a
remote server too.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import click
import httpx
from rich.console import Console
from rich.table import Table

from stageline.cli.client import call, endpoint_option, output_option

console = Console()
SERVICE = "codestar-connections"
PROVIDER_TYPES = ("GitHub", "GitLab", "Bitbucket", "GitHubEnterpriseServer", "GitLabSelfManaged")


def _call(endpoint_url: str, operation: str, **params: Any) -> Any:
    return call(endpoint_url, operation, service=SERVICE, **params)


def _all_connections(endpoint_url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {}
    while True:
        page = _call(endpoint_url, "list_connections", **params)
        found.extend(page.get("Connections", []))
        if not page.get("NextToken"):
            return found
        params["NextToken"] = page["NextToken"]


def _arn_of(endpoint_url: str, name_or_arn: str) -> str:
    """The ARN of a connection given by name (or an ARN, returned as is)."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn
    for item in _all_connections(endpoint_url):
        if item["ConnectionName"] == name_or_arn:
            return str(item["ConnectionArn"])
    raise click.ClickException(
        f"no connection is named '{name_or_arn}'; list them with `stageline connection list`"
    )


def _settings(endpoint_url: str, name: str, changes: dict[str, Any] | None = None) -> Any:
    """GET (or, with ``changes``, POST) the connection's stageline settings."""
    url = f"{endpoint_url.rstrip('/')}/_stageline/connections/{quote(name, safe='')}/settings"
    try:
        if changes is None:
            response = httpx.get(url, timeout=30)
        else:
            response = httpx.post(url, json=changes, timeout=30)
    except httpx.TransportError as exc:
        raise click.ClickException(
            f"cannot reach a stageline server at {endpoint_url}; start one with `stageline server` "
            "or pass --endpoint-url"
        ) from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200:
        raise click.ClickException(
            f"{body.get('error', response.status_code)}: {body.get('message', response.text)}"
        )
    return body


@click.group("connection")
def connection() -> None:
    """Connections to GitHub, GitLab, Bitbucket or any git server (the CodeConnections API).

    A CodeStarSourceConnection source action names a connection by its ARN and
    a repository as OWNER/NAME. A connection fetches from its provider's address
    (GitHub: the server's --github-url; GitLab: gitlab.com; Bitbucket:
    bitbucket.org; a host's endpoint), or from the --endpoint set here, with the
    token stored in the secret named by --credentials-secret. Deliveries to its
    webhook URL must prove the secret named by --webhook-secret.
    """


@connection.command("create")
@click.argument("name")
@click.option(
    "--provider-type",
    type=click.Choice(PROVIDER_TYPES),
    default=None,
    help="The provider (GitHubEnterpriseServer and GitLabSelfManaged need --host-arn).",
)
@click.option("--host-arn", default=None, help="A host from CreateHost (self-managed servers).")
@click.option("--endpoint", default=None, help="Fetch from this URL instead (https://, file://).")
@click.option(
    "--credentials-secret",
    default=None,
    help="The secret holding the token (a token, or user:token); `stageline secret put` it first.",
)
@click.option(
    "--webhook-secret",
    default=None,
    help="The secret that deliveries to the connection's webhook URL must prove.",
)
@endpoint_option
@output_option
def create(
    name: str,
    provider_type: str | None,
    host_arn: str | None,
    endpoint: str | None,
    credentials_secret: str | None,
    webhook_secret: str | None,
    endpoint_url: str,
    output: str,
) -> None:
    """Create the connection NAME and print its ARN (it is AVAILABLE at once)."""
    if not provider_type and not host_arn:
        raise click.UsageError("give --provider-type, or --host-arn for a self-managed server")
    params: dict[str, Any] = {"ConnectionName": name}
    if provider_type:
        params["ProviderType"] = provider_type
    if host_arn:
        params["HostArn"] = host_arn
    arn = _call(endpoint_url, "create_connection", **params)["ConnectionArn"]
    settings = None
    changes = _changes(endpoint, credentials_secret, webhook_secret)
    if changes:
        settings = _settings(endpoint_url, arn, changes)
    if output == "json":
        click.echo(json.dumps({"ConnectionArn": arn, "settings": settings}, indent=2))
        return
    click.echo(f"created connection {name}")
    click.echo(f"  ARN: {arn}")
    if settings:
        click.echo(f"  fetches from: {settings['fetchesFrom']}")
    click.echo("  use it as ConnectionArn in a CodeStarSourceConnection source action")


@connection.command("list")
@endpoint_option
@output_option
def list_connections(endpoint_url: str, output: str) -> None:
    """List the connections."""
    found = _all_connections(endpoint_url)
    if output == "json":
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        click.echo(
            "no connections yet; create one with "
            "`stageline connection create NAME --provider-type GitHub`"
        )
        return
    table = Table("name", "provider", "status", "ARN")
    for item in found:
        table.add_row(
            item["ConnectionName"],
            item["ProviderType"],
            item["ConnectionStatus"],
            item["ConnectionArn"],
        )
    console.print(table)


@connection.command("show")
@click.argument("name_or_arn")
@endpoint_option
@output_option
def show(name_or_arn: str, endpoint_url: str, output: str) -> None:
    """Show a connection, where it fetches from and the names of the secrets it uses."""
    arn = _arn_of(endpoint_url, name_or_arn)
    details = _call(endpoint_url, "get_connection", ConnectionArn=arn)["Connection"]
    settings = _settings(endpoint_url, arn)
    if output == "json":
        click.echo(json.dumps({**details, "settings": settings}, indent=2))
        return
    rows = [
        ("name", details["ConnectionName"]),
        ("ARN", details["ConnectionArn"]),
        ("provider", details["ProviderType"]),
        ("status", details["ConnectionStatus"]),
        ("host", details.get("HostArn") or "-"),
        ("fetches from", settings["fetchesFrom"]),
        ("endpoint override", settings.get("endpoint") or "-"),
        ("credentials secret", settings.get("credentialsSecret") or "- (anonymous)"),
        (
            "webhook secret",
            settings.get("webhookSecret") or "- (deliveries from the server's machine only)",
        ),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        click.echo(f"{label.ljust(width)}  {value}")


@connection.command("set")
@click.argument("name_or_arn")
@click.option("--endpoint", default=None, help="Fetch from this URL; '' goes back to the default.")
@click.option(
    "--credentials-secret",
    default=None,
    help="The secret holding the token (a token, or user:token); '' for anonymous access.",
)
@click.option(
    "--webhook-secret",
    default=None,
    help="The secret that deliveries to the connection's webhook URL must prove; '' clears it.",
)
@endpoint_option
def set_settings(
    name_or_arn: str,
    endpoint: str | None,
    credentials_secret: str | None,
    webhook_secret: str | None,
    endpoint_url: str,
) -> None:
    """Set where a connection fetches from and the secrets it uses (by name)."""
    changes = _changes(endpoint, credentials_secret, webhook_secret)
    if not changes:
        raise click.UsageError("give --endpoint, --credentials-secret and/or --webhook-secret")
    settings = _settings(endpoint_url, name_or_arn, changes)
    click.echo(f"connection {settings['connectionName']} fetches from {settings['fetchesFrom']}")
    secret = settings.get("credentialsSecret")
    click.echo(f"  credentials: {f'secret {secret}' if secret else 'none (anonymous)'}")
    hook = settings.get("webhookSecret")
    shown = f"must prove secret {hook}" if hook else "from the server's machine only"
    click.echo(f"  webhook deliveries: {shown}")


@connection.command("delete")
@click.argument("name_or_arn")
@endpoint_option
def delete(name_or_arn: str, endpoint_url: str) -> None:
    """Delete a connection (pipelines that use it then fail at their source action)."""
    arn = _arn_of(endpoint_url, name_or_arn)
    _call(endpoint_url, "delete_connection", ConnectionArn=arn)
    click.echo(f"deleted connection {name_or_arn}")


def _changes(
    endpoint: str | None, credentials_secret: str | None, webhook_secret: str | None
) -> dict[str, Any]:
    given = {
        "endpoint": endpoint,
        "credentialsSecret": credentials_secret,
        "webhookSecret": webhook_secret,
    }
    return {member: value for member, value in given.items() if value is not None}
