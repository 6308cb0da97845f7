"""The event bus in a real server: EventBridge's API through boto3 and the aws CLI, real HTTP
targets receiving a pipeline's events, the dead-letter queue and its redrive through the
stageline CLI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.aws_cli import aws_json
from tests.support.git import GitClient
from tests.support.pipelines import Watcher, declaration, gate, source, wait_until
from tests.support.server import ServerProcess, start_server

SEED_PATTERN = {
    "source": ["aws.codecommit"],
    "detail-type": ["CodeCommit Repository State Change"],
    "resources": ["arn:aws:codecommit:us-east-1:123456789012:my-repo"],
    "detail": {
        "event": ["referenceCreated", "referenceUpdated"],
        "referenceType": ["branch"],
        "referenceName": ["main"],
    },
}


class Sink:
    """An HTTP endpoint on loopback that keeps every body it is sent, by path."""

    def __init__(self, port: int = 0) -> None:
        self.bodies: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with sink._lock:
                    sink.bodies.append((self.path, json.loads(body)))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()

    def at(self, path: str) -> list[Any]:
        with self._lock:
            return [body for p, body in self.bodies if p == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def events_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose event targets retry quickly (first retry after 50 ms)."""
    proc = start_server(tmp_path_factory.mktemp("events-server"), "--event-retry-seconds", "0.05")
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def events(events_server: ServerProcess) -> Any:
    return events_server.client("events")


@pytest.fixture
def sink() -> Iterator[Sink]:
    s = Sink()
    yield s
    s.close()


def _stageline(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stageline", "events", *args, "--endpoint-url", server.url],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "250"},  # tables wide enough to show whole ARNs
    )


def _aws(server: ServerProcess, home: Path, *args: str) -> Any:
    return aws_json(server.url, home, "events", *args)


def test_rules_and_targets_through_boto3(events: Any, unique: str) -> None:
    name = f"boto-{unique}"
    arn = events.put_rule(Name=name, EventPattern=json.dumps(SEED_PATTERN), Description="seed")[
        "RuleArn"
    ]
    assert arn == f"arn:aws:events:us-east-1:123456789012:rule/{name}"
    result = events.put_targets(
        Rule=name,
        Targets=[
            {"Id": "hook", "Arn": "https://hooks.example.com/build"},
            {"Id": "sns", "Arn": "arn:aws:sns:us-east-1:123456789012:topic"},
        ],
    )
    assert result["FailedEntryCount"] == 1
    assert result["FailedEntries"][0]["TargetId"] == "sns"
    described = events.describe_rule(Name=name)
    assert (described["State"], described["EventBusName"]) == ("ENABLED", "default")
    assert json.loads(described["EventPattern"]) == SEED_PATTERN
    assert [r["Name"] for r in events.list_rules(NamePrefix=name)["Rules"]] == [name]
    assert events.list_targets_by_rule(Rule=name)["Targets"] == [
        {"Id": "hook", "Arn": "https://hooks.example.com/build"}
    ]
    with pytest.raises(ClientError) as refused:
        events.delete_rule(Name=name)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert (
        "Rule can't be deleted since it has targets" in refused.value.response["Error"]["Message"]
    )
    events.remove_targets(Rule=name, Ids=["hook"])
    events.delete_rule(Name=name)
    assert events.list_rules(NamePrefix=name)["Rules"] == []


def test_rules_through_the_aws_cli(
    events_server: ServerProcess, tmp_path: Path, unique: str
) -> None:
    name = f"cli-{unique}"
    (tmp_path / "rule.json").write_text(json.dumps(SEED_PATTERN))
    made = _aws(
        events_server, tmp_path, "put-rule", "--name", name, "--event-pattern", "file://rule.json"
    )
    assert made["RuleArn"].endswith(f":rule/{name}")
    targets = json.dumps([{"Id": "1", "Arn": "command:true"}])
    assert _aws(events_server, tmp_path, "put-targets", "--rule", name, "--targets", targets) == {
        "FailedEntryCount": 0,
        "FailedEntries": [],
    }
    described = _aws(events_server, tmp_path, "describe-rule", "--name", name)
    assert json.loads(described["EventPattern"]) == SEED_PATTERN
    listed = _aws(events_server, tmp_path, "list-targets-by-rule", "--rule", name)
    assert listed["Targets"] == [{"Id": "1", "Arn": "command:true"}]
    _aws(events_server, tmp_path, "disable-rule", "--name", name)
    assert _aws(events_server, tmp_path, "describe-rule", "--name", name)["State"] == "DISABLED"
    _aws(events_server, tmp_path, "remove-targets", "--rule", name, "--ids", "1")
    _aws(events_server, tmp_path, "delete-rule", "--name", name)
    assert _aws(events_server, tmp_path, "list-rules", "--name-prefix", name)["Rules"] == []


