"""Building and watching real pipelines against a running server."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from tests.support.declarations import ROLE

T = TypeVar("T")


def wait_until(probe: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.05) -> T:
    """Poll ``probe`` until it returns something truthy; fail with the last value after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")


def source(
    repo: str,
    *,
    branch: str = "main",
    namespace: str = "SourceVariables",
    output: str = "Src",
    poll: str | None = None,
) -> dict[str, Any]:
    """A CodeCommit source. ``poll`` is PollForSourceChanges: unset (AWS's default, polling,
    which the test servers do only once an hour unless a test asks) or "false" (pushes start
    the pipeline through the rule stageline manages for it)."""
    return {
        "name": "Source",
        "namespace": namespace,
        "actionTypeId": {
            "category": "Source",
            "owner": "AWS",
            "provider": "CodeCommit",
            "version": "1",
        },
        "configuration": {
            "RepositoryName": repo,
            "BranchName": branch,
            **({"PollForSourceChanges": poll} if poll is not None else {}),
        },
        "outputArtifacts": [{"name": output}],
    }


def commands(
    name: str,
    cmds: list[str],
    *,
    inputs: tuple[str, ...] = ("Src",),
    outputs: tuple[str, ...] = (),
    run_order: int = 1,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "name": name,
        "actionTypeId": {
            "category": "Compute",
            "owner": "AWS",
            "provider": "Commands",
            "version": "1",
        },
        "commands": cmds,
        "inputArtifacts": [{"name": i} for i in inputs],
        "outputArtifacts": [{"name": o, "files": ["**/*"]} for o in outputs],
        "runOrder": run_order,
        **extra,
    }


def gate(name: str = "Approve", **config: str) -> dict[str, Any]:
    return {
        "name": name,
        "actionTypeId": {
            "category": "Approval",
            "owner": "AWS",
            "provider": "Manual",
            "version": "1",
        },
        "configuration": dict(config),
    }


def declaration(
    name: str, *stages: tuple[str, list[dict[str, Any]]], **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "roleArn": ROLE,
        "artifactStore": {"type": "S3", "location": "artifacts"},
        "stages": [{"name": n, "actions": a} for n, a in stages],
        **extra,
    }


class Watcher:
    """Reads a pipeline's executions and states through a boto3 client."""

    def __init__(self, cp: Any, name: str) -> None:
        self.cp = cp
        self.name = name

    def executions(self) -> list[dict[str, Any]]:
        return list(
            self.cp.list_pipeline_executions(pipelineName=self.name)["pipelineExecutionSummaries"]
        )

    def latest(self) -> str:
        return str(wait_until(lambda: self.executions())[0]["pipelineExecutionId"])

    def status(self, execution_id: str) -> str:
        return str(
            self.cp.get_pipeline_execution(
                pipelineName=self.name, pipelineExecutionId=execution_id
            )["pipelineExecution"]["status"]
        )

    def finished(self, execution_id: str, timeout: float = 60.0) -> str:
        return wait_until(
            lambda: (s := self.status(execution_id)) not in ("InProgress", "Stopping") and s,
            timeout,
        )

    def state(self) -> dict[str, Any]:
        return dict(self.cp.get_pipeline_state(name=self.name))

    def stage(self, stage: str) -> dict[str, Any]:
        return next(s for s in self.state()["stageStates"] if s["stageName"] == stage)

    def action_state(self, stage: str, action: str) -> dict[str, Any]:
        return next(a for a in self.stage(stage)["actionStates"] if a["actionName"] == action)

    def actions(self, execution_id: str) -> dict[str, dict[str, Any]]:
        details = self.cp.list_action_executions(
            pipelineName=self.name, filter={"pipelineExecutionId": execution_id}
        )["actionExecutionDetails"]
        latest: dict[str, dict[str, Any]] = {}
        for d in sorted(details, key=lambda d: d["startTime"]):
            latest[d["actionName"]] = d
        return latest

    def approval_token(self, stage: str, action: str, execution_id: str) -> str:
        def probe() -> str | None:
            s = self.stage(stage)
            if s.get("latestExecution", {}).get("pipelineExecutionId") != execution_id:
                return None
            a = next(a for a in s["actionStates"] if a["actionName"] == action)
            return a.get("latestExecution", {}).get("token")

        return wait_until(probe)

    def in_stage(self, execution_id: str, stage: str) -> bool:
        s = self.stage(stage)
        return (
            s.get("latestExecution", {}).get("pipelineExecutionId") == execution_id
            and s["latestExecution"]["status"] == "InProgress"
        )

    def waiting_at(self, stage: str) -> list[str]:
        return [e["pipelineExecutionId"] for e in self.stage(stage).get("inboundExecutions", [])]
