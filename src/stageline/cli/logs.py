"""``stageline logs``: the logs of a pipeline execution's actions, printed or followed live.

The execution and its actions come from GetPipelineExecution and
ListActionExecutions through boto3, as for any AWS client; the lines come
from the server's ``GET /logs/<action execution id>`` JSON pages, read with
httpx page by page, so a huge log is never held whole. An action execution
may have written several logs (``<id>.1``… after a continuation or a re-run
on another agent); they are printed in order as one.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import click
import httpx

from stageline.cli.client import call, endpoint_option
from stageline.logs import part_id
from stageline.logs.text import timestamp

POLL_S = 0.3
STATUS_EVERY_S = 1.0
# An action's result is reported a moment before its log is closed; this is how
# long a finished action's log may stay open before we stop waiting for the rest.
CLOSING_GRACE_S = 5.0
PAGE_LINES = 5000
RUNNING = ("InProgress", "Stopping")


@click.command("logs")
@click.argument("pipeline")
@click.option("--execution", "execution_id", metavar="ID", help="Default: the latest execution.")
@click.option("--stage", metavar="NAME", help="Only the actions of this stage.")
@click.option("--action", metavar="NAME", help="Only this action.")
@click.option(
    "--follow", "-f", is_flag=True, help="Keep printing as actions run, until the execution ends."
)
@click.option("--timestamps", "-t", is_flag=True, help="Start each line with its time (UTC).")
@endpoint_option
def logs(
    pipeline: str,
    execution_id: str | None,
    stage: str | None,
    action: str | None,
    follow: bool,
    timestamps: bool,
    endpoint_url: str,
) -> None:
    """Print the logs of the actions of PIPELINE's latest execution (or --execution).

    Each action's log comes under a header naming it, in the order the actions
    started. With --follow, lines are printed as they are written and the
    command ends when the execution does.
    """
    execution = _execution(endpoint_url, pipeline, execution_id)
    wanted = _selection(endpoint_url, pipeline, execution["pipelineVersion"], stage, action)
    reader = _Reader(
        endpoint_url,
        pipeline,
        execution["pipelineExecutionId"],
        wanted,
        headers=action is None,
        timestamps=timestamps,
    )
    try:
        with reader:
            if follow:
                status = reader.follow()
                click.echo(f"execution {execution['pipelineExecutionId']}: {status}", err=True)
            else:
                reader.print_all()
    except BrokenPipeError:  # `stageline logs p | head`: the reader has seen enough
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)


def _execution(endpoint_url: str, pipeline: str, execution_id: str | None) -> dict[str, Any]:
    if execution_id is None:
        summaries = call(
            endpoint_url, "list_pipeline_executions", pipelineName=pipeline, maxResults=1
        )["pipelineExecutionSummaries"]
        if not summaries:
            raise click.ClickException(
                f"pipeline '{pipeline}' has no executions yet; start one with "
                f"`aws codepipeline start-pipeline-execution --name {pipeline}`"
            )
        execution_id = summaries[0]["pipelineExecutionId"]
    return dict(
        call(
            endpoint_url,
            "get_pipeline_execution",
            pipelineName=pipeline,
            pipelineExecutionId=execution_id,
        )["pipelineExecution"]
    )


def _selection(
    endpoint_url: str, pipeline: str, version: int, stage: str | None, action: str | None
) -> set[tuple[str, str]]:
    """The (stage, action) names asked for, checked against the execution's pipeline version."""
    declaration = call(endpoint_url, "get_pipeline", name=pipeline, version=version)["pipeline"]
    stages = [(s["name"], [a["name"] for a in s["actions"]]) for s in declaration["stages"]]
    if stage is not None and stage not in [name for name, _ in stages]:
        raise click.ClickException(
            f"no stage '{stage}' in pipeline '{pipeline}'; its stages are: "
            + ", ".join(name for name, _ in stages)
        )
    candidates = [(s, a) for s, actions in stages if stage in (None, s) for a in actions]
    if action is None:
        return set(candidates)
    chosen = {(s, a) for s, a in candidates if a == action}
    if not chosen:
        where = f"stage '{stage}' of pipeline '{pipeline}'" if stage else f"pipeline '{pipeline}'"
        names = ", ".join(a if stage else f"{s}/{a}" for s, a in candidates)
        raise click.ClickException(f"no action '{action}' in {where}; its actions are: {names}")
    return chosen


