"""``stageline build``: a project's builds, one build's phases, and its test and coverage reports.

They talk to the server through boto3's codebuild client, as any AWS client
would. Projects themselves are created with ``aws codebuild create-project``
(or boto3, CloudFormation...) against the server.
"""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from stageline.cli.client import call, endpoint_option, output_option

console = Console()


def _call(endpoint_url: str, operation: str, **params: Any) -> Any:
    return call(endpoint_url, operation, service="codebuild", **params)


def _build(endpoint_url: str, build_id: str) -> dict[str, Any]:
    found = _call(endpoint_url, "batch_get_builds", ids=[build_id])
    if not found.get("builds"):
        raise click.ClickException(
            f"no build {build_id!r}; list a project's builds with `stageline build list PROJECT`"
        )
    return dict(found["builds"][0])


def _seconds(build: dict[str, Any]) -> str:
    end = build.get("endTime")
    return f"{(end - build['startTime']).total_seconds():.1f} s" if end else "running"


@click.group("build")
def build() -> None:
    """Builds of CodeBuild projects (the CodeBuild API): list, show, reports, start, stop."""


@build.command("list")
@click.argument("project")
@click.option("--limit", default=20, show_default=True, help="How many of the newest builds.")
@endpoint_option
@output_option
def list_builds(project: str, limit: int, endpoint_url: str, output: str) -> None:
    """The newest builds of PROJECT."""
    ids = _call(endpoint_url, "list_builds_for_project", projectName=project)["ids"][:limit]
    builds = _call(endpoint_url, "batch_get_builds", ids=ids)["builds"] if ids else []
    if output == "json":
        click.echo(json.dumps(builds, indent=2, default=str))
        return
    if not builds:
        click.echo(f"no builds of {project} yet; start one with `stageline build start {project}`")
        return
    table = Table("build", "number", "status", "phase", "started", "took", "initiator")
    for b in builds:
        table.add_row(
            escape(b["id"]),
            str(b["buildNumber"]),
            b["buildStatus"],
            b.get("currentPhase", ""),
            b["startTime"].strftime("%Y-%m-%d %H:%M:%S"),
            _seconds(b),
            escape(b.get("initiator", "")),
        )
    console.print(table)


@build.command("show")
@click.argument("build_id")
@endpoint_option
@output_option
def show(build_id: str, endpoint_url: str, output: str) -> None:
    """A build's status, phases, exported variables and log link."""
    b = _build(endpoint_url, build_id)
    if output == "json":
        click.echo(json.dumps(b, indent=2, default=str))
        return
    click.echo(f"{b['id']}  {b['buildStatus']}  ({_seconds(b)}, initiator {b.get('initiator')})")
    table = Table("phase", "status", "seconds", "context")
    for phase in b.get("phases", []):
        context = "; ".join(
            f"{c.get('statusCode')}: {c.get('message')}" for c in phase.get("contexts", [])
        )
        table.add_row(
            phase["phaseType"],
            phase.get("phaseStatus", ""),
            str(phase.get("durationInSeconds", "")),
            escape(context),
        )
    console.print(table)
    for variable in b.get("exportedEnvironmentVariables", []):
        click.echo(f"exported {variable['name']}={variable.get('value', '')}")
    if b.get("logs", {}).get("deepLink"):
        click.echo(f"log: {b['logs']['deepLink']}")


@build.command("reports")
@click.argument("build_id")
@click.option("--all-cases", is_flag=True, help="List every test case, not only the failing ones.")
@endpoint_option
@output_option
def reports(build_id: str, all_cases: bool, endpoint_url: str, output: str) -> None:
    """A build's test and coverage reports: counts, failing tests with messages, coverage."""
    arns = _build(endpoint_url, build_id).get("reportArns", [])
    found = _call(endpoint_url, "batch_get_reports", reportArns=arns)["reports"] if arns else []
    cases: dict[str, list[dict[str, Any]]] = {}
    for report in found:
        if report["type"] == "TEST":
            params: dict[str, Any] = {"reportArn": report["arn"]}
            if not all_cases:
                params["filter"] = {"status": "FAILED"}
            cases[report["arn"]] = _call(endpoint_url, "describe_test_cases", **params)["testCases"]
    if output == "json":
        click.echo(json.dumps({"reports": found, "testCases": cases}, indent=2, default=str))
        return
    if not found:
        click.echo(f"build {build_id} has no reports; a buildspec declares them under 'reports'")
        return
    for report in found:
        click.echo(f"{report['name']} ({report['type']}, {report['status']})")
        if "testSummary" in report:
            s = report["testSummary"]
            counts = ", ".join(f"{n} {k.lower()}" for k, n in s["statusCounts"].items() if n)
            click.echo(f"  {s['total']} tests: {counts}")
            for case in cases.get(report["arn"], []):
                name = ".".join(p for p in (case.get("prefix"), case["name"]) if p)
                click.echo(f"  {case['status']:<9} {name}")
                if case.get("message"):
                    click.echo(f"            {case['message'].splitlines()[0]}")
        if "codeCoverageSummary" in report:
            c = report["codeCoverageSummary"]
            line = c.get("lineCoveragePercentage")
            branch = c.get("branchCoveragePercentage")
            click.echo(
                f"  lines {line if line is not None else '-'}%, "
                f"branches {branch if branch is not None else '-'}%"
            )


@build.command("start")
@click.argument("project")
@click.option("--source-version", default=None, help="Branch, tag or commit to build.")
@click.option(
    "--env", "env", multiple=True, metavar="NAME=VALUE", help="Override a variable (repeatable)."
)
@endpoint_option
def start(
    project: str, source_version: str | None, env: tuple[str, ...], endpoint_url: str
) -> None:
    """Start a build of PROJECT (StartBuild) and print its id."""
    params: dict[str, Any] = {"projectName": project}
    if source_version:
        params["sourceVersion"] = source_version
    overrides = []
    for item in env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--env")
        overrides.append({"name": name, "value": value, "type": "PLAINTEXT"})
    if overrides:
        params["environmentVariablesOverride"] = overrides
    started = _call(endpoint_url, "start_build", **params)["build"]
    click.echo(started["id"])


@build.command("stop")
@click.argument("build_id")
@endpoint_option
def stop(build_id: str, endpoint_url: str) -> None:
    """Stop a running build (StopBuild): its whole process tree is stopped."""
    _call(endpoint_url, "stop_build", id=build_id)
    click.echo(f"stopping {build_id}")
