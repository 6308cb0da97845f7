"""Live action logs against a real server: events while an action runs, resuming,
`stageline logs --follow`, and the log link in GetPipelineState.

Each pipeline's Commands action prints two lines, then waits for a gate file
the test creates, then prints two more: so "a line arrived while the action
was still running" is certain, not a matter of timing.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.git import GitClient
from tests.support.pipelines import Watcher, commands, declaration, source, wait_until
from tests.support.server import ServerProcess
from tests.support.wire import ResponseRecorder

BEFORE = ["line-1", "line-2"]
AFTER = ["line-3", "line-4"]


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
def repo(server: ServerProcess, git: GitClient, tmp_path: Path, unique: str) -> str:
    name = f"logs-{unique}"
    server.client("codecommit").create_repository(repositoryName=name)
    git.push_tree(f"{server.url}/git/{name}", tmp_path / "work", {"README": "hi\n"}, "Add")
    return name


def gated(client: Any, name: str, repo: str, gate: Path) -> tuple[Watcher, str, str]:
    """A pipeline whose Build/Talk action waits for ``gate``; its execution and the action's id."""
    wait_for_gate = f"for i in $(seq 1200); do [ -f {gate} ] && break; sleep 0.05; done"
    client.create_pipeline(
        pipeline=declaration(
            name,
            ("Source", [source(repo)]),
            (
                "Build",
                [
                    commands(
                        "Talk",
                        [
                            *(f"echo {t}" for t in BEFORE),
                            wait_for_gate,
                            *(f"echo {t}" for t in AFTER),
                        ],
                    )
                ],
            ),
        )
    )
    w = Watcher(client, name)
    ex = w.latest()
    talk = wait_until(lambda: w.actions(ex).get("Talk"))
    return w, ex, talk["actionExecutionId"]


def events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """Server-sent events as they arrive (comments, such as heartbeats, skipped)."""
    event: dict[str, Any] = {}
    for line in response.iter_lines():
        if not line:
            if "data" in event:
                event["data"] = json.loads(event["data"])
                yield event
            event = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            event[name] = value


def texts(received: list[dict[str, Any]]) -> list[str]:
    return [e["data"]["text"] for e in received if e.get("event") is None]


def test_events_stream_a_running_action_and_resume_without_repeats(
    client: Any, server: ServerProcess, repo: str, unique: str, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    w, ex, action_id = gated(client, f"sse-{unique}", repo, gate)
    url = f"{server.url}/logs/{action_id}/events"
    first: list[dict[str, Any]] = []
    with httpx.stream("GET", url, timeout=30) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for event in events(response):
            first.append(event)
            if texts(first)[-1:] == [BEFORE[-1]]:
                break  # and disconnect, mid-stream
    # The lines came while the action still waits for its gate.
    assert w.actions(ex)["Talk"]["status"] == "InProgress"
    assert [t for t in texts(first) if t.startswith("line-")] == BEFORE
    gate.touch()
    rest: list[dict[str, Any]] = []
    with httpx.stream(
        "GET", url, headers={"Last-Event-ID": first[-1]["id"]}, timeout=30
    ) as response:
        for event in events(response):
            rest.append(event)
            if event.get("event") == "end":
                break
    assert rest[-1]["event"] == "end"
    assert [t for t in texts(rest) if t.startswith("line-")] == AFTER
    # Together, exactly the log: nothing twice, nothing missing.
    whole = httpx.get(f"{server.url}/logs/{action_id}", params={"limit": 5000}).json()
    assert texts(first) + texts(rest) == [line["text"] for line in whole["lines"]]
    numbers = [e["data"]["number"] for e in first + rest if e.get("event") is None]
    assert numbers == list(range(1, len(numbers) + 1))
    assert w.finished(ex) == "Succeeded"
    assert "Traceback" not in "".join(server.log)  # the dropped stream ended cleanly


def stageline(*args: str, endpoint: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stageline", *args, "--endpoint-url", endpoint],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
    )


def test_logs_follow_prints_lines_as_they_are_written(
    client: Any, server: ServerProcess, repo: str, unique: str, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    name = f"follow-{unique}"
    w, ex, _ = gated(client, name, repo, gate)
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []
    with subprocess.Popen(
        [sys.executable, "-m", "stageline", "logs", name, "--follow"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "STAGELINE_ENDPOINT_URL": server.url},
    ) as proc:

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.put(line.rstrip("\n"))

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            while BEFORE[-1] not in seen:
                seen.append(lines.get(timeout=60))
            assert w.actions(ex)["Talk"]["status"] == "InProgress"
            gate.touch()
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        reader.join(timeout=10)
        assert proc.stderr is not None
        err = proc.stderr.read()
    while not lines.empty():
        seen.append(lines.get())
    assert proc.returncode == 0, err
    assert "==> Source / Source <==" in seen and "==> Build / Talk <==" in seen
    talk = seen[seen.index("==> Build / Talk <==") :]
    assert [t for t in talk if t.startswith("line-")] == BEFORE + AFTER
    assert f"execution {ex}: Succeeded" in err


def test_the_state_links_each_action_to_its_log_and_the_cli_prints_it(
    client: Any, server: ServerProcess, repo: str, unique: str, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    gate.touch()
    name = f"link-{unique}"
    w, ex, action_id = gated(client, name, repo, gate)
    assert w.finished(ex) == "Succeeded"
    link = w.action_state("Build", "Talk")["latestExecution"]["externalExecutionUrl"]
    assert link == f"{server.url}/logs/{action_id}/text"
    listed = w.actions(ex)["Talk"]["output"]["executionResult"]["externalExecutionUrl"]
    assert listed == link
    page = httpx.get(link, timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    assert [t for t in page.text.splitlines() if t.startswith("line-")] == BEFORE + AFTER
    stamped = httpx.get(link, params={"timestamps": "1"}, timeout=30).text.splitlines()
    assert any(line.endswith("Z line-1") for line in stamped)

    shown = stageline("logs", name, "--action", "Talk", endpoint=server.url)
    assert shown.returncode == 0, shown.stderr
    assert [t for t in shown.stdout.splitlines() if t.startswith("line-")] == BEFORE + AFTER
    assert "==>" not in shown.stdout  # one action asked for: no header
    everything = stageline("logs", name, "--execution", ex, endpoint=server.url)
    assert "==> Source / Source <==" in everything.stdout
    assert "==> Build / Talk <==" in everything.stdout


def test_logs_explains_what_it_cannot_find(
    client: Any, server: ServerProcess, repo: str, unique: str, tmp_path: Path
) -> None:
    missing = stageline("logs", f"nothing-{unique}", endpoint=server.url)
    assert missing.returncode == 1
    assert "PipelineNotFoundException" in missing.stderr and f"nothing-{unique}" in missing.stderr
    gate = tmp_path / "gate"
    gate.touch()
    name = f"names-{unique}"
    w, ex, _ = gated(client, name, repo, gate)
    wrong = stageline("logs", name, "--action", "Nope", endpoint=server.url)
    assert wrong.returncode == 1
    assert "no action 'Nope'" in wrong.stderr and "Source/Source, Build/Talk" in wrong.stderr
    wrong = stageline("logs", name, "--stage", "Build", "--action", "Nope", endpoint=server.url)
    assert "no action 'Nope' in stage 'Build'" in wrong.stderr and "are: Talk" in wrong.stderr
    wrong = stageline("logs", name, "--stage", "Deploy", endpoint=server.url)
    assert "no stage 'Deploy'" in wrong.stderr and "Source, Build" in wrong.stderr
    assert w.finished(ex) == "Succeeded"
