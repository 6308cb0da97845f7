"""Every action's log goes through an agent's log sink: masked, capped, one part per run.

The agent hands each provider (Commands, Lambda, CodeBuild) ``writer.write``
as its log, where the writer comes from its backend: the in-process backend
writes to the server's store, a remote agent masks first and posts lines to
the server, which writes them to the same store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from stageline.agent.local import LocalBackend
from stageline.agent.remote import RemoteLogWriter
from stageline.agent.worker import ClaimedJob
from stageline.definitions.catalog import ActionTypeKey
from stageline.logs import FileLogStore

SECRET = "s3cr3t-t0ken-value"
COMMANDS = ActionTypeKey(category="Compute", owner="AWS", provider="Commands", version="1")


def job(action_execution_id: str) -> ClaimedJob:
    return ClaimedJob(
        id="job-1",
        nonce="n",
        type_key=COMMANDS,
        data={"job": {"pipelineContext": {"action": {"actionExecutionId": action_execution_id}}}},
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FileLogStore]:
    s = FileLogStore(tmp_path / "logs", max_bytes=4096)
    yield s
    s.close()


def test_the_in_process_sink_masks_caps_and_numbers_runs(store: FileLogStore) -> None:
    nothing = cast(Any, None)
    backend = LocalBackend(nothing, nothing, nothing, store)
    writer = backend.log_writer(job("ae-1"), [SECRET])
    writer.write(f"token={SECRET}")
    for i in range(500):
        writer.write(f"runaway output {i:04d} " + "x" * 40)
    writer.close()
    lines = store.read("ae-1", limit=1000).lines
    assert lines[0].text == "token=***"
    assert lines[-1].text.startswith("[stageline] log truncated: more than 4096 bytes")
    assert writer.dropped_lines > 0
    assert (store.root / "ae-1.log").stat().st_size <= 4096 + 200
    again = backend.log_writer(job("ae-1"), [])  # the same action execution runs again
    assert again.log_id == "ae-1.1"
    again.close()


def test_a_remote_agent_masks_before_a_line_leaves_the_machine() -> None:
    posted: list[list[str]] = []

    def server(request: httpx.Request) -> httpx.Response:
        posted.append(json.loads(request.content))
        return httpx.Response(200, json={"lines": len(posted[-1])})

    with httpx.Client(transport=httpx.MockTransport(server), base_url="http://s") as http:
        writer = RemoteLogWriter(http, job("ae-2"), [SECRET])
        writer.write(f"echo {SECRET}")
        writer.write("harmless")
        writer.close()
    sent = [line for batch in posted for line in batch]
    assert sent == ["echo ***", "harmless"]
