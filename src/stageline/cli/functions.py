"""``stageline function``: create, list and delete the functions Lambda invoke actions run.

The CodePipeline API has no operations for functions, so these commands talk
to the server's own ``/_stageline/functions`` routes with httpx. The code
directory is zipped in memory (symlinks that leave it are refused, as the
server would) and sent base64-encoded, as Lambda's CreateFunction takes it.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from stageline.artifacts import PackagingError, zip_directory
from stageline.cli.client import endpoint_option, output_option

console = Console()
ROUTE = "/_stageline/functions"
#: Lambda's quota on a zip sent with the request; the server refuses larger ones too.
MAX_ZIP_BYTES = 50 * 1024 * 1024
_TIMEOUT_S = 120.0


def _request(method: str, endpoint_url: str, path: str, **kwargs: Any) -> Any:
    """Send one request; connection and API errors become clean CLI errors."""
    try:
        import httpx
    except ImportError as exc:  # pragma: no cover - httpx ships with the server's dependencies
        raise click.ClickException("`stageline function` needs httpx: pip install httpx") from exc

    url = endpoint_url.rstrip("/") + path
    try:
        response = httpx.request(method, url, timeout=_TIMEOUT_S, **kwargs)
    except httpx.TransportError as exc:
        raise click.ClickException(
            f"cannot reach a stageline server at {endpoint_url}; start one with `stageline server` "
            "or pass --endpoint-url"
        ) from exc
    if response.status_code >= 400:
        try:
            body = response.json()
            text = f"{body.get('error')}: {body.get('message')}"
        except ValueError:
            text = f"HTTP {response.status_code}: {response.text[:300]}"
        raise click.ClickException(text)
    return response.json() if response.content else None


def _zipped(code: Path) -> str:
    buffer = io.BytesIO()
    try:
        summary = zip_directory(code, buffer)
    except PackagingError as exc:
        raise click.ClickException(f"cannot package {code}: {exc}") from exc
    if summary.files == 0:
        raise click.ClickException(f"{code} holds no files; --code must be the function's code")
    size = buffer.tell()
    if size > MAX_ZIP_BYTES:
        raise click.ClickException(
            f"{code} zips to {size / 1024 / 1024:.1f} MiB, more than the "
            f"{MAX_ZIP_BYTES // 1024 // 1024} MiB a function's zipped code may take"
        )
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _environment(pairs: tuple[str, ...]) -> dict[str, str]:
    env: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--env")
        env[name] = value
    return env


def _show(function: dict[str, Any], output: str, verb: str) -> None:
    if output == "json":
        click.echo(json.dumps(function, indent=2))
        return
    click.echo(f"{verb} function {function['name']}")
    click.echo(f"  arn:     {function['arn']}")
    click.echo(f"  handler: {function['handler']}  timeout: {function['timeout']} s")
    click.echo(f"  code:    {function['codeSize']} bytes, sha256 {function['codeSha256'][:12]}")


code_option = click.option(
    "--code",
    "code",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Directory holding the function's code (its contents become the function's root).",
)


@click.group("function")
def function() -> None:
    """Functions that Lambda invoke actions (Invoke/AWS/Lambda) run on the server.

    A pipeline's FunctionName names one; the function gets AWS's
    {"CodePipeline.job": ...} event and must call PutJobSuccessResult or
    PutJobFailureResult (plain boto3 reaches the server from inside it).
    """


@function.command("create")
@click.argument("name")
@click.option("--handler", required=True, help="MODULE.FUNCTION, e.g. lambda_function.handler.")
@code_option
@click.option("--env", "env", multiple=True, metavar="NAME=VALUE", help="Environment; repeatable.")
@click.option(
    "--timeout",
    type=click.IntRange(1, 900),
    default=3,
    show_default=True,
    help="Seconds the handler may run, as Lambda's timeout.",
)
@click.option("--runtime", default="python3", show_default=True, help="python3 or python3.N.")
@endpoint_option
@output_option
def create(
    name: str,
    handler: str,
    code: Path,
    env: tuple[str, ...],
    timeout: int,
    runtime: str,
    endpoint_url: str,
    output: str,
) -> None:
    """Create the function NAME from the code in --code."""
    body = {
        "name": name,
        "handler": handler,
        "runtime": runtime,
        "environment": _environment(env),
        "timeout": timeout,
        "code": _zipped(code),
    }
    _show(_request("POST", endpoint_url, ROUTE, json=body), output, "created")


@function.command("update-code")
@click.argument("name")
@code_option
@endpoint_option
@output_option
def update_code(name: str, code: Path, endpoint_url: str, output: str) -> None:
    """Replace the code of the function NAME with the code in --code."""
    body = {"code": _zipped(code)}
    _show(_request("PUT", endpoint_url, f"{ROUTE}/{name}/code", json=body), output, "updated")


@function.command("list")
@endpoint_option
@output_option
def list_functions(endpoint_url: str, output: str) -> None:
    """List the functions, by name."""
    functions = _request("GET", endpoint_url, ROUTE)["functions"]
    if output == "json":
        click.echo(json.dumps(functions, indent=2))
        return
    if not functions:
        click.echo(
            "no functions yet; create one with "
            "`stageline function create NAME --handler MODULE.FUNCTION --code DIR`"
        )
        return
    table = Table("name", "handler", "timeout", "last modified")
    for item in functions:
        table.add_row(item["name"], item["handler"], f"{item['timeout']} s", item["lastModified"])
    console.print(table)


@function.command("delete")
@click.argument("name")
@endpoint_option
def delete(name: str, endpoint_url: str) -> None:
    """Delete the function NAME and its code."""
    _request("DELETE", endpoint_url, f"{ROUTE}/{name}")
    click.echo(f"deleted function {name}")