def test_an_http_target_receives_a_pipelines_execution_events(
    events_server: ServerProcess, events: Any, sink: Sink, tmp_path: Path, unique: str
) -> None:
    pipeline = f"evt-{unique}"
    pattern = {
        "source": ["aws.codepipeline"],
        "detail-type": ["CodePipeline Pipeline Execution State Change"],
        "detail": {"pipeline": [pipeline]},
    }
    events.put_rule(Name=f"watch-{unique}", EventPattern=json.dumps(pattern))
    events.put_targets(
        Rule=f"watch-{unique}", Targets=[{"Id": "sink", "Arn": f"{sink.url}/pipeline"}]
    )
    repo = f"repo-{unique}"
    events_server.client("codecommit").create_repository(repositoryName=repo)
    GitClient(tmp_path / "home").push_tree(
        f"{events_server.url}/git/{repo}", tmp_path / "work", {"README": "hi\n"}, "first"
    )
    cp = events_server.client("codepipeline")
    cp.create_pipeline(
        pipeline=declaration(pipeline, ("Source", [source(repo)]), ("Gate", [gate()]))
    )
    watch = Watcher(cp, pipeline)
    execution = watch.latest()
    cp.put_approval_result(
        pipelineName=pipeline,
        stageName="Gate",
        actionName="Approve",
        result={"summary": "ok", "status": "Approved"},
        token=watch.approval_token("Gate", "Approve", execution),
    )
    assert watch.finished(execution) == "Succeeded"
    got = wait_until(lambda: (b := sink.at("/pipeline")) and len(b) >= 2 and b, timeout=30)
    # Like EventBridge, the bus does not promise order between deliveries.
    by_state = {e["detail"]["state"]: e for e in got}
    assert sorted(by_state) == ["STARTED", "SUCCEEDED"] and len(got) == 2
    first = by_state["STARTED"]
    assert first["source"] == "aws.codepipeline"
    assert first["resources"] == [f"arn:aws:codepipeline:us-east-1:123456789012:{pipeline}"]
    assert first["detail"]["execution-id"] == execution
    assert first["detail"]["execution-trigger"]["trigger-type"] == "CreatePipeline"


def test_an_input_transformer_shapes_what_the_target_gets(
    events: Any, sink: Sink, unique: str
) -> None:
    name = f"shape-{unique}"
    source_name = f"com.example.{unique}"
    events.put_rule(Name=name, EventPattern=json.dumps({"source": [source_name]}))
    events.put_targets(
        Rule=name,
        Targets=[
            {
                "Id": "sink",
                "Arn": f"{sink.url}/shaped",
                "InputTransformer": {
                    "InputPathsMap": {"order": "$.detail.order", "kind": "$.detail-type"},
                    "InputTemplate": '{"text": "order <order> was <kind>", "rule": '
                    '"<aws.events.rule-name>", "n": <order>}',
                },
            }
        ],
    )
    sent = events.put_events(
        Entries=[{"Source": source_name, "DetailType": "placed", "Detail": '{"order": 42}'}]
    )
    assert sent["FailedEntryCount"] == 0
    (body,) = wait_until(lambda: sink.at("/shaped"), timeout=15)
    assert body == {"text": "order 42 was placed", "rule": name, "n": 42}


