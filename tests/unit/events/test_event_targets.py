"""The HTTP target against a real local HTTP server, the command target with real programs."""

from __future__ import annotations

import json
import socket
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from stageline.events.targets import CommandDeliverer, Delivery, DeliveryFailed, HttpDeliverer

STATUS = {"/ok": 200, "/accepted": 202, "/busy": 503, "/throttled": 429, "/gone": 404}


class Sink:
    """A local HTTP server that records each request and answers by path."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.release = threading.Event()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode()
                url = urlsplit(self.path)
                sink.requests.append(
                    {
                        "path": url.path,
                        "query": parse_qs(url.query),
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    }
                )
                if url.path == "/hang":
                    sink.release.wait(10)
                status = STATUS.get(url.path, 200)
                self.send_response(status)
                reply = b"" if status < 300 else b"try later"
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink() -> Iterator[Sink]:
    s = Sink()
    yield s
    s.close()


@pytest.fixture
def http() -> Iterator[HttpDeliverer]:
    d = HttpDeliverer(timeout_s=0.5)
    yield d
    d.close()


def delivery(arn: str, text: str = '{"detail":{"a":1}}', **target: Any) -> Delivery:
    return Delivery(
        id=1,
        event_id="e-1",
        rule_name="r",
        rule_arn="arn:aws:events:us-east-1:123456789012:rule/r",
        target_id="t",
        target_arn=arn,
        input=text,
        attempts=1,
        target={"Id": "t", "Arn": arn, **target},
    )


def test_http_posts_the_input_as_json_with_the_targets_headers_and_query(
    sink: Sink, http: HttpDeliverer
) -> None:
    http.deliver(
        delivery(
            f"{sink.url}/ok?fixed=1",
            HttpParameters={
                "HeaderParameters": {"X-Team": "builds", "Authorization": "Bearer s3cret"},
                "QueryStringParameters": {"env": "prod"},
            },
        )
    )
    http.deliver(delivery(f"{sink.url}/accepted"))
    first, second = sink.requests
    assert first["path"] == "/ok"
    assert first["query"] == {"fixed": ["1"], "env": ["prod"]}
    assert first["headers"]["content-type"] == "application/json"
    assert first["headers"]["x-team"] == "builds"
    assert first["headers"]["authorization"] == "Bearer s3cret"
    assert json.loads(first["body"]) == {"detail": {"a": 1}}
    assert second["path"] == "/accepted"


@pytest.mark.parametrize(
    ("path", "retryable", "said"),
    [
        ("/busy", True, "answered HTTP 503: try later"),
        ("/throttled", True, "answered HTTP 429"),
        ("/gone", False, "answered HTTP 404"),
    ],
)
def test_http_answers_decide_whether_to_retry(
    sink: Sink, http: HttpDeliverer, path: str, retryable: bool, said: str
) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        http.deliver(
            delivery(
                f"{sink.url}{path}?token=abc",
                HttpParameters={"HeaderParameters": {"Authorization": "Bearer s3cret"}},
            )
        )
    assert failed.value.retryable is retryable
    assert said in failed.value.message
    # Neither header values nor the query string (which may hold tokens) are repeated.
    assert "s3cret" not in failed.value.message and "abc" not in failed.value.message
    assert f"POST {sink.url}{path} " in failed.value.message


def test_http_timeouts_and_refused_connections_are_retried(sink: Sink, http: HttpDeliverer) -> None:
    with pytest.raises(DeliveryFailed) as slow:
        http.deliver(delivery(f"{sink.url}/hang"))
    assert slow.value.retryable and "timed out" in slow.value.message
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    with pytest.raises(DeliveryFailed) as refused:
        http.deliver(delivery(f"http://127.0.0.1:{free_port}/x"))
    assert refused.value.retryable and "ConnectError" in refused.value.message


def test_which_arns_each_target_kind_takes() -> None:
    http, command = HttpDeliverer(), CommandDeliverer()
    try:
        assert http.handles("https://hooks.example.com/x") and http.handles("http://h:8080")
        assert not http.handles("http://") and not http.handles("ftp://h/x")
        assert not http.handles("http://h:99999/x")
        assert command.handles("command:notify --to 'the team'")
        assert CommandDeliverer.argv("command:notify --to 'the team'") == [
            "notify",
            "--to",
            "the team",
        ]
        assert not command.handles("command:") and not command.handles("command:'unclosed")
        assert not command.handles("arn:aws:sns:us-east-1:123456789012:topic")
    finally:
        http.close()


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_a_command_gets_the_input_on_stdin_without_a_shell(tmp_path: Path) -> None:
    out = tmp_path / "got it.json"
    script = _script(tmp_path / "save", 'cat > "$1"\n')
    CommandDeliverer().deliver(delivery(f"command:{script} '{out}'", '{"ok": true}'))
    assert out.read_text() == '{"ok": true}'
    # No shell: metacharacters are plain arguments.
    marker = tmp_path / "never"
    CommandDeliverer().deliver(delivery(f"command:{script} '{out}' ; touch {marker}", "{}"))
    assert not marker.exists()


def test_a_failing_command_is_retried_with_the_end_of_its_stderr(tmp_path: Path) -> None:
    script = _script(
        tmp_path / "fail",
        'for n in 1 2 3 4 5 6 7; do echo "line $n" >&2; done\necho "disk full" >&2\nexit 3\n',
    )
    with pytest.raises(DeliveryFailed) as failed:
        CommandDeliverer().deliver(delivery(f"command:{script}"))
    assert failed.value.retryable
    assert failed.value.message.endswith(
        "exited with status 3; stderr: line 4 | line 5 | line 6 | line 7 | disk full"
    )
    with pytest.raises(DeliveryFailed) as missing:
        CommandDeliverer().deliver(delivery(f"command:{tmp_path / 'nothing-here'}"))
    assert missing.value.retryable and "cannot run" in missing.value.message


def test_a_command_that_runs_too_long_is_stopped(tmp_path: Path) -> None:
    script = _script(tmp_path / "hang", "exec sleep 30\n")
    with pytest.raises(DeliveryFailed) as failed:
        CommandDeliverer(timeout_s=0.2).deliver(delivery(f"command:{script}"))
    assert failed.value.retryable and "did not finish within 0.2 s" in failed.value.message
