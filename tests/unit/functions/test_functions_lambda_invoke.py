"""The Lambda invoke provider against a fake job API: real subprocesses, real boto3 callbacks."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from stageline.functions import FunctionStore
from stageline.providers.invoke.lambda_invoke import LambdaInvokeProvider
from tests.unit.functions.conftest import PIPELINE_ARN, FakeJobApi, Job, write_code

SUCCEED = """
import boto3

def handler(event, context):
    job_id = event["CodePipeline.job"]["id"]
    print("deploying for job", job_id)
    boto3.client("codepipeline").put_job_success_result(
        jobId=job_id, outputVariables={"URL": "https://example.test"}
    )
"""

FAIL = """
import boto3

def handler(event, context):
    boto3.client("codepipeline").put_job_failure_result(
        jobId=event["CodePipeline.job"]["id"],
        failureDetails={"type": "JobFailed", "message": "smoke test failed"},
    )
"""

FORGET = """
def handler(event, context):
    print("all done, I think")
"""

RAISE = """
def handler(event, context):
    config = event["CodePipeline.job"]["data"]["actionConfiguration"]["configuration"]
    raise ValueError("bad UserParameters: " + config["UserParameters"])
"""

# Writes what it saw to the file named in UserParameters, then reports success.
RECORD = """
import json, os
import boto3

def handler(event, context):
    job = event["CodePipeline.job"]
    params = json.loads(job["data"]["actionConfiguration"]["configuration"]["UserParameters"])
    with open(params["out"], "w") as f:
        json.dump({
            "event": event,
            "environ": dict(os.environ),
            "cwd": os.getcwd(),
            "context": {
                "function_name": context.function_name,
                "aws_request_id": context.aws_request_id,
                "remaining": context.get_remaining_time_in_millis(),
                "log_stream_name": context.log_stream_name,
                "invoked_function_arn": context.invoked_function_arn,
            },
        }, f)
    boto3.client("codepipeline").put_job_success_result(jobId=job["id"])
"""

BACKGROUND = """
import subprocess, sys

REPORT = '''
import sys, time
import boto3
time.sleep(0.5)
print("background worker reporting")
boto3.client("codepipeline").put_job_success_result(jobId=sys.argv[1])
'''

def handler(event, context):
    subprocess.Popen([sys.executable, "-c", REPORT, event["CodePipeline.job"]["id"]])
    print("handed off")
"""

SLEEP = """
import time

def handler(event, context):
    print("sleeping", flush=True)
    time.sleep(60)
"""

LINGER = """
import subprocess, sys

