"""Managing functions over HTTP (/_stageline/functions) and with `stageline function`."""

from __future__ import annotations

import base64
import io
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from click.testing import CliRunner
from starlette.applications import Starlette

from stageline.cli import main
from stageline.functions import FunctionStore
from stageline.functions.routes import function_routes
from tests.unit.functions.conftest import write_code

HANDLER = "def handler(event, context):\n    return 'ok'\n"


def zipped(files: dict[str, str], links: dict[str, str] | None = None) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777) << 16
            archive.writestr(info, target)
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture
def http(endpoint: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=endpoint, timeout=30) as client:
        yield client


def create(http: httpx.Client, **doc: Any) -> Any:
    body = {"name": "fn", "handler": "app.handler", "code": zipped({"app.py": HANDLER}), **doc}
    return http.post("/_stageline/functions", json=body)


def test_create_read_list_delete(http: httpx.Client, store: FunctionStore) -> None:
    response = create(http, environment={"STAGE": "prod"}, timeout=30)
    assert response.status_code == 201, response.text
    doc = response.json()
    assert doc["arn"] == "arn:aws:lambda:eu-west-1:210987654321:function:fn"
    assert (doc["handler"], doc["timeout"], doc["environment"]) == (
        "app.handler",
        30,
        {"STAGE": "prod"},
    )
    assert "codeDir" not in doc
    assert (store.get("fn").code_dir / "app.py").read_text() == HANDLER

    assert http.get("/_stageline/functions/fn").json() == doc
    assert [f["name"] for f in http.get("/_stageline/functions").json()["functions"]] == ["fn"]
    assert http.delete("/_stageline/functions/fn").status_code == 204
    missing = http.get("/_stageline/functions/fn")
    assert missing.status_code == 404
    assert missing.json()["error"] == "ResourceNotFoundException"
    assert "stageline function create fn" in missing.json()["message"]
    assert http.delete("/_stageline/functions/fn").status_code == 404


def test_errors_say_what_is_wrong(http: httpx.Client) -> None:
    assert create(http).status_code == 201
    conflict = create(http)
    assert conflict.status_code == 409 and conflict.json()["error"] == "ResourceConflictException"

    cases = [
        ({"name": "../etc"}, "function name"),
        ({"name": "x", "handler": "nodot"}, "MODULE.FUNCTION"),
        ({"name": "x", "timeout": 9999}, "timeout"),
        ({"name": "x", "code": "not base64!"}, "base64"),
        ({"name": "x", "code": zipped({"../evil.py": "x"})}, "code refused"),
        ({"name": "x", "code": zipped({"app.py": HANDLER}, {"leak": "/etc/passwd"})}, "refused"),
        ({"name": "x", "environment": {"AWS_SECRET_ACCESS_KEY": "x"}}, "reserved"),
        ({"name": "x", "color": "blue"}, "unknown member(s) color"),
    ]
    for doc, match in cases:
        response = create(http, **doc)
        assert response.status_code == 400, (doc, response.text)
        assert response.json()["error"] == "InvalidParameterValueException"
        assert match in response.json()["message"], (doc, response.json())
    missing = http.post("/_stageline/functions", json={"name": "x", "handler": "a.b"})
    assert missing.status_code == 400 and "'code' is required" in missing.json()["message"]
    not_json = http.post("/_stageline/functions", content=b"{nope")
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["message"]
    assert [f["name"] for f in http.get("/_stageline/functions").json()["functions"]] == ["fn"]


def test_update_code(http: httpx.Client, store: FunctionStore) -> None:
    assert create(http).status_code == 201
    new = zipped({"app.py": "def handler(e, c):\n    return 2\n"})
    response = http.put("/_stageline/functions/fn/code", json={"code": new})
    assert response.status_code == 200, response.text
    assert "return 2" in (store.get("fn").code_dir / "app.py").read_text()
    assert http.put("/_stageline/functions/nope/code", json={"code": new}).status_code == 404


@pytest.fixture
def endpoint(store: FunctionStore) -> Iterator[str]:
    """A real HTTP server with the function routes, as the CLI talks to it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(Starlette(routes=function_routes(store)), log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_the_cli_creates_lists_and_deletes(
    endpoint: str, store: FunctionStore, tmp_path: Path
) -> None:
    code = write_code(tmp_path / "src", {"app.py": HANDLER, "lib/helpers.py": "X = 1\n"})
    runner = CliRunner()
    base = ["--endpoint-url", endpoint]
    created = runner.invoke(
        main,
        ["function", "create", "notify", "--handler", "app.handler", "--code", str(code),
         "--env", "STAGE=prod", "--env", "URL=http://x/?a=b", "--timeout", "20", *base],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "created function notify" in created.output
    function = store.get("notify")
    assert function.environment == {"STAGE": "prod", "URL": "http://x/?a=b"}
    assert function.timeout_s == 20
    assert (function.code_dir / "lib" / "helpers.py").read_text() == "X = 1\n"

    listed = runner.invoke(main, ["function", "list", *base])
    assert listed.exit_code == 0 and "notify" in listed.output and "app.handler" in listed.output

    again = runner.invoke(
        main,
        ["function", "create", "notify", "--handler", "app.handler", "--code", str(code), *base],
    )
    assert again.exit_code != 0 and "ResourceConflictException" in again.output

    deleted = runner.invoke(main, ["function", "delete", "notify", *base])
    assert deleted.exit_code == 0 and "deleted function notify" in deleted.output
    assert store.list() == []
    gone = runner.invoke(main, ["function", "delete", "notify", *base])
    assert gone.exit_code != 0 and "does not exist" in gone.output
    empty = runner.invoke(main, ["function", "list", *base])
    assert "no functions yet" in empty.output


def test_the_cli_refuses_code_that_leaves_its_directory(endpoint: str, tmp_path: Path) -> None:
    code = write_code(tmp_path / "src", {"app.py": HANDLER})
    (code / "leak").symlink_to("/etc/passwd")
    result = CliRunner().invoke(
        main,
        ["function", "create", "fn", "--handler", "app.handler", "--code", str(code),
         "--endpoint-url", endpoint],
    )  # fmt: skip
    assert result.exit_code != 0 and "cannot package" in result.output


def test_the_cli_says_when_no_server_answers(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["function", "list", "--endpoint-url", "http://127.0.0.1:9"])
    assert result.exit_code != 0 and "cannot reach a stageline server" in result.output
