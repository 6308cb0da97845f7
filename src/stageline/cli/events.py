"""``stageline events``: event rules and their targets, test events, and the dead-letter queue.

Rules and events go through boto3's ``events`` client, as any EventBridge client would
(``aws events ... --endpoint-url`` works as well); the dead-letter queue, which EventBridge
has no API for, through the server's ``/events/dead-letters`` routes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import httpx
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from stageline.cli.client import call, endpoint_option, output_option

console = Console()


def _call(endpoint_url: str, operation: str, **params: Any) -> Any:
    return call(endpoint_url, operation, service="events", **params)


def _json_arg(value: str, what: str) -> str:
    """JSON given inline, or the name of a file holding it (``file://`` accepted, as aws does)."""
    text = value
    if not value.lstrip().startswith(("{", "[")):
        path = Path(value.removeprefix("file://"))
        try:
            text = path.read_text()
        except OSError as exc:
            raise click.BadParameter(
                f"{value!r} is neither JSON nor a readable file ({exc.strerror}); pass the "
                f"{what} inline or as a file"
            ) from None
    try:
        json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"the {what} is not valid JSON: {exc}") from None
    return text


def _http(endpoint_url: str, method: str, path: str, **kwargs: Any) -> Any:
    try:
        response = httpx.request(method, f"{endpoint_url.rstrip('/')}{path}", timeout=30, **kwargs)
    except httpx.TransportError:
        raise click.ClickException(
            f"cannot reach a stageline server at {endpoint_url}; start one with `stageline server` "
            "or pass --endpoint-url"
        ) from None
    if response.status_code != 200:
        try:
            message = response.json().get("error") or response.text
        except ValueError:
            message = response.text
        raise click.ClickException(f"the server answered {response.status_code}: {message}")
    return response.json()


