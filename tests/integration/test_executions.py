"""Pipelines that really run: a real server, real git pushes, real shells, driven with boto3."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.git import GitClient
from tests.support.pipelines import Watcher, commands, declaration, gate, source, wait_until
from tests.support.server import ServerProcess
from tests.support.wire import ResponseRecorder


@pytest.fixture(scope="module")
def git(tmp_path_factory: pytest.TempPathFactory) -> GitClient:
    return GitClient(tmp_path_factory.mktemp("git-home"))


@pytest.fixture
def client(server: ServerProcess) -> Iterator[Any]:
    c = server.client("codepipeline")
    recorder = ResponseRecorder(c)
    yield c
    assert recorder.violations == []


@pytest.fixture
def repo(server: ServerProcess, git: GitClient, tmp_path: Path, unique: str) -> dict[str, str]:
    """A hosted repository holding a tiny app, pushed with real git."""
    name = f"app-{unique}"
    server.client("codecommit").create_repository(repositoryName=name)
    commit = git.push_tree(
        f"{server.url}/git/{name}",
        tmp_path / "work",
        {"app.py": "print('hello from the app')\n", "VERSION": "1.0\n"},
        "Add the app",
    )
    return {"name": name, "commit": commit}


def test_three_stages_with_parallel_actions_and_variables(
    client: Any, repo: dict[str, str], unique: str
) -> None:
    name = f"e2e-{unique}"
    client.create_pipeline(
        pipeline=declaration(
            name,
            ("Source", [source(repo["name"])]),
            (
                "Build",
                [
                    commands("Unit", ["sleep 0.7", "python3 app.py"]),
                    commands(
                        "Package",
                        [
                            "sleep 0.7",
                            "mkdir -p dist",
                            "cp app.py VERSION dist/",
                            "export PKG=app-$(cat VERSION)",
                        ],
                        outputs=("Pkg",),
                        outputVariables=["PKG"],
                        namespace="Build",
                    ),
                ],
            ),
            (
                "Deploy",
                [
                    commands(
                        "Ship",
                        [
                            "test -f dist/app.py",
                            "export SEEN=#{SourceVariables.CommitId}:#{Build.PKG}",
                        ],
                        inputs=("Pkg",),
                        outputVariables=["SEEN"],
                    )
                ],
            ),
        )
    )
    w = Watcher(client, name)
    ex = w.latest()
    assert w.finished(ex) == "Succeeded"
    acts = w.actions(ex)
    unit, package = acts["Unit"], acts["Package"]
    # Same runOrder: they ran at the same time, not one after the other.
    assert (
        unit["startTime"] < package["lastUpdateTime"]
        and package["startTime"] < unit["lastUpdateTime"]
    )
    assert acts["Ship"]["output"]["outputVariables"] == {"SEEN": f"{repo['commit']}:app-1.0"}
    assert acts["Source"]["output"]["outputVariables"]["CommitId"] == repo["commit"]
    assert acts["Source"]["output"]["outputVariables"]["CommitMessage"] == "Add the app"
    execution = client.get_pipeline_execution(pipelineName=name, pipelineExecutionId=ex)[
        "pipelineExecution"
    ]
    assert execution["trigger"]["triggerType"] == "CreatePipeline"
    assert execution["artifactRevisions"][0]["revisionId"] == repo["commit"]
    summary = w.executions()[0]
    assert summary["sourceRevisions"][0]["revisionId"] == repo["commit"]
    assert w.action_state("Source", "Source")["currentRevision"]["revisionId"] == repo["commit"]


def test_a_failing_action_fails_the_stage_and_says_why(
    client: Any, repo: dict[str, str], unique: str
) -> None:
    name = f"fail-{unique}"
    client.create_pipeline(
        pipeline=declaration(
            name,
            ("Source", [source(repo["name"])]),
            (
                "Build",
                [
                    commands("Broken", ["echo about to fail", "exit 3"]),
                    commands("Fine", ["sleep 0.3"]),
                ],
            ),
            ("Deploy", [commands("Never", ["true"])]),
        )
    )
    w = Watcher(client, name)
    ex = w.latest()
    assert w.finished(ex) == "Failed"
    acts = w.actions(ex)
    assert acts["Fine"]["status"] == "Succeeded"  # the sibling finished
    assert "Never" not in acts
    error = w.action_state("Build", "Broken")["latestExecution"]["errorDetails"]
    assert "exit 3" in error["message"] and "exited with 3" in error["message"]
    assert w.stage("Build")["latestExecution"]["status"] == "Failed"


def test_approvals_approved_rejected_and_refused(
    client: Any, repo: dict[str, str], unique: str
) -> None:
    name = f"appr-{unique}"
    client.create_pipeline(
        pipeline=declaration(
            name,
            ("Source", [source(repo["name"])]),
            (
                "Gate",
                [gate(CustomData="Check staging", ExternalEntityLink="https://staging.example")],
            ),
            ("Deploy", [commands("Ship", ["true"])]),
        )
    )
    w = Watcher(client, name)
    first = w.latest()
    token = w.approval_token("Gate", "Approve", first)
    shown = w.action_state("Gate", "Approve")["latestExecution"]
    assert repo["commit"][:12] in shown["summary"]  # the revision being approved
    with pytest.raises(ClientError) as info:
        client.put_approval_result(
            pipelineName=name,
            stageName="Gate",
            actionName="Approve",
            result={"summary": "x", "status": "Approved"},
            token="00000000-0000-0000-0000-000000000000",
        )
    assert info.value.response["Error"]["Code"] == "InvalidApprovalTokenException"
    client.put_approval_result(
        pipelineName=name,
        stageName="Gate",
        actionName="Approve",
        result={"summary": "staging is fine", "status": "Approved"},
        token=token,
    )
    assert w.finished(first) == "Succeeded"
    with pytest.raises(ClientError) as info:
        client.put_approval_result(
            pipelineName=name,
            stageName="Gate",
            actionName="Approve",
            result={"summary": "again", "status": "Rejected"},
            token=token,
        )
    assert info.value.response["Error"]["Code"] == "ApprovalAlreadyCompletedException"
    second = client.start_pipeline_execution(name=name)["pipelineExecutionId"]
    token = w.approval_token("Gate", "Approve", second)
    client.put_approval_result(
        pipelineName=name,
        stageName="Gate",
        actionName="Approve",
        result={"summary": "not this one", "status": "Rejected"},
        token=token,
    )
    assert w.finished(second) == "Failed"
    rejected = w.action_state("Gate", "Approve")["latestExecution"]
    assert rejected["status"] == "Failed" and "not this one" in rejected["errorDetails"]["message"]


def test_a_disabled_transition_holds_the_execution_until_enabled(
    client: Any, repo: dict[str, str], unique: str
) -> None:
    name = f"trans-{unique}"
    client.create_pipeline(
        pipeline=declaration(
            name, ("Source", [source(repo["name"])]), ("Deploy", [commands("Ship", ["true"])])
        )
    )
    w = Watcher(client, name)
    assert w.finished(w.latest()) == "Succeeded"
    client.disable_stage_transition(
        pipelineName=name, stageName="Deploy", transitionType="Inbound", reason="change freeze"
    )
    ex = client.start_pipeline_execution(name=name)["pipelineExecutionId"]
    wait_until(lambda: ex in w.waiting_at("Deploy"))
    deploy = w.stage("Deploy")
    assert deploy["inboundTransitionState"]["enabled"] is False
    assert deploy["inboundTransitionState"]["disabledReason"] == "change freeze"
    time.sleep(0.3)
    assert w.status(ex) == "InProgress"  # it waits, it does not fail
    client.enable_stage_transition(pipelineName=name, stageName="Deploy", transitionType="Inbound")
    assert w.finished(ex) == "Succeeded"


def _hold_pipeline(client: Any, name: str, repo: str, mode: str | None) -> Watcher:
    extra: dict[str, Any] = {"pipelineType": "V2", "executionMode": mode} if mode else {}
    client.create_pipeline(
        pipeline=declaration(name, ("Source", [source(repo)]), ("Gate", [gate()]), **extra)
    )
    return Watcher(client, name)


def _approve(client: Any, w: Watcher, ex: str) -> None:
    token = w.approval_token("Gate", "Approve", ex)
    client.put_approval_result(
        pipelineName=w.name,
        stageName="Gate",
        actionName="Approve",
        result={"summary": "ok", "status": "Approved"},
        token=token,
    )


def test_superseded_mode(client: Any, repo: dict[str, str], unique: str) -> None:
    w = _hold_pipeline(client, f"sup-{unique}", repo["name"], None)
    a = w.latest()
    w.approval_token("Gate", "Approve", a)  # a holds the Gate stage
    b = client.start_pipeline_execution(name=w.name)["pipelineExecutionId"]
    wait_until(lambda: b in w.waiting_at("Gate"))
    c = client.start_pipeline_execution(name=w.name)["pipelineExecutionId"]
    assert w.finished(b) == "Superseded"  # c arrived at the same entrance
    wait_until(lambda: c in w.waiting_at("Gate"))
    _approve(client, w, a)
    assert w.finished(a) == "Succeeded"
    _approve(client, w, c)
    assert w.finished(c) == "Succeeded"


def test_queued_mode(client: Any, repo: dict[str, str], unique: str) -> None:
    w = _hold_pipeline(client, f"que-{unique}", repo["name"], "QUEUED")
    a = w.latest()
    w.approval_token("Gate", "Approve", a)
    b = client.start_pipeline_execution(name=w.name)["pipelineExecutionId"]
    c = client.start_pipeline_execution(name=w.name)["pipelineExecutionId"]
    wait_until(lambda: w.waiting_at("Gate") == [b, c])
    assert w.status(b) == w.status(c) == "InProgress"  # both wait, none superseded
    _approve(client, w, a)
    wait_until(lambda: w.in_stage(b, "Gate"))
    assert w.waiting_at("Gate") == [c]
    _approve(client, w, b)
    _approve(client, w, c)
    assert [w.finished(x) for x in (a, b, c)] == ["Succeeded"] * 3


def test_parallel_mode(client: Any, repo: dict[str, str], unique: str) -> None:
    w = _hold_pipeline(client, f"par-{unique}", repo["name"], "PARALLEL")
    a = w.latest()
    b = client.start_pipeline_execution(name=w.name)["pipelineExecutionId"]
    c = client.start_pipeline_execution(name=w.name)["pipelineExecutionId"]

    def all_waiting_for_approval() -> bool:
        return all(w.actions(x).get("Approve", {}).get("status") == "InProgress" for x in (a, b, c))

    wait_until(all_waiting_for_approval)  # three executions in the Gate stage at once
    assert w.waiting_at("Gate") == []


def test_stop_and_wait_then_stop_and_abandon(
    client: Any, repo: dict[str, str], unique: str, tmp_path: Path
) -> None:
    marker = tmp_path / "finished"
    name = f"stop-{unique}"
    client.create_pipeline(
        pipeline=declaration(
            name,
            ("Source", [source(repo["name"])]),
            ("Build", [commands("Slow", ["sleep 1.5", f"touch {marker}"])]),
            ("Deploy", [commands("Never", ["true"])]),
        )
    )
    w = Watcher(client, name)
    ex = w.latest()
    wait_until(lambda: w.actions(ex).get("Slow", {}).get("status") == "InProgress")
    client.stop_pipeline_execution(
        pipelineName=name, pipelineExecutionId=ex, abandon=False, reason="wait for it"
    )
    assert w.status(ex) == "Stopping"
    with pytest.raises(ClientError) as info:
        client.stop_pipeline_execution(
            pipelineName=name, pipelineExecutionId=ex, abandon=False, reason="again"
        )
    assert info.value.response["Error"]["Code"] == "DuplicatedStopRequestException"
    assert w.finished(ex) == "Stopped"
    assert marker.exists()  # the running action finished
    assert w.actions(ex)["Slow"]["status"] == "Succeeded" and "Never" not in w.actions(ex)
    assert w.executions()[0]["stopTrigger"]["reason"] == "wait for it"

    ex2 = client.start_pipeline_execution(name=name)["pipelineExecutionId"]
    marker.unlink()
    wait_until(lambda: w.actions(ex2).get("Slow", {}).get("status") == "InProgress")
    started = time.monotonic()
    client.stop_pipeline_execution(
        pipelineName=name, pipelineExecutionId=ex2, abandon=True, reason="now"
    )
    assert w.status(ex2) == "Stopped"
    assert w.actions(ex2)["Slow"]["status"] == "Abandoned"
    assert time.monotonic() - started < 1.0
    time.sleep(2.0)
    assert not marker.exists()  # the abandoned action's process was killed


def test_retry_failed_actions_then_all_actions(
    client: Any, repo: dict[str, str], unique: str, tmp_path: Path
) -> None:
    runs, flaky = tmp_path / "runs", tmp_path / "flaky-ok"
    name = f"retry-{unique}"
    client.create_pipeline(
        pipeline=declaration(
            name,
            ("Source", [source(repo["name"])]),
            (
                "Build",
                [
                    commands("Steady", [f"echo steady >> {runs}"]),
                    commands("Flaky", [f"echo flaky >> {runs}", f"test -f {flaky}"]),
                ],
            ),
        )
    )
    w = Watcher(client, name)
    ex = w.latest()
    assert w.finished(ex) == "Failed"
    with pytest.raises(ClientError) as info:
        client.retry_stage_execution(
            pipelineName=name,
            stageName="Source",
            pipelineExecutionId=ex,
            retryMode="FAILED_ACTIONS",
        )
    assert info.value.response["Error"]["Code"] == "StageNotRetryableException"
    flaky.touch()
    client.retry_stage_execution(
        pipelineName=name, stageName="Build", pipelineExecutionId=ex, retryMode="FAILED_ACTIONS"
    )
    assert w.finished(ex) == "Succeeded"
    assert sorted(runs.read_text().split()) == ["flaky", "flaky", "steady"]  # only Flaky ran again
    flaky.unlink()
    ex2 = client.start_pipeline_execution(name=name)["pipelineExecutionId"]
    assert w.finished(ex2) == "Failed"
    flaky.touch()
    client.retry_stage_execution(
        pipelineName=name, stageName="Build", pipelineExecutionId=ex2, retryMode="ALL_ACTIONS"
    )
    assert w.finished(ex2) == "Succeeded"
    assert sorted(runs.read_text().split()) == ["flaky"] * 4 + ["steady"] * 3  # both ran again
    with pytest.raises(ClientError) as info:
        client.retry_stage_execution(
            pipelineName=name, stageName="Build", pipelineExecutionId=ex, retryMode="ALL_ACTIONS"
        )
    assert info.value.response["Error"]["Code"] == "NotLatestPipelineExecutionException"


def test_start_with_variables_and_a_pinned_source_revision(
    client: Any,
    repo: dict[str, str],
    unique: str,
    server: ServerProcess,
    git: GitClient,
    tmp_path: Path,
) -> None:
    name = f"vars-{unique}"
    client.create_pipeline(
        pipeline=declaration(
            name,
            ("Source", [source(repo["name"])]),
            (
                "Build",
                [
                    commands(
                        "Show",
                        ["export OUT=#{variables.Target}-$(cat VERSION)"],
                        outputVariables=["OUT"],
                    )
                ],
            ),
            pipelineType="V2",
            executionMode="PARALLEL",
            variables=[{"name": "Target", "defaultValue": "staging"}],
        )
    )
    w = Watcher(client, name)
    first = w.latest()
    assert w.finished(first) == "Succeeded"
    assert w.actions(first)["Show"]["output"]["outputVariables"] == {"OUT": "staging-1.0"}
    newer = git.push_tree(
        f"{server.url}/git/{repo['name']}", tmp_path / "clone", {"VERSION": "2.0\n"}, "Bump"
    )
    pinned = client.start_pipeline_execution(
        name=name,
        variables=[{"name": "Target", "value": "prod"}],
        sourceRevisions=[
            {"actionName": "Source", "revisionType": "COMMIT_ID", "revisionValue": repo["commit"]}
        ],
        clientRequestToken=f"token-{unique}",
    )["pipelineExecutionId"]
    again = client.start_pipeline_execution(name=name, clientRequestToken=f"token-{unique}")[
        "pipelineExecutionId"
    ]
    assert again == pinned
    assert w.finished(pinned) == "Succeeded"
    assert w.actions(pinned)["Show"]["output"]["outputVariables"] == {"OUT": "prod-1.0"}
    latest = client.start_pipeline_execution(name=name)["pipelineExecutionId"]
    assert w.finished(latest) == "Succeeded"
    assert w.actions(latest)["Show"]["output"]["outputVariables"] == {"OUT": "staging-2.0"}
    assert w.actions(latest)["Source"]["output"]["outputVariables"]["CommitId"] == newer
    execution = client.get_pipeline_execution(pipelineName=name, pipelineExecutionId=pinned)[
        "pipelineExecution"
    ]
    assert execution["variables"] == [{"name": "Target", "resolvedValue": "prod"}]
    with pytest.raises(ClientError) as info:
        client.start_pipeline_execution(name=name, variables=[{"name": "Nope", "value": "x"}])
    assert info.value.response["Error"]["Code"] == "ValidationException"


def test_listing_executions_and_not_found_errors(
    client: Any, repo: dict[str, str], unique: str
) -> None:
    name = f"list-{unique}"
    client.create_pipeline(
        pipeline=declaration(
            name,
            ("Source", [source(repo["name"])]),
            ("Build", [commands("B", ["true"])]),
            pipelineType="V2",
            executionMode="PARALLEL",
        )
    )
    w = Watcher(client, name)
    ids = [w.latest()] + [
        client.start_pipeline_execution(name=name)["pipelineExecutionId"] for _ in range(4)
    ]
    for ex in ids:
        w.finished(ex)
    pages = client.get_paginator("list_pipeline_executions").paginate(
        pipelineName=name, PaginationConfig={"PageSize": 2}
    )
    listed = [s["pipelineExecutionId"] for p in pages for s in p["pipelineExecutionSummaries"]]
    assert listed == list(reversed(ids))  # newest first
    only = client.list_pipeline_executions(
        pipelineName=name, filter={"succeededInStage": {"stageName": "Build"}}
    )
    assert len(only["pipelineExecutionSummaries"]) == 5
    with pytest.raises(ClientError) as info:
        client.get_pipeline_execution(
            pipelineName=name, pipelineExecutionId="00000000-0000-0000-0000-000000000000"
        )
    assert info.value.response["Error"]["Code"] == "PipelineExecutionNotFoundException"
    with pytest.raises(ClientError) as info:
        client.start_pipeline_execution(name=f"missing-{unique}")
    assert info.value.response["Error"]["Code"] == "PipelineNotFoundException"
    with pytest.raises(ClientError) as info:
        client.disable_stage_transition(
            pipelineName=name, stageName="Nope", transitionType="Inbound", reason="x"
        )
    assert info.value.response["Error"]["Code"] == "StageNotFoundException"