class _Reader:
    """Finds an execution's action executions and prints their logs."""

    def __init__(
        self,
        endpoint_url: str,
        pipeline: str,
        execution_id: str,
        wanted: set[tuple[str, str]],
        *,
        headers: bool,
        timestamps: bool,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.pipeline = pipeline
        self.execution_id = execution_id
        self.wanted = wanted
        self.headers = headers
        self.timestamps = timestamps
        self.http = httpx.Client(base_url=endpoint_url, timeout=30)
        self._listed: list[dict[str, Any]] = []
        self._listed_at = 0.0
        self._runs: dict[tuple[str, str], int] = {}
        self._first = True

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    # --- what ran ---------------------------------------------------------------------------

    def action_executions(self, *, fresh: bool = True) -> list[dict[str, Any]]:
        """The wanted action executions in the order they started (at most one call a second
        unless ``fresh``)."""
        if fresh or time.monotonic() - self._listed_at >= STATUS_EVERY_S:
            found: list[dict[str, Any]] = []
            token = None
            while True:
                params: dict[str, Any] = {
                    "pipelineName": self.pipeline,
                    "filter": {"pipelineExecutionId": self.execution_id},
                }
                if token:
                    params["nextToken"] = token
                page = call(self.endpoint_url, "list_action_executions", **params)
                found += page["actionExecutionDetails"]
                token = page.get("nextToken")
                if not token:
                    break
            self._listed = sorted(
                (d for d in found if (d["stageName"], d["actionName"]) in self.wanted),
                key=lambda d: d["startTime"],
            )
            self._listed_at = time.monotonic()
        return self._listed

    def _finished(self, action_execution_id: str) -> bool:
        for d in self.action_executions(fresh=False):
            if d["actionExecutionId"] == action_execution_id:
                return d["status"] not in RUNNING
        return False

    # --- printing -----------------------------------------------------------------------------

    def print_all(self) -> None:
        listed = self.action_executions()
        if not listed:
            click.echo(f"no selected action has run in execution {self.execution_id} yet", err=True)
        for detail in listed:
            self._header(detail)
            self._print_action(detail, follow=False)

    def follow(self) -> str:
        """Print every wanted action's log as it is written; the execution's final status."""
        done: set[str] = set()
        while True:
            # The status first: when it says finished, the listing after it is complete.
            status = call(
                self.endpoint_url,
                "get_pipeline_execution",
                pipelineName=self.pipeline,
                pipelineExecutionId=self.execution_id,
            )["pipelineExecution"]["status"]
            pending = [d for d in self.action_executions() if d["actionExecutionId"] not in done]
            if not pending and status not in RUNNING:
                return str(status)
            # The first to have a log, or to be over: an approval or an action that has
            # not printed yet does not hold back the log of one running beside it.
            ready = next(
                (
                    d
                    for d in pending
                    if d["status"] not in RUNNING or self._exists(d["actionExecutionId"])
                ),
                None,
            )
            if ready is None:  # e.g. waiting at an approval: look again in a while
                time.sleep(STATUS_EVERY_S)
                continue
            self._header(ready)
            self._print_action(ready, follow=True)
            done.add(ready["actionExecutionId"])

    def _header(self, detail: dict[str, Any]) -> None:
        key = (detail["stageName"], detail["actionName"])
        run = self._runs[key] = self._runs.get(key, 0) + 1
        if not self.headers and run == 1:
            return
        if not self._first:
            click.echo()
        self._first = False
        again = f" (run {run})" if run > 1 else ""
        click.echo(f"==> {key[0]} / {key[1]}{again} <==")

    def _print_action(self, detail: dict[str, Any], *, follow: bool) -> None:
        action_id = detail["actionExecutionId"]
        part = 0
        while True:
            printed = self._print_part(action_id, part, follow=follow)
            if printed is None:  # this part has not started
                if not follow or self._finished(action_id):
                    if part == 0:
                        approval = detail["input"]["actionTypeId"]["category"] == "Approval"
                        click.echo("(no log: a manual approval)" if approval else "(no log)")
                    return
                time.sleep(POLL_S)
                continue
            part += 1

    def _print_part(self, action_id: str, part: int, *, follow: bool) -> int | None:
        """Print one log part; the number of lines, or None when it does not exist."""
        log_id = part_id(action_id, part)
        offset = 0
        count = 0
        finished_at: float | None = None
        checked_at = 0.0
        while True:
            page = self._page(log_id, offset)
            if page is None:
                return None if offset == 0 else count
            if page["lines"]:
                click.echo("\n".join(self._render(page["lines"])))
                count += len(page["lines"])
            offset = page["nextOffset"]
            if page["complete"]:
                return count
            if page["lines"]:
                continue
            if not follow:
                return count
            if time.monotonic() - checked_at >= STATUS_EVERY_S:
                checked_at = time.monotonic()
                # A later part means this one was abandoned (its agent was lost).
                if self._exists(action_id, part + 1):
                    return count
                if self._finished(action_id):
                    finished_at = finished_at or time.monotonic()
                    if time.monotonic() - finished_at >= CLOSING_GRACE_S:
                        return count
            time.sleep(POLL_S)

    def _render(self, lines: list[dict[str, Any]]) -> Iterator[str]:
        if self.timestamps:
            return (f"{timestamp(ln['time'])} {ln['text']}" for ln in lines)
        return (ln["text"] for ln in lines)

    def _exists(self, action_id: str, part: int = 0) -> bool:
        return self._page(part_id(action_id, part), 0, limit=1) is not None

    def _page(self, log_id: str, offset: int, *, limit: int = PAGE_LINES) -> dict[str, Any] | None:
        try:
            response = self.http.get(f"/logs/{log_id}", params={"offset": offset, "limit": limit})
        except httpx.TransportError as exc:
            raise click.ClickException(
                f"cannot read log {log_id} from {self.endpoint_url}: {exc}"
            ) from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise click.ClickException(
                f"reading log {log_id} failed: HTTP {response.status_code} {response.text[:200]}"
            )
        return dict(response.json())
