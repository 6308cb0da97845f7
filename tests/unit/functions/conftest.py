"""Fixtures for the function tests: a store, code directories, and a fake CodePipeline job API."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from stageline.definitions.catalog import ActionTypeKey
from stageline.functions import FunctionStore
from stageline.providers.base import JobContext, PipelineContext

LAMBDA = ActionTypeKey(category="Invoke", owner="AWS", provider="Lambda", version="1")
PIPELINE_ARN = "arn:aws:codepipeline:eu-west-1:210987654321:web"


class FakeJobApi:
    """Answers PutJobSuccessResult / PutJobFailureResult with ``{}`` and records each call,
    as the server's job API would; everything else is an UnknownOperationException."""

    ANSWERED = ("PutJobSuccessResult", "PutJobFailureResult")

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.headers: list[dict[str, str]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                operation = (self.headers.get("X-Amz-Target") or "").rpartition(".")[2]
                if operation in api.ANSWERED:
                    api.calls.append((operation, body))
                    api.headers.append(dict(self.headers))
                    self._answer(200, {})
                else:
                    self._answer(400, {"__type": "UnknownOperationException", "message": "?"})

            def _answer(self, status: int, doc: dict[str, Any]) -> None:
                payload = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def job_status(self, job_id: str) -> str:
        for operation, body in self.calls:
            if body.get("jobId") == job_id:
                return "Succeeded" if operation == "PutJobSuccessResult" else "Failed"
        return "InProgress"


@pytest.fixture
def job_api() -> Iterator[FakeJobApi]:
    api = FakeJobApi()
    api.thread.start()
    try:
        yield api
    finally:
        api.server.shutdown()
        api.server.server_close()


@pytest.fixture
def store(tmp_path: Path) -> FunctionStore:
    return FunctionStore(tmp_path / "data", region="eu-west-1", account_id="210987654321")


def write_code(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def raw_job_data(job_id: str, configuration: dict[str, str], **extra: Any) -> dict[str, Any]:
    """Job data as the engine stores it (AWS's JobData), with one input and one output."""
    return {
        "actionTypeId": {
            "category": "Invoke",
            "owner": "AWS",
            "provider": "Lambda",
            "version": "1",
        },
        "actionConfiguration": {"configuration": configuration},
        "pipelineContext": {
            "pipelineName": "web",
            "stage": {"name": "Deploy"},
            "action": {"name": "Notify", "actionExecutionId": "act-1"},
            "pipelineArn": PIPELINE_ARN,
            "pipelineExecutionId": "exec-1",
        },
        "inputArtifacts": [
            {
                "name": "SourceOut",
                "revision": "0123abcd",
                "location": {
                    "type": "S3",
                    "s3Location": {"bucketName": "artifacts", "objectKey": "web/SourceOut/x.zip"},
                },
            }
        ],
        "outputArtifacts": [
            {
                "name": "Report",
                "location": {
                    "type": "S3",
                    "s3Location": {"bucketName": "artifacts", "objectKey": "web/Report/y.zip"},
                },
            }
        ],
        "artifactCredentials": {
            "accessKeyId": f"STAGELINE{job_id[:6].upper()}",
            "secretAccessKey": "secret-" + job_id,
            "sessionToken": "token-" + job_id,
        },
        **extra,
    }


class Job:
    """Builds the JobContext the agent would hand the provider, and collects its log."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lines: list[str] = []

    def context(
        self, function_name: str, user_parameters: str | None = None, **kw: Any
    ) -> JobContext:
        job_id = str(uuid.uuid4())
        configuration = {"FunctionName": function_name}
        if user_parameters is not None:
            configuration["UserParameters"] = user_parameters
        workspace = self.root / f"ws-{job_id[:8]}"
        workspace.mkdir(parents=True)
        values: dict[str, Any] = {
            "job_id": job_id,
            "action_type": LAMBDA,
            "configuration": configuration,
            "pipeline": PipelineContext(
                pipeline_name="web",
                pipeline_arn=PIPELINE_ARN,
                execution_id="exec-1",
                stage_name="Deploy",
                action_name="Notify",
                action_execution_id="act-1",
                region="eu-west-1",
                account_id="",
            ),
            "workspace": workspace,
            "inputs": {},
            "outputs": {},
            "log": self.lines.append,
            "raw_job_data": raw_job_data(job_id, configuration),
        }
        values.update(kw)
        return JobContext(**values)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def job(tmp_path: Path) -> Job:
    return Job(tmp_path / "jobs")
