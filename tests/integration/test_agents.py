"""Remote agents: `stageline agent` processes on loopback share a server's work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.git import GitClient
from tests.support.pipelines import Watcher, commands, declaration, source, wait_until
from tests.support.server import ServerProcess, start_server


class AgentProcess:
    def __init__(self, url: str, work: Path, *args: str) -> None:
        self.work = work
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "stageline",
                "agent",
                "--endpoint-url",
                url,
                "--work-dir",
                str(work),
                "--wait-seconds",
                "2",
                "--log-level",
                "warning",
                *args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ},
        )

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        if self.proc.stderr:
            self.proc.stderr.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()


@pytest.fixture
def lease_server(tmp_path: Path) -> Iterator[ServerProcess]:
    server = start_server(tmp_path / "server", "--job-lease-seconds", "2")
    try:
        yield server
    finally:
        server.stop()


def _repo(server: ServerProcess, tmp_path: Path, name: str) -> None:
    server.client("codecommit").create_repository(repositoryName=name)
    GitClient(tmp_path / "home").push_tree(
        f"{server.url}/git/{name}", tmp_path / "w", {"a.txt": "a\n"}, "first"
    )


def _stores(regions: list[str]) -> dict[str, Any]:
    return {r: {"type": "S3", "location": f"artifacts-{r}"} for r in regions}


def test_actions_spread_over_the_server_and_two_remote_agents(
    lease_server: ServerProcess, tmp_path: Path
) -> None:
    server = lease_server
    _repo(server, tmp_path, "spread")
    west = AgentProcess(server.url, tmp_path / "agent-west", "--region", "eu-west-1")
    south = AgentProcess(
        server.url, tmp_path / "agent-south", "--region", "ap-south-1", "--labels", "big"
    )
    try:
        decl = declaration(
            "spread",
            ("Source", [source("spread")]),
            (
                "Build",
                [
                    commands(
                        "West",
                        ["echo west > made.txt", "export WHERE=$PWD"],
                        outputs=("W",),
                        outputVariables=["WHERE"],
                        region="eu-west-1",
                    ),
                    commands(
                        "South",
                        ["export WHERE=$PWD"],
                        outputVariables=["WHERE"],
                        region="ap-south-1",
                    ),
                    commands("Home", ["export WHERE=$PWD"], outputVariables=["WHERE"]),
                ],
            ),
            ("Use", [commands("Check", ["grep west made.txt"], inputs=("W",))]),
        )
        del decl["artifactStore"]
        decl["artifactStores"] = _stores(["us-east-1", "eu-west-1", "ap-south-1"])
        cp = server.client("codepipeline")
        cp.create_pipeline(pipeline=decl)
        w = Watcher(cp, "spread")
        ex = w.latest()
        assert w.finished(ex, timeout=60) == "Succeeded"
        where = {
            name: d["output"]["outputVariables"]["WHERE"]
            for name, d in w.actions(ex).items()
            if name in ("West", "South", "Home")
        }
        assert where["West"].startswith(str(tmp_path / "agent-west"))
        assert where["South"].startswith(str(tmp_path / "agent-south"))
        assert where["Home"].startswith(str(server.data_dir))  # the server's own agent
        # The remote agent's log reached the server.
        west_id = w.actions(ex)["West"]["actionExecutionId"]
        assert (server.data_dir / "logs" / f"{west_id}.log").read_text().count(
            "Running command"
        ) == 2
    finally:
        west.stop()
        south.stop()


def test_an_agent_killed_mid_job_has_its_job_run_again_elsewhere(
    lease_server: ServerProcess, tmp_path: Path
) -> None:
    server = lease_server
    _repo(server, tmp_path, "killed")
    runs = tmp_path / "runs"
    first = AgentProcess(server.url, tmp_path / "agent-one", "--region", "eu-west-1")
    second: AgentProcess | None = None
    try:
        decl = declaration(
            "killed",
            ("Source", [source("killed")]),
            ("Build", [commands("Long", [f"echo $PWD >> {runs}", "sleep 3"], region="eu-west-1")]),
        )
        del decl["artifactStore"]
        decl["artifactStores"] = _stores(["us-east-1", "eu-west-1"])
        cp = server.client("codepipeline")
        cp.create_pipeline(pipeline=decl)
        w = Watcher(cp, "killed")
        ex = w.latest()
        wait_until(lambda: runs.exists(), timeout=30)
        first.kill()
        second = AgentProcess(server.url, tmp_path / "agent-two", "--region", "eu-west-1")
        assert w.finished(ex, timeout=60) == "Succeeded"
        lines = runs.read_text().split()
        assert lines[0].startswith(str(tmp_path / "agent-one"))
        assert lines[-1].startswith(str(tmp_path / "agent-two"))
    finally:
        first.kill()
        if second is not None:
            second.stop()