def test_put_events_and_test_event_pattern(events: Any) -> None:
    sent = events.put_events(
        Entries=[
            {"Source": "com.example.app", "DetailType": "Deployed", "Detail": '{"v": 2}'},
            {"Source": "aws.codecommit", "DetailType": "Fake", "Detail": "{}"},
            {"Source": "com.example.app", "DetailType": "Deployed", "Detail": "not json"},
        ]
    )
    assert sent["FailedEntryCount"] == 2
    assert "EventId" in sent["Entries"][0]
    assert [e.get("ErrorCode") for e in sent["Entries"][1:]] == [
        "NotAuthorizedForSourceException",
        "MalformedDetail",
    ]
    event = {
        "id": "1",
        "account": "123456789012",
        "source": "aws.codecommit",
        "time": "2024-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:codecommit:us-east-1:123456789012:my-repo"],
        "detail-type": "CodeCommit Repository State Change",
        "detail": {"event": "referenceCreated", "referenceType": "branch", "referenceName": "main"},
    }
    pattern = json.dumps(SEED_PATTERN)
    assert events.test_event_pattern(EventPattern=pattern, Event=json.dumps(event))["Result"]
    event["detail"]["referenceType"] = "tag"
    assert not events.test_event_pattern(EventPattern=pattern, Event=json.dumps(event))["Result"]
    with pytest.raises(ClientError) as bad:
        events.test_event_pattern(EventPattern='{"source": "x"}', Event=json.dumps(event))
    assert bad.value.response["Error"]["Code"] == "InvalidEventPatternException"


def test_a_target_down_fills_the_dead_letter_queue_and_a_redrive_delivers_once(
    events_server: ServerProcess, events: Any, unique: str
) -> None:
    with socket.socket() as s:  # a port nobody listens on, for now
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    name = f"down-{unique}"
    source_name = f"com.example.{unique}"
    events.put_rule(Name=name, EventPattern=json.dumps({"source": [source_name]}))
    events.put_targets(
        Rule=name,
        Targets=[
            {
                "Id": "down",
                "Arn": f"http://127.0.0.1:{port}/hook",
                "RetryPolicy": {"MaximumRetryAttempts": 2},
            }
        ],
    )
    entries = [
        {"Source": source_name, "DetailType": "n", "Detail": json.dumps({"n": n})} for n in range(3)
    ]
    assert events.put_events(Entries=entries)["FailedEntryCount"] == 0

    def dead_letters() -> list[dict[str, Any]]:
        listed = _stageline(events_server, "dlq", "list", "--rule", name, "--output", "json")
        assert listed.returncode == 0, listed.stderr
        return list(json.loads(listed.stdout))

    dead = wait_until(lambda: (d := dead_letters()) and len(d) == 3 and d, timeout=30)
    assert {json.loads(d["input"])["detail"]["n"] for d in dead} == {0, 1, 2}
    assert all(d["attempts"] == 3 and "ConnectError" in d["lastError"] for d in dead)
    table = _stageline(events_server, "dlq", "list", "--rule", name)
    assert table.returncode == 0 and f"127.0.0.1:{port}" in table.stdout
    sink = Sink(port)  # the target comes back
    try:
        ids = [str(d["id"]) for d in dead]
        redriven = _stageline(events_server, "dlq", "redrive", *ids)
        assert redriven.returncode == 0, redriven.stderr
        assert "redriving 3 deliveries" in redriven.stdout
        got = wait_until(lambda: (b := sink.at("/hook")) and len(b) >= 3 and b, timeout=30)
        assert sorted(b["detail"]["n"] for b in got) == [0, 1, 2]
        assert dead_letters() == []
        # Exactly once: an event sent afterwards arrives after them, and nothing else did.
        events.put_events(Entries=[{**entries[0], "Detail": '{"n": 3}'}])
        got = wait_until(lambda: (b := sink.at("/hook")) and len(b) >= 4 and b, timeout=30)
        assert sorted(b["detail"]["n"] for b in got) == [0, 1, 2, 3]
    finally:
        sink.close()


def test_the_cli_explains_an_unreachable_server(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    done = subprocess.run(
        [sys.executable, "-m", "stageline", "events", "dlq", "list", "--endpoint-url", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "cannot reach a stageline server" in done.stderr
    assert "Traceback" not in done.stderr