def handler(event, context):
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
"""


@pytest.fixture
def provider(store: FunctionStore, job_api: FakeJobApi) -> LambdaInvokeProvider:
    return LambdaInvokeProvider(store, server_url=job_api.url, job_status=job_api.job_status)


def add(store: FunctionStore, tmp_path: Path, name: str, source: str, **kw: object) -> None:
    code = write_code(tmp_path / "code" / name, {"handler.py": source})
    store.create(name, handler="handler.handler", code_dir=code, **kw)  # type: ignore[arg-type]


def test_a_function_that_reports_success(
    provider: LambdaInvokeProvider,
    store: FunctionStore,
    job_api: FakeJobApi,
    job: Job,
    tmp_path: Path,
) -> None:
    add(store, tmp_path, "ok", SUCCEED)
    ctx = job.context("ok")
    result = provider.run(ctx)
    assert result.succeeded and result.reported_externally
    assert job_api.calls == [
        (
            "PutJobSuccessResult",
            {"jobId": ctx.job_id, "outputVariables": {"URL": "https://example.test"}},
        )
    ]
    assert f"deploying for job {ctx.job_id}" in job.lines
    assert job.lines[0].startswith("START RequestId: ")
    assert any(line.startswith("END RequestId: ") for line in job.lines)
    assert job.lines[-1].startswith("REPORT RequestId: ")
    # The callback was signed with the job's own credentials.
    assert f"Credential=STAGELINE{ctx.job_id[:6].upper()}/" in job_api.headers[0]["Authorization"]


def test_a_function_that_reports_failure(
    provider: LambdaInvokeProvider,
    store: FunctionStore,
    job_api: FakeJobApi,
    job: Job,
    tmp_path: Path,
) -> None:
    add(store, tmp_path, "no", FAIL)
    result = provider.run(job.context("no"))
    assert not result.succeeded and result.reported_externally
    assert job_api.calls[0][0] == "PutJobFailureResult"
    assert job_api.calls[0][1]["failureDetails"]["message"] == "smoke test failed"


def test_a_function_that_forgets_to_call_back_fails_at_once(
    provider: LambdaInvokeProvider,
    store: FunctionStore,
    job_api: FakeJobApi,
    job: Job,
    tmp_path: Path,
) -> None:
    add(store, tmp_path, "forgetful", FORGET)
    started = time.monotonic()
    result = provider.run(job.context("forgetful"))
    elapsed = time.monotonic() - started
    assert not result.succeeded and not result.reported_externally
    assert result.message is not None
    assert "function 'forgetful' returned without calling PutJobSuccessResult" in result.message
    assert elapsed < 5, elapsed
    assert "all done, I think" in job.lines
    assert job_api.calls == []


def test_a_function_that_raises_fails_with_the_exception(
    provider: LambdaInvokeProvider, store: FunctionStore, job: Job, tmp_path: Path
) -> None:
    add(store, tmp_path, "broken", RAISE)
    result = provider.run(job.context("broken", "oops"))
    assert not result.succeeded and not result.reported_externally
    assert result.message is not None
    assert "ValueError: bad UserParameters: oops" in result.message
    assert "handler.py" in result.message
    assert "[ERROR] ValueError: bad UserParameters: oops" in job.lines
    assert "Traceback (most recent call last):" in job.lines


def test_the_event_has_exactly_aws_layout(
    provider: LambdaInvokeProvider, store: FunctionStore, job: Job, tmp_path: Path
) -> None:
    add(store, tmp_path, "recorder", RECORD)
    out = tmp_path / "seen.json"
    params = json.dumps({"out": str(out)})
    ctx = job.context(
        "arn:aws:lambda:eu-west-1:210987654321:function:recorder:live",
        params,
        continuation_token="step-2",
    )
    assert ctx.raw_job_data is not None
    raw = {**ctx.raw_job_data, "encryptionKey": {"id": "alias/artifacts", "type": "KMS"}}
    ctx = type(ctx)(**{**ctx.__dict__, "raw_job_data": raw})
    result = provider.run(ctx)
    assert result.succeeded, result.message
    seen = json.loads(out.read_text())
    credentials = raw["artifactCredentials"]
    assert seen["event"] == {
        "CodePipeline.job": {
            "id": ctx.job_id,
            "accountId": "210987654321",
            "data": {
                "actionConfiguration": {
                    "configuration": {
                        "FunctionName": "arn:aws:lambda:eu-west-1:210987654321:function:recorder:live",
                        "UserParameters": params,
                    }
                },
                "inputArtifacts": [
                    {
                        "location": {
                            "s3Location": {
                                "bucketName": "artifacts",
                                "objectKey": "web/SourceOut/x.zip",
                            },
                            "type": "S3",
                        },
                        "revision": "0123abcd",
                        "name": "SourceOut",
                    }
                ],
                "outputArtifacts": [
                    {
                        "location": {
                            "s3Location": {
                                "bucketName": "artifacts",
                                "objectKey": "web/Report/y.zip",
                            },
                            "type": "S3",
                        },
                        "revision": None,
                        "name": "Report",
                    }
                ],
                "artifactCredentials": {
                    "secretAccessKey": credentials["secretAccessKey"],
                    "sessionToken": credentials["sessionToken"],
                    "accessKeyId": credentials["accessKeyId"],
                },
                "continuationToken": "step-2",
                "encryptionKey": {"id": "alias/artifacts", "type": "KMS"},
            },
        }
    }
    context = seen["context"]
    assert context["function_name"] == "recorder"
    assert context["invoked_function_arn"].endswith(":function:recorder")
    assert 0 < context["remaining"] <= 3000
    assert context["log_stream_name"].startswith(time.strftime("%Y/%m/%d", time.gmtime()))
    assert any(context["aws_request_id"] in line for line in job.lines)


def test_without_continuation_or_key_those_members_are_absent(
    provider: LambdaInvokeProvider, store: FunctionStore, job: Job, tmp_path: Path
) -> None:
    add(store, tmp_path, "recorder", RECORD)
    out = tmp_path / "seen.json"
    assert provider.run(job.context("recorder", json.dumps({"out": str(out)}))).succeeded
    data = json.loads(out.read_text())["event"]["CodePipeline.job"]["data"]
    assert list(data) == [
        "actionConfiguration",
        "inputArtifacts",
        "outputArtifacts",
        "artifactCredentials",
    ]


def test_the_environment_is_clean_and_lambda_like(
    provider: LambdaInvokeProvider,
    store: FunctionStore,
    job_api: FakeJobApi,
    job: Job,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STAGELINE_TEST_SENTINEL", "must-not-leak")
    monkeypatch.setenv("AWS_PROFILE", "the-agents-own")
    add(store, tmp_path, "recorder", RECORD, environment={"STAGE": "prod"})
    out = tmp_path / "seen.json"
    ctx = job.context("recorder", json.dumps({"out": str(out)}))
    assert provider.run(ctx).succeeded
    seen = json.loads(out.read_text())
    env = seen["environ"]
    assert "STAGELINE_TEST_SENTINEL" not in env and "AWS_PROFILE" not in env
    assert env["STAGE"] == "prod"
    assert env["AWS_ENDPOINT_URL_CODEPIPELINE"] == job_api.url
    assert env["AWS_ENDPOINT_URL"] == job_api.url
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert ctx.raw_job_data is not None
    credentials = ctx.raw_job_data["artifactCredentials"]
    assert env["AWS_ACCESS_KEY_ID"] == credentials["accessKeyId"]
    assert env["AWS_SECRET_ACCESS_KEY"] == credentials["secretAccessKey"]
    assert env["AWS_SESSION_TOKEN"] == credentials["sessionToken"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "recorder"
    code_dir = env["LAMBDA_TASK_ROOT"]
    assert seen["cwd"] == code_dir and env["PYTHONPATH"].split(os.pathsep)[0] == code_dir
    assert Path(code_dir).is_relative_to(ctx.workspace)  # a copy, not the stored code
    assert Path(env["HOME"]).is_relative_to(ctx.workspace)


def test_a_background_process_may_call_back_after_the_handler_returned(
    provider: LambdaInvokeProvider,
    store: FunctionStore,
    job_api: FakeJobApi,
    job: Job,
    tmp_path: Path,
) -> None:
    add(store, tmp_path, "async", BACKGROUND)
    result = provider.run(job.context("async"))
    assert result.succeeded and result.reported_externally, job.text
    assert [c[0] for c in job_api.calls] == ["PutJobSuccessResult"]
    assert "handed off" in job.lines


def test_the_function_timeout_stops_the_handler(
    provider: LambdaInvokeProvider, store: FunctionStore, job: Job, tmp_path: Path
) -> None:
    add(store, tmp_path, "slow", SLEEP, timeout_s=1)
    started = time.monotonic()
    result = provider.run(job.context("slow"))
    assert time.monotonic() - started < 10
    assert not result.succeeded and result.message is not None
    assert "timed out after 1 s" in result.message
    assert any(line.startswith("Task timed out after 1.") for line in job.lines)


def test_cancel_stops_the_function(
    provider: LambdaInvokeProvider, store: FunctionStore, job: Job, tmp_path: Path
) -> None:
    add(store, tmp_path, "slow", SLEEP, timeout_s=60)
    ctx = job.context("slow")
    threading.Timer(0.8, ctx.cancel.set).start()
    started = time.monotonic()
    result = provider.run(ctx)
    assert time.monotonic() - started < 10
    assert not result.succeeded and result.message is not None
    assert "cancelled" in result.message


def test_leftover_processes_are_waited_for_until_the_deadline_then_stopped(
    provider: LambdaInvokeProvider, store: FunctionStore, job: Job, tmp_path: Path
) -> None:
    add(store, tmp_path, "linger", LINGER)
    ctx = job.context("linger", deadline_monotonic=time.monotonic() + 3)
    result = provider.run(ctx)
    assert not result.succeeded and result.message is not None
    assert "the action timed out" in result.message
    assert any("left processes running" in line for line in job.lines)
    assert any("stopped 1 process(es)" in line for line in job.lines)


def test_a_missing_function_is_a_configuration_error(
    provider: LambdaInvokeProvider, job: Job
) -> None:
    result = provider.run(job.context("ghost"))
    assert not result.succeeded and result.failure_type == "ConfigurationError"
    assert result.message == (
        "function 'ghost' does not exist; create it with stageline function create ghost "
        "--handler MODULE.FUNCTION --code DIR"
    )


def test_a_handler_module_that_does_not_import(
    provider: LambdaInvokeProvider, store: FunctionStore, job: Job, tmp_path: Path
) -> None:
    code = write_code(tmp_path / "code" / "typo", {"handler.py": "def handler(e, c):\n    pass\n"})
    store.create("typo", handler="handlr.handler", code_dir=code)
    result = provider.run(job.context("typo"))
    assert result.message is not None
    assert "Runtime.ImportModuleError: Unable to import module 'handlr'" in result.message


def test_the_function_runs_on_the_servers_python(provider: LambdaInvokeProvider) -> None:
    assert provider._python == sys.executable
    assert provider.key.category == "Invoke" and provider.key.provider == "Lambda"
    assert PIPELINE_ARN.startswith("arn:aws:codepipeline:")


def test_a_process_that_dies_before_returning(
    provider: LambdaInvokeProvider, store: FunctionStore, job: Job, tmp_path: Path
) -> None:
    add(store, tmp_path, "dies", "import os\n\ndef handler(e, c):\n    os._exit(3)\n")
    result = provider.run(job.context("dies"))
    assert not result.succeeded and result.message is not None
    assert "process exited (3) before its handler returned" in result.message


def test_a_report_counts_even_if_the_handler_raises_afterwards(
    provider: LambdaInvokeProvider,
    store: FunctionStore,
    job_api: FakeJobApi,
    job: Job,
    tmp_path: Path,
) -> None:
    source = SUCCEED + "    raise RuntimeError('cleanup failed')\n"
    add(store, tmp_path, "messy", source)
    result = provider.run(job.context("messy"))
    assert result.succeeded and result.reported_externally
    assert "[ERROR] RuntimeError: cleanup failed" in job.lines
