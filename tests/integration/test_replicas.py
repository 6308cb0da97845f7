"""Two server replicas on one PostgreSQL: what is done through one is seen at once on the other
(long-polling job workers and live console pages), through the change feed."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from stageline.store.db import normalise_url
from tests.support.declarations import action, approval
from tests.support.pipelines import Watcher, declaration, wait_until
from tests.support.server import ServerProcess, start_server

pytestmark = pytest.mark.postgres

SOURCE = {"category": "Source", "owner": "Custom", "provider": "ReplicaSource", "version": "1"}


@pytest.fixture
def replicas(tmp_path: Path, postgres_url: str) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Replicas A and B: one fresh database, a data directory each."""
    a = start_server(tmp_path / "a", "--database-url", postgres_url)
    try:
        b = start_server(tmp_path / "b", "--database-url", postgres_url)
        try:
            yield a, b
        finally:
            b.stop()
    finally:
        a.stop()
    for server in (a, b):
        assert "Traceback" not in "".join(server.log), "".join(server.log)


def custom_source_pipeline(cp: Any, name: str) -> Watcher:
    """Source (a custom action whose jobs wait for a worker) -> Gate; its first run waits at
    Source."""
    cp.create_custom_action_type(
        category="Source",
        provider=SOURCE["provider"],
        version="1",
        configurationProperties=[
            {"name": "Channel", "required": True, "key": True, "secret": False, "queryable": True}
        ],
        inputArtifactDetails={"minimumCount": 0, "maximumCount": 0},
        outputArtifactDetails={"minimumCount": 1, "maximumCount": 1},
    )
    source = action(
        "Source", "Source", SOURCE["provider"], owner="Custom", config={"Channel": name},
        outputs=("Src",),
    )  # fmt: skip
    cp.create_pipeline(pipeline=declaration(name, ("Source", [source]), ("Gate", [approval()])))
    return Watcher(cp, name)


def poll_for_jobs(url: str, channel: str, wait_s: float = 0) -> httpx.Response:
    """PollForJobs over plain HTTP, long-polling with stageline's header when ``wait_s``."""
    body = {"actionTypeId": SOURCE, "maxBatchSize": 1, "queryParam": {"Channel": channel}}
    return httpx.post(
        f"{url}/",
        content=json.dumps(body),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "CodePipeline_20150709.PollForJobs",
            **({"X-Stageline-Wait-Seconds": str(wait_s)} if wait_s else {}),
        },
        timeout=30,
    )


def test_a_long_poll_on_one_replica_wakes_for_a_job_queued_through_the_other(
    replicas: tuple[ServerProcess, ServerProcess], unique: str
) -> None:
    a, b = replicas
    cp_a, cp_b = a.client("codepipeline"), b.client("codepipeline")
    name = f"rep-poll-{unique}"
    w = custom_source_pipeline(cp_b, name)
    # The first run's job: claimed through A and failed, which frees the Source stage.
    first = w.latest()
    job = wait_until(lambda: poll_for_jobs(a.url, name).json()["jobs"])[0]
    cp_a.put_job_failure_result(
        jobId=job["id"], failureDetails={"type": "JobFailed", "message": "first run"}
    )
    assert w.finished(first) == "Failed"

    answer: dict[str, Any] = {}

    def long_poll() -> None:
        answer["response"] = poll_for_jobs(a.url, name, wait_s=10)
        answer["at"] = time.perf_counter()

    poller = threading.Thread(target=long_poll)
    poller.start()
    time.sleep(0.5)  # the poll is waiting at A before the job exists
    assert poller.is_alive()
    queued = time.perf_counter()
    second = cp_b.start_pipeline_execution(name=name)["pipelineExecutionId"]
    poller.join(15)
    response = answer["response"]
    assert response.status_code == 200, response.text
    jobs = response.json()["jobs"]
    assert [j["data"]["pipelineContext"]["pipelineExecutionId"] for j in jobs] == [second]
    assert answer["at"] - queued < 6.0  # woken by B's change, not by its 10 s running out


class LiveView:
    """The server-sent events of one replica's live pipeline view, read on a thread until that
    replica stops."""

    def __init__(self, server: ServerProcess, name: str) -> None:
        self.url = f"{server.url}/console/pipelines/{name}/events"
        self._frames: list[str] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        with httpx.stream("GET", self.url, timeout=httpx.Timeout(30, read=60)) as response:
            assert response.status_code == 200
            lines: list[str] = []
            for line in response.iter_lines():
                if line:
                    lines.append(line)
                    continue
                if "event: state" in lines:
                    with self._lock:
                        self._frames.append("\n".join(lines))
                lines = []

    def frames(self) -> list[str]:
        with self._lock:
            return list(self._frames)

    def first(self) -> str:
        """A stream opened without ``since`` starts with a frame of the current state."""
        return wait_until(self.frames, 10)[0]

    def frame_showing(self, text: str, timeout: float) -> str:
        return wait_until(lambda: next((f for f in self.frames() if text in f), None), timeout)


def test_a_console_page_on_one_replica_follows_a_run_started_through_the_other(
    replicas: tuple[ServerProcess, ServerProcess], unique: str
) -> None:
    a, b = replicas
    name = f"rep-live-{unique}"
    w = custom_source_pipeline(b.client("codepipeline"), name)
    first = w.latest()
    view = LiveView(a, name)
    assert first in view.first()
    second = b.client("codepipeline").start_pipeline_execution(name=name)["pipelineExecutionId"]
    view.frame_showing(second, 6)  # without the feed A would never show it


def test_a_replica_cut_off_from_the_feed_comes_back_and_refreshes_its_pages(
    replicas: tuple[ServerProcess, ServerProcess], unique: str, postgres_url: str
) -> None:
    a, b = replicas
    name = f"rep-cut-{unique}"
    w = custom_source_pipeline(b.client("codepipeline"), name)
    view = LiveView(a, name)
    assert w.latest() in view.first()
    admin = create_engine(normalise_url(postgres_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            cut = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = 'stageline-changefeed' "
                    "AND datname = current_database()"
                )
            ).scalar_one()
        assert cut == 2  # A's listener and B's
    finally:
        admin.dispose()
    # Back, A cannot know what it missed: its pages render afresh without any new change.
    wait_until(lambda: len(view.frames()) >= 2, 10)
    second = b.client("codepipeline").start_pipeline_execution(name=name)["pipelineExecutionId"]
    view.frame_showing(second, 6)  # without the feed A would never show it
    warnings = [line for line in a.log if "lost its database connection" in line]
    assert len(warnings) == 1, warnings