def _when(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


@click.group("events")
def events() -> None:
    """Event rules, targets, test events and the dead-letter queue (the EventBridge API)."""


@events.command("rules")
@click.option("--prefix", default=None, help="Only rules whose name starts with this.")
@endpoint_option
@output_option
def rules(prefix: str | None, endpoint_url: str, output: str) -> None:
    """The rules on the default event bus."""
    params: dict[str, Any] = {"NamePrefix": prefix} if prefix else {}
    found: list[dict[str, Any]] = []
    while True:
        page = _call(endpoint_url, "list_rules", **params)
        found.extend(page["Rules"])
        if not page.get("NextToken"):
            break
        params["NextToken"] = page["NextToken"]
    if output == "json":
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        click.echo("no rules yet; add one with `stageline events put-rule NAME --pattern ...`")
        return
    table = Table("rule", "state", "pattern / schedule", "managed by")
    for r in found:
        table.add_row(
            escape(r["Name"]),
            r["State"],
            escape(r.get("EventPattern") or r.get("ScheduleExpression") or ""),
            escape(r.get("ManagedBy", "")),
        )
    console.print(table)


@events.command("targets")
@click.argument("rule")
@endpoint_option
@output_option
def targets(rule: str, endpoint_url: str, output: str) -> None:
    """The targets of RULE."""
    found = _call(endpoint_url, "list_targets_by_rule", Rule=rule)["Targets"]
    if output == "json":
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        click.echo(f"rule {rule} has no targets; add one with `aws events put-targets`")
        return
    table = Table("id", "arn", "input", "retries")
    for t in found:
        shaping = next((k for k in ("Input", "InputPath", "InputTransformer") if k in t), "event")
        policy = t.get("RetryPolicy") or {}
        table.add_row(
            escape(t["Id"]),
            escape(t["Arn"]),
            shaping,
            str(policy.get("MaximumRetryAttempts", 185)),
        )
    console.print(table)


@events.command("put-rule")
@click.argument("name")
@click.option("--pattern", help="The event pattern: JSON, or a file holding it.")
@click.option("--schedule", help="A schedule instead: rate(5 minutes) or cron(0 12 * * ? *).")
@click.option("--description", default=None)
@click.option("--disabled", is_flag=True, help="Create the rule disabled.")
@click.option(
    "--target",
    "target_arns",
    multiple=True,
    help="A target: an http(s):// URL, command:PROGRAM ARGS or a pipeline ARN (repeatable; "
    "their Ids are target-1, target-2...).",
)
@endpoint_option
def put_rule(
    name: str,
    pattern: str | None,
    schedule: str | None,
    description: str | None,
    disabled: bool,
    target_arns: tuple[str, ...],
    endpoint_url: str,
) -> None:
    """Create or replace rule NAME, and add the given targets to it."""
    if not pattern and not schedule:
        raise click.UsageError("pass --pattern (JSON or a file) or --schedule")
    params: dict[str, Any] = {"Name": name, "State": "DISABLED" if disabled else "ENABLED"}
    if pattern:
        params["EventPattern"] = _json_arg(pattern, "event pattern")
    if schedule:
        params["ScheduleExpression"] = schedule
    if description:
        params["Description"] = description
    arn = _call(endpoint_url, "put_rule", **params)["RuleArn"]
    click.echo(f"rule {name}: {arn}")
    if target_arns:
        entries = [{"Id": f"target-{n}", "Arn": a} for n, a in enumerate(target_arns, start=1)]
        result = _call(endpoint_url, "put_targets", Rule=name, Targets=entries)
        for failed in result.get("FailedEntries", []):
            click.echo(f"target {failed['TargetId']} refused: {failed['ErrorMessage']}", err=True)
        if result.get("FailedEntryCount"):
            raise SystemExit(1)
        click.echo(f"{len(entries)} target(s) added")


@events.command("put-event")
@click.option("--source", required=True, help="Your event's source, e.g. com.example.orders.")
@click.option("--detail-type", required=True, help="What happened, e.g. 'Order Placed'.")
@click.option("--detail", default="{}", show_default=True, help="A JSON object (or a file).")
@click.option("--resource", "resources", multiple=True, help="An ARN it concerns (repeatable).")
@endpoint_option
def put_event(
    source: str, detail_type: str, detail: str, resources: tuple[str, ...], endpoint_url: str
) -> None:
    """Put one custom event on the bus (PutEvents)."""
    entry: dict[str, Any] = {
        "Source": source,
        "DetailType": detail_type,
        "Detail": _json_arg(detail, "detail"),
    }
    if resources:
        entry["Resources"] = list(resources)
    result = _call(endpoint_url, "put_events", Entries=[entry])["Entries"][0]
    if "EventId" not in result:
        raise click.ClickException(f"{result.get('ErrorCode')}: {result.get('ErrorMessage')}")
    click.echo(result["EventId"])


@events.command("test-pattern")
@click.option("--pattern", required=True, help="The event pattern: JSON, or a file holding it.")
@click.option("--event", required=True, help="A whole event: JSON, or a file holding it.")
@endpoint_option
def test_pattern(pattern: str, event: str, endpoint_url: str) -> None:
    """Whether an event matches a pattern (TestEventPattern); exit status 1 if it does not."""
    result = _call(
        endpoint_url,
        "test_event_pattern",
        EventPattern=_json_arg(pattern, "event pattern"),
        Event=_json_arg(event, "event"),
    )
    click.echo("matches" if result["Result"] else "does not match")
    if not result["Result"]:
        raise SystemExit(1)


@events.group("dlq")
def dlq() -> None:
    """The dead-letter queue: deliveries that failed for good, kept until redriven."""


@dlq.command("list")
@click.option("--rule", default=None, help="Only this rule's dead letters.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@endpoint_option
@output_option
def dlq_list(rule: str | None, limit: int, endpoint_url: str, output: str) -> None:
    """The dead-lettered deliveries, oldest first."""
    params: dict[str, Any] = {"limit": limit}
    if rule:
        params["rule"] = rule
    found = _http(endpoint_url, "GET", "/events/dead-letters", params=params)
    if output == "json":
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        click.echo("the dead-letter queue is empty")
        return
    table = Table("id", "rule", "target", "attempts", "failed", "last error")
    for d in found:
        table.add_row(
            str(d["id"]),
            escape(d["rule"]),
            escape(d["targetArn"]),
            str(d["attempts"]),
            _when(d.get("failedTime")),
            escape(d.get("lastError") or ""),
        )
    console.print(table)
    click.echo("redrive with `stageline events dlq redrive ID...` or `--all`")


@dlq.command("redrive")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "everything", is_flag=True, help="Redrive the whole queue.")
@endpoint_option
def dlq_redrive(ids: tuple[int, ...], everything: bool, endpoint_url: str) -> None:
    """Deliver dead-lettered deliveries again (by ID, or --all), with fresh attempts."""
    if bool(ids) == everything:
        raise click.UsageError("pass the ids `stageline events dlq list` shows, or --all")
    body: dict[str, Any] = {"all": True} if everything else {"ids": list(ids)}
    result = _http(endpoint_url, "POST", "/events/dead-letters/redrive", json=body)
    moved = result.get("redriven", [])
    click.echo(f"redriving {len(moved)} deliver{'y' if len(moved) == 1 else 'ies'}")
    missing = result.get("notInQueue") or []
    if missing:
        click.echo(f"not in the dead-letter queue: {', '.join(str(i) for i in missing)}", err=True)
