"""``stageline secret``: store, list and delete the secrets and parameters builds read.

The commands talk to the server through boto3's secretsmanager and ssm
clients, as any AWS client would. A value goes in from a file, from stdin or
from a hidden prompt, and is never echoed: the server never returns one.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from stageline.cli.client import call, endpoint_option, output_option

console = Console()
SECRET, PARAMETER = "secret", "parameter"
kind_option = click.option(
    "--kind",
    type=click.Choice([SECRET, PARAMETER]),
    default=SECRET,
    show_default=True,
    help="A Secrets Manager secret (env.secrets-manager) or an SSM parameter (env.parameter-store).",
)


def _call(
    endpoint_url: str,
    service: str,
    operation: str,
    *,
    tolerate: tuple[str, ...] = (),
    **params: Any,
) -> Any:
    """``call``, but an API error whose code is in ``tolerate`` returns None instead."""
    from botocore.exceptions import ClientError

    try:
        return call(endpoint_url, operation, service=service, **params)
    except click.ClickException as exc:
        cause = exc.__cause__
        if isinstance(cause, ClientError) and cause.response["Error"].get("Code") in tolerate:
            return None
        raise


def _read_value(value_file: Path | None) -> str:
    """From the file, else from stdin when it is piped, else a hidden prompt typed twice."""
    if value_file is not None:
        text = value_file.read_text(encoding="utf-8")
    elif not sys.stdin.isatty():
        text = sys.stdin.read()
    else:
        text = click.prompt("Value", hide_input=True, confirmation_prompt=True)
    # `echo value | stageline secret put NAME` and files end with a newline nobody means.
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if not text:
        raise click.UsageError("the value is empty; nothing stored")
    return text


@click.group("secret")
def secret() -> None:
    """Secrets and parameters for builds (the Secrets Manager and SSM Parameter Store APIs).

    A buildspec reads them with env.secrets-manager (VAR: name:json-key) and
    env.parameter-store (VAR: /parameter/name). Values are encrypted at rest and
    never shown again: not by these commands, not by the API.
    """


@secret.command("put")
@click.argument("name")
@click.option(
    "--value-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Read the value from FILE (else from stdin when piped, else a hidden prompt).",
)
@kind_option
@click.option(
    "--type",
    "parameter_type",
    type=click.Choice(["SecureString", "String", "StringList"]),
    default="SecureString",
    show_default=True,
    help="The parameter's type (with --kind parameter).",
)
@click.option("--description", default=None, help="Shown by `stageline secret list`.")
@endpoint_option
@output_option
def put(
    name: str,
    value_file: Path | None,
    kind: str,
    parameter_type: str,
    description: str | None,
    endpoint_url: str,
    output: str,
) -> None:
    """Store a value under NAME; if NAME exists, the value becomes its new version."""
    value = _read_value(value_file)
    if kind == PARAMETER:
        params: dict[str, Any] = {
            "Name": name,
            "Value": value,
            "Type": parameter_type,
            "Overwrite": True,
        }
        if description is not None:
            params["Description"] = description
        result = _call(endpoint_url, "ssm", "put_parameter", **params)
        stored = {"kind": PARAMETER, "name": name, "version": result["Version"]}
    else:
        extra: dict[str, Any] = {} if description is None else {"Description": description}
        result = _call(
            endpoint_url,
            "secretsmanager",
            "create_secret",
            tolerate=("ResourceExistsException",),
            Name=name,
            SecretString=value,
            **extra,
        )
        if result is None:
            result = _call(
                endpoint_url,
                "secretsmanager",
                "put_secret_value",
                SecretId=name,
                SecretString=value,
            )
            if extra:
                _call(endpoint_url, "secretsmanager", "update_secret", SecretId=name, **extra)
        stored = {
            "kind": SECRET,
            "name": name,
            "arn": result["ARN"],
            "version": result["VersionId"],
        }
    if output == "json":
        click.echo(json.dumps(stored, indent=2))
        return
    click.echo(f"stored {kind} {name} (version {stored['version']})")
    reference = "env.parameter-store" if kind == PARAMETER else "env.secrets-manager"
    click.echo(f"  use it in a buildspec: {reference}: {{MY_VAR: {name}}}")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _all_pages(
    endpoint_url: str, service: str, operation: str, key: str, **params: Any
) -> list[Any]:
    items: list[Any] = []
    while True:
        page = _call(endpoint_url, service, operation, **params)
        items.extend(page.get(key, []))
        if not page.get("NextToken"):
            return items
        params["NextToken"] = page["NextToken"]


@secret.command("list")
@endpoint_option
@output_option
def list_secrets(endpoint_url: str, output: str) -> None:
    """List the secrets and parameters, by name (never their values)."""
    found: list[dict[str, Any]] = []
    for s in _all_pages(
        endpoint_url,
        "secretsmanager",
        "list_secrets",
        "SecretList",
        IncludePlannedDeletion=True,
        SortBy="name",
    ):
        found.append(
            {
                "kind": SECRET,
                "name": s["Name"],
                "arn": s["ARN"],
                "type": "SecretString",
                "description": s.get("Description"),
                "lastChanged": s.get("LastChangedDate"),
                "deletedDate": s.get("DeletedDate"),
            }
        )
    for p in _all_pages(endpoint_url, "ssm", "describe_parameters", "Parameters", MaxResults=50):
        found.append(
            {
                "kind": PARAMETER,
                "name": p["Name"],
                "arn": p["ARN"],
                "type": p["Type"],
                "version": p["Version"],
                "description": p.get("Description"),
                "lastChanged": p.get("LastModifiedDate"),
            }
        )
    found.sort(key=lambda item: (item["name"], item["kind"]))
    if output == "json":
        click.echo(json.dumps(found, indent=2, default=str))
        return
    if not found:
        click.echo("no secrets or parameters yet; store one with `stageline secret put NAME`")
        return
    table = Table("name", "kind", "type", "changed", "description")
    for item in found:
        note = item.get("description") or ""
        if item.get("deletedDate"):
            note = f"scheduled for deletion (`stageline secret restore {item['name']}`) {note}"
        table.add_row(item["name"], item["kind"], item["type"], _when(item["lastChanged"]), note)
    console.print(table)


@secret.command("delete")
@click.argument("name")
@kind_option
@click.option(
    "--force",
    is_flag=True,
    help="Secrets: delete at once, with no recovery window (it cannot be restored).",
)
@click.option(
    "--recovery-days",
    type=click.IntRange(7, 30),
    default=None,
    help="Secrets: days it can still be restored in [default: 30].",
)
@endpoint_option
def delete(name: str, kind: str, force: bool, recovery_days: int | None, endpoint_url: str) -> None:
    """Delete the secret or parameter NAME (a secret after a recovery window, as on AWS)."""
    if kind == PARAMETER:
        _call(endpoint_url, "ssm", "delete_parameter", Name=name)
        click.echo(f"deleted parameter {name}")
        return
    if force and recovery_days is not None:
        raise click.UsageError("pass --force or --recovery-days, not both")
    params: dict[str, Any] = {"SecretId": name}
    if force:
        params["ForceDeleteWithoutRecovery"] = True
    elif recovery_days is not None:
        params["RecoveryWindowInDays"] = recovery_days
    result = _call(endpoint_url, "secretsmanager", "delete_secret", **params)
    if force:
        click.echo(f"deleted secret {name}")
    else:
        click.echo(
            f"secret {name} is scheduled for deletion on {_when(result.get('DeletionDate'))}; "
            f"until then `stageline secret restore {name}` brings it back"
        )


@secret.command("restore")
@click.argument("name")
@endpoint_option
def restore(name: str, endpoint_url: str) -> None:
    """Cancel the scheduled deletion of the secret NAME."""
    _call(endpoint_url, "secretsmanager", "restore_secret", SecretId=name)
    click.echo(f"restored secret {name}")
