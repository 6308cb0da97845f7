"""Lambda invoke actions against a real server: functions created over HTTP, run for real,
reporting through the job API with plain boto3."""

from __future__ import annotations

import base64
import io
import time
import zipfile
from typing import Any

import httpx
import pytest

from tests.support.git import GitClient
from tests.support.pipelines import Watcher, declaration, source
from tests.support.server import ServerProcess

FUNCTIONS = {
    "reporter": """
import boto3

def handler(event, context):
    job = event["CodePipeline.job"]
    greeting = job["data"]["actionConfiguration"]["configuration"]["UserParameters"]
    print("greeting is", greeting)
    boto3.client("codepipeline").put_job_success_result(
        jobId=job["id"],
        outputVariables={"GREETING": greeting, "INPUTS": str(len(job["data"]["inputArtifacts"]))},
    )
""",
    "stepper": """
import boto3

def handler(event, context):
    job = event["CodePipeline.job"]
    client = boto3.client("codepipeline")
    token = job["data"].get("continuationToken")
    if token is None:
        client.put_job_success_result(jobId=job["id"], continuationToken="step-2")
    else:
        client.put_job_success_result(jobId=job["id"], outputVariables={"RESUMED_FROM": token})
""",
    "rejecter": """
import boto3

def handler(event, context):
    boto3.client("codepipeline").put_job_failure_result(
        jobId=event["CodePipeline.job"]["id"],
        failureDetails={"type": "JobFailed", "message": "canary alarms fired"},
    )
""",
    "forgetful": """
def handler(event, context):
    print("did the work, forgot to say so")
""",
    "raiser": """
def handler(event, context):
    raise RuntimeError("database is down")
""",
}


def _zip(source: str) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", source)
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture(scope="module")
def functions(server: ServerProcess) -> dict[str, str]:
    """The test functions, created through the server's function API."""
    names: dict[str, str] = {}
    for name, source_code in FUNCTIONS.items():
        response = httpx.post(
            f"{server.url}/_stageline/functions",
            json={"name": name, "handler": "handler.handler", "code": _zip(source_code)},
            timeout=30,
        )
        assert response.status_code in (201, 409), response.text
        names[name] = response.json().get("arn", name)
    return names


@pytest.fixture(scope="module")
def repo(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> str:
    git = GitClient(tmp_path_factory.mktemp("git-home"))
    name = "lambda-app"
    server.client("codecommit").create_repository(repositoryName=name)
    git.push_tree(
        f"{server.url}/git/{name}",
        tmp_path_factory.mktemp("work"),
        {"app.py": "print('hello')\n"},
        "Add the app",
    )
    return name


def invoke(function: str, user_parameters: str | None = None) -> dict[str, Any]:
    configuration = {"FunctionName": function}
    if user_parameters is not None:
        configuration["UserParameters"] = user_parameters
    return {
        "name": "Invoke",
        "namespace": "Fn",
        "actionTypeId": {
            "category": "Invoke",
            "owner": "AWS",
            "provider": "Lambda",
            "version": "1",
        },
        "configuration": configuration,
        "inputArtifacts": [{"name": "Src"}],
    }


def run_pipeline(cp: Any, repo: str, name: str, action: dict[str, Any]) -> tuple[Watcher, str]:
    cp.create_pipeline(pipeline=declaration(name, ("Source", [source(repo)]), ("Run", [action])))
    w = Watcher(cp, name)
    ex = w.latest()
    w.finished(ex, timeout=60)
    return w, ex


def test_a_function_that_reports_success_with_output_variables(
    cp: Any, functions: dict[str, str], repo: str, unique: str
) -> None:
    w, ex = run_pipeline(cp, repo, f"lam-ok-{unique}", invoke(functions["reporter"], "hello"))
    assert w.status(ex) == "Succeeded"
    act = w.actions(ex)["Invoke"]
    assert act["status"] == "Succeeded"
    assert act["output"]["outputVariables"] == {"GREETING": "hello", "INPUTS": "1"}


def test_a_continuation_token_invokes_the_function_again(
    cp: Any, functions: dict[str, str], repo: str, unique: str
) -> None:
    w, ex = run_pipeline(cp, repo, f"lam-cont-{unique}", invoke("stepper"))
    assert w.status(ex) == "Succeeded"
    assert w.actions(ex)["Invoke"]["output"]["outputVariables"] == {"RESUMED_FROM": "step-2"}


def test_a_function_that_reports_failure(
    cp: Any, functions: dict[str, str], repo: str, unique: str
) -> None:
    w, ex = run_pipeline(cp, repo, f"lam-no-{unique}", invoke("rejecter"))
    assert w.status(ex) == "Failed"
    error = w.action_state("Run", "Invoke")["latestExecution"]["errorDetails"]
    assert "canary alarms fired" in error["message"]


def test_a_function_that_forgets_to_call_back_fails_quickly(
    cp: Any, functions: dict[str, str], repo: str, unique: str
) -> None:
    started = time.monotonic()
    w, ex = run_pipeline(cp, repo, f"lam-forget-{unique}", invoke("forgetful:live"))
    assert w.status(ex) == "Failed"
    assert time.monotonic() - started < 30
    act = w.actions(ex)["Invoke"]
    assert (act["lastUpdateTime"] - act["startTime"]).total_seconds() < 10
    error = w.action_state("Run", "Invoke")["latestExecution"]["errorDetails"]
    assert "function 'forgetful' returned without calling PutJobSuccessResult" in error["message"]


def test_a_function_that_raises_fails_with_the_exception(
    cp: Any, functions: dict[str, str], repo: str, unique: str
) -> None:
    w, ex = run_pipeline(cp, repo, f"lam-raise-{unique}", invoke("raiser"))
    assert w.status(ex) == "Failed"
    error = w.action_state("Run", "Invoke")["latestExecution"]["errorDetails"]
    assert "RuntimeError: database is down" in error["message"]


def test_a_missing_function_names_the_fix(
    cp: Any, functions: dict[str, str], repo: str, unique: str
) -> None:
    w, ex = run_pipeline(cp, repo, f"lam-ghost-{unique}", invoke("ghost"))
    assert w.status(ex) == "Failed"
    error = w.action_state("Run", "Invoke")["latestExecution"]["errorDetails"]
    assert error["code"] == "ConfigurationError"
    assert "stageline function create ghost" in error["message"]
