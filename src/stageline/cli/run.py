"""``stageline run FILE``: run a pipeline once, on the spot, with live progress.

Without ``--endpoint-url`` it starts a private stageline (a throw-away data
directory, the API on a free loopback port, the in-process agent) and drives it
with the same boto3 calls it would send to a shared server, so both modes
behave alike. ``--source NAME=PATH`` snapshots a local directory into a hosted
repository and points source action NAME at it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import click
import httpx
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from stageline.cli.client import client
from stageline.repos.errors import GitFailed
from stageline.repos.gitcmd import publish_snapshot

STATUS_STYLE = {
    "Succeeded": "green",
    "Failed": "red",
    "InProgress": "cyan",
    "Abandoned": "magenta",
    "Stopped": "yellow",
    "Stopping": "yellow",
    "Superseded": "dim",
}
FINISHED = ("Succeeded", "Failed", "Stopped", "Superseded", "Cancelled")
LOG_TAIL_LINES = 30

console = Console(stderr=True)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--pipeline",
    "pipeline_name",
    default=None,
    help="Which pipeline of FILE to run (default: the only one).",
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="ACTION=PATH",
    help="Use the files at PATH (a directory, git or not) as the output of source action ACTION.",
)
@click.option(
    "--parameter",
    "-p",
    "parameters",
    multiple=True,
    metavar="KEY=VALUE",
    help="CloudFormation template parameter value (repeatable).",
)
@click.option(
    "--variable",
    "variables",
    multiple=True,
    metavar="NAME=VALUE",
    help="Pipeline variable value (V2).",
)
@click.option(
    "--endpoint-url",
    envvar="STAGELINE_ENDPOINT_URL",
    default=None,
    help="Run on this stageline server instead of a private one.",
)
@click.option("--auto-approve", is_flag=True, help="Approve manual approvals without asking.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the private server's data here (default: a temporary directory, removed after).",
)
@click.option(
    "--timeout",
    type=float,
    default=3600.0,
    show_default=True,
    help="Give up after this many seconds.",
)
def run(
    file: Path,
    pipeline_name: str | None,
    sources: tuple[str, ...],
    parameters: tuple[str, ...],
    variables: tuple[str, ...],
    endpoint_url: str | None,
    auto_approve: bool,
    data_dir: Path | None,
    timeout: float,
) -> None:
    """Run the pipeline in FILE once and show its progress; exit 0 only if it succeeded."""
    from stageline.ascode import DefinitionError, load_pipeline_file
    from stageline.cli.linting import problems_of

    params = dict(_pairs(parameters, "--parameter"))
    try:
        loaded = load_pipeline_file(file, parameters=params)
    except DefinitionError as exc:
        raise click.ClickException(f"{file}: {exc}") from exc
    chosen = [p for p in loaded if pipeline_name in (None, p.pipeline.get("name"))]
    if not chosen:
        raise click.ClickException(f"{file} has no pipeline named {pipeline_name!r}")
    if len(chosen) > 1:
        names = ", ".join(p.pipeline.get("name", "?") for p in chosen)
        raise click.ClickException(
            f"{file} holds several pipelines ({names}); choose one with --pipeline"
        )
    declaration = dict(chosen[0].pipeline)
    mapping = dict(_pairs(sources, "--source"))
    _check_source_names(declaration, mapping)
    with _server(endpoint_url, data_dir) as (url, logs_dir):
        for action_name, path in mapping.items():
            repo = _publish_source(url, declaration["name"], action_name, Path(path))
            _point_source_at(declaration, action_name, repo)
        problems = problems_of(declaration)
        if problems:
            raise click.ClickException("the pipeline would be refused:\n  " + "\n  ".join(problems))
        ok = _drive(
            url, declaration, dict(_pairs(variables, "--variable")), auto_approve, timeout, logs_dir
        )
    raise SystemExit(0 if ok else 1)


def _pairs(items: tuple[str, ...], flag: str) -> Iterator[tuple[str, str]]:
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"'{item}' is not KEY=VALUE", param_hint=flag)
        yield key, value


def _check_source_names(declaration: dict[str, Any], mapping: dict[str, str]) -> None:
    first = declaration.get("stages", [{}])[0].get("actions", [])
    names = [a["name"] for a in first]
    for name, path in mapping.items():
        if name not in names:
            raise click.BadParameter(
                f"'{name}' is not a source action of pipeline '{declaration.get('name')}'; "
                f"source actions: {', '.join(names)}",
                param_hint="--source",
            )
        if not Path(path).is_dir():
            raise click.BadParameter(f"{path} is not a directory", param_hint="--source")


# --- the server -------------------------------------------------------------------------


@contextmanager
def _server(endpoint_url: str | None, data_dir: Path | None) -> Iterator[tuple[str, Path | None]]:
    if endpoint_url:
        yield endpoint_url.rstrip("/"), None
        return
    import uvicorn

    from stageline.api.app import create_app
    from stageline.config import Settings

    temp = None
    if data_dir is None:
        temp = tempfile.mkdtemp(prefix="stageline-run-")
        data_dir = Path(temp)
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(Settings(data_dir=data_dir, port=sock.getsockname()[1]))
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield url, data_dir / "logs"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


# --- sources ----------------------------------------------------------------------------


def _repo_name(pipeline: str, action: str) -> str:
    return re.sub(r"[^\w.-]", "-", f"{pipeline}-{action}".lower())[:100]


def _publish_source(url: str, pipeline: str, action: str, path: Path) -> str:
    """Commit a snapshot of ``path`` (tracked and untracked files, minus ignored ones) and push it."""
    name = _repo_name(pipeline, action)
    cc = client(url, "codecommit")
    with suppress(cc.exceptions.RepositoryNameExistsException):
        cc.create_repository(repositoryName=name, repositoryDescription=f"snapshot of {path}")
    with tempfile.TemporaryDirectory(prefix="stageline-src-") as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        for rel in _files_of(path):
            src, dst = path / rel, work / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_symlink():
                os.symlink(os.readlink(src), dst)
            elif src.is_file():
                shutil.copy2(src, dst)
        try:
            publish_snapshot(
                work,
                f"{url}/git/{name}",
                f"stageline run: snapshot of {path.name}",
                author="stageline run",
                email="run@stageline.local",
            )
        except GitFailed as exc:
            raise click.ClickException(f"publishing {path}: {exc}") from exc
    return name


def _files_of(path: Path) -> list[str]:
    if (path / ".git").exists():
        result = subprocess.run(
            [
                "git",
                "-C",
                str(path),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode == 0:
            return [f for f in result.stdout.split("\0") if f and (path / f).exists()]
    return [
        str(p.relative_to(path)) for p in path.rglob("*") if p.is_file() and ".git" not in p.parts
    ]


def _point_source_at(declaration: dict[str, Any], action_name: str, repo: str) -> None:
    for action in declaration["stages"][0]["actions"]:
        if action["name"] == action_name:
            output = (action.get("outputArtifacts") or [{"name": "SourceOutput"}])[:1]
            action["actionTypeId"] = {
                "category": "Source",
                "owner": "AWS",
                "provider": "CodeCommit",
                "version": "1",
            }
            action["configuration"] = {
                "RepositoryName": repo,
                "BranchName": "main",
                "PollForSourceChanges": "false",
            }
            action["outputArtifacts"] = output
            for key in ("roleArn", "region"):
                action.pop(key, None)


# --- driving and showing ----------------------------------------------------------------


def _drive(
    url: str,
    declaration: dict[str, Any],
    variables: dict[str, str],
    auto_approve: bool,
    timeout: float,
    logs_dir: Path | None,
) -> bool:
    from botocore.exceptions import ClientError, EndpointConnectionError

    cp = client(url)
    name = declaration["name"]
    try:
        try:
            current = cp.get_pipeline(name=name)["pipeline"]
            declaration["version"] = current["version"]
            cp.update_pipeline(pipeline=declaration)
            execution_id = None
        except cp.exceptions.PipelineNotFoundException:
            declaration.pop("version", None)
            cp.create_pipeline(pipeline=declaration)
            execution_id = cp.list_pipeline_executions(pipelineName=name, maxResults=1)[
                "pipelineExecutionSummaries"
            ][0]["pipelineExecutionId"]
        if execution_id is None or variables:
            if execution_id is not None:
                cp.stop_pipeline_execution(
                    pipelineName=name,
                    pipelineExecutionId=execution_id,
                    abandon=True,
                    reason="restarted with variables",
                )
            execution_id = cp.start_pipeline_execution(
                name=name, variables=[{"name": k, "value": v} for k, v in variables.items()]
            )["pipelineExecutionId"]
    except EndpointConnectionError as exc:
        raise click.ClickException(f"cannot reach a stageline server at {url}") from exc
    except ClientError as exc:
        err = exc.response["Error"]
        raise click.ClickException(f"{err['Code']}: {err['Message']}") from exc
    console.print(f"[bold]{name}[/] execution {execution_id}", highlight=False)
    started = time.monotonic()
    asked: set[str] = set()
    status = "InProgress"
    interactive = sys.stdin.isatty() and console.is_terminal
    with Live(console=console, refresh_per_second=8, transient=False) as live:
        while True:
            status = cp.get_pipeline_execution(pipelineName=name, pipelineExecutionId=execution_id)[
                "pipelineExecution"
            ]["status"]
            state = cp.get_pipeline_state(name=name)
            details = _details(cp, name, execution_id)
            live.update(_render(state, details, execution_id, status, time.monotonic() - started))
            if status in FINISHED:
                break
            for token, stage, action, summary in _pending_approvals(state, execution_id):
                if token in asked:
                    continue
                asked.add(token)
                verdict = _ask_approval(live, stage, action, summary, auto_approve, interactive)
                if verdict is not None:
                    cp.put_approval_result(
                        pipelineName=name,
                        stageName=stage,
                        actionName=action,
                        token=token,
                        result={"status": verdict, "summary": "answered by stageline run"},
                    )
            if time.monotonic() - started > timeout:
                cp.stop_pipeline_execution(
                    pipelineName=name,
                    pipelineExecutionId=execution_id,
                    abandon=True,
                    reason=f"stageline run --timeout {timeout:g}s",
                )
                console.print(f"[red]gave up after {timeout:g} s[/]")
            time.sleep(0.15)
    if status != "Succeeded":
        _show_failures(url, details, logs_dir)
    console.print(
        f"[{STATUS_STYLE.get(status, 'white')}]{status}[/] in {time.monotonic() - started:.1f} s"
    )
    return status == "Succeeded"


def _details(cp: Any, name: str, execution_id: str) -> dict[str, dict[str, Any]]:
    items = cp.list_action_executions(
        pipelineName=name, filter={"pipelineExecutionId": execution_id}
    )["actionExecutionDetails"]
    latest: dict[str, dict[str, Any]] = {}
    for d in sorted(items, key=lambda d: d["startTime"]):
        latest[f"{d['stageName']}/{d['actionName']}"] = d
    return latest


def _pending_approvals(
    state: dict[str, Any], execution_id: str
) -> Iterator[tuple[str, str, str, str]]:
    for stage in state["stageStates"]:
        if stage.get("latestExecution", {}).get("pipelineExecutionId") != execution_id:
            continue
        for action in stage["actionStates"]:
            latest = action.get("latestExecution", {})
            if latest.get("token") and latest.get("status") == "InProgress":
                yield (
                    latest["token"],
                    stage["stageName"],
                    action["actionName"],
                    latest.get("summary", ""),
                )


def _ask_approval(
    live: Live, stage: str, action: str, summary: str, auto: bool, interactive: bool
) -> str | None:
    if auto:
        return "Approved"
    if not interactive:
        console.print(
            f"waiting for approval of {stage}/{action} (use --auto-approve, or approve it with "
            "aws codepipeline put-approval-result)"
        )
        return None
    live.stop()
    try:
        answer = click.confirm(f"Approve {stage}/{action}? {summary}", default=True)
    finally:
        live.start()
    return "Approved" if answer else "Rejected"


def _render(
    state: dict[str, Any],
    details: dict[str, dict[str, Any]],
    execution_id: str,
    status: str,
    elapsed: float,
) -> Group:
    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    for column in ("stage", "action", "status", "time", "summary"):
        table.add_column(column)
    for stage in state["stageStates"]:
        for action in stage["actionStates"]:
            d = details.get(f"{stage['stageName']}/{action['actionName']}")
            if d is None:
                table.add_row(
                    stage["stageName"], action["actionName"], Text("waiting", style="dim"), "", ""
                )
                continue
            seconds = (d["lastUpdateTime"] - d["startTime"]).total_seconds()
            result = d.get("output", {}).get("executionResult", {})
            summary = (
                result.get("errorDetails", {}).get("message")
                or result.get("externalExecutionSummary")
                or ""
            )
            table.add_row(
                stage["stageName"],
                action["actionName"],
                Text(d["status"], style=STATUS_STYLE.get(d["status"], "white")),
                f"{seconds:.1f}s" if d["status"] != "InProgress" else "…",
                Text(summary.splitlines()[0][:80] if summary else ""),
            )
    head = Text.assemble(
        ("execution ", "dim"),
        execution_id,
        "  ",
        (status, STATUS_STYLE.get(status, "white")),
        (f"  {elapsed:.1f}s", "dim"),
    )
    return Group(head, table)


def _show_failures(url: str, details: dict[str, dict[str, Any]], logs_dir: Path | None) -> None:
    for key, d in details.items():
        if d["status"] not in ("Failed", "Abandoned"):
            continue
        message = (
            d.get("output", {})
            .get("executionResult", {})
            .get("errorDetails", {})
            .get("message", "")
        )
        console.print(f"\n[red]✗ {key}[/]: {message}", highlight=False, markup=True)
        lines = _log_tail(url, d["actionExecutionId"])
        if lines:
            console.print(f"[dim]last {len(lines)} log lines:[/]")
            for line in lines:
                console.print(f"  {line}", markup=False, highlight=False)


def _log_tail(url: str, action_execution_id: str) -> list[str]:
    lines: list[str] = []
    offset = 0
    try:
        with httpx.Client(base_url=url, timeout=10) as http:
            while True:
                r = http.get(
                    f"/logs/{action_execution_id}", params={"offset": offset, "limit": 5000}
                )
                if r.status_code != 200:
                    break
                page = r.json()
                lines.extend(line["text"] for line in page["lines"])
                lines = lines[-LOG_TAIL_LINES:]
                if not page["lines"]:
                    break
                offset = page["nextOffset"]
    except (httpx.HTTPError, json.JSONDecodeError):
        return lines
    return lines
