"""kill -9 of the server at many points of a running pipeline, then a restart, loses nothing."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from tests.support.git import GitClient
from tests.support.pipelines import Watcher, commands, declaration, gate, source, wait_until
from tests.support.server import ServerProcess, start_server

# Offsets after a start at which the server is killed: inside the source export, while
# the parallel build runs, between stages, in the test stage and at the approval.
KILL_AFTER_S = (0.02, 0.1, 0.25, 0.45, 0.7, 1.0, 1.4)


def _pipeline(repo: str) -> dict[str, Any]:
    return declaration(
        "durable",
        ("Source", [source(repo)]),
        (
            "Build",
            [
                commands("Compile", ["sleep 0.2", "echo built > out.txt"], outputs=("Bin",)),
                commands("Lint", ["sleep 0.25"]),
            ],
        ),
        ("Test", [commands("Check", ["test -f out.txt", "sleep 0.2"], inputs=("Bin",))]),
        ("Gate", [gate()]),
        ("Deploy", [commands("Ship", ["test -f out.txt"], inputs=("Bin",))]),
    )


def _restart(data_dir: Path, old: ServerProcess | None) -> ServerProcess:
    if old is not None:
        old.stop(signal.SIGKILL)
    return start_server(data_dir)


def test_kill_dash_nine_at_many_points_loses_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    git = GitClient(tmp_path / "home")
    server = start_server(data_dir)
    try:
        server.client("codecommit").create_repository(repositoryName="durable-app")
        git.push_tree(f"{server.url}/git/durable-app", tmp_path / "work", {"a.txt": "a"}, "first")
        cp = server.client("codepipeline")
        cp.create_pipeline(pipeline=_pipeline("durable-app"))
        executions: list[str] = [Watcher(cp, "durable").latest()]
        for offset in KILL_AFTER_S:
            if offset != KILL_AFTER_S[0]:
                executions.append(
                    cp.start_pipeline_execution(name="durable")["pipelineExecutionId"]
                )
            time.sleep(offset)
            server = _restart(data_dir, server)
            cp = server.client("codepipeline")
            w = Watcher(cp, "durable")
            ex = executions[-1]
            token = w.approval_token("Gate", "Approve", ex)
            if offset == KILL_AFTER_S[-1]:
                # A pending approval's token survives a crash too.
                server = _restart(data_dir, server)
                cp = server.client("codepipeline")
                w = Watcher(cp, "durable")
            cp.put_approval_result(
                pipelineName="durable",
                stageName="Gate",
                actionName="Approve",
                result={"summary": "after a crash", "status": "Approved"},
                token=token,
            )
            assert w.finished(ex) == "Succeeded", (offset, w.state())
        # Every execution ran every action to success; each action's last attempt succeeded.
        for ex in executions:
            acts = w.actions(ex)
            assert {a: d["status"] for a, d in acts.items()} == {
                "Source": "Succeeded",
                "Compile": "Succeeded",
                "Lint": "Succeeded",
                "Check": "Succeeded",
                "Approve": "Succeeded",
                "Ship": "Succeeded",
            }
        _check_history_and_events(data_dir, executions)
    finally:
        server.stop(signal.SIGKILL)


def _check_history_and_events(data_dir: Path, executions: list[str]) -> None:
    engine = create_engine(f"sqlite:///{data_dir / 'stageline.db'}")
    with engine.connect() as conn:
        for ex in executions:
            rows = conn.execute(
                text("SELECT entity, to_status FROM history WHERE execution_id = :e ORDER BY id"),
                {"e": ex},
            ).all()
            assert rows[0] == ("pipeline", "InProgress")
            assert rows[-1] == ("pipeline", "Succeeded")
            events = conn.execute(
                text("SELECT payload FROM outbox WHERE payload LIKE :p"),
                {"p": f'%"execution-id":"{ex}"%'},
            ).all()
            # one event per recorded transition, none lost and none invented
            assert len(events) == len(rows)
    engine.dispose()


def test_a_job_whose_worker_died_is_run_again(tmp_path: Path) -> None:
    """The in-process agent of the killed server held the job; the restarted one re-runs it."""
    data_dir = tmp_path / "data"
    git = GitClient(tmp_path / "home")
    server = start_server(data_dir)
    try:
        server.client("codecommit").create_repository(repositoryName="again")
        git.push_tree(f"{server.url}/git/again", tmp_path / "work", {"a.txt": "a"}, "first")
        runs = tmp_path / "runs"
        cp = server.client("codepipeline")
        cp.create_pipeline(
            pipeline=declaration(
                "again",
                ("Source", [source("again")]),
                ("Build", [commands("Long", [f"echo run >> {runs}", "sleep 1"])]),
            )
        )
        w = Watcher(cp, "again")
        ex = w.latest()
        wait_until(lambda: runs.exists())
        server = _restart(data_dir, server)
        w = Watcher(server.client("codepipeline"), "again")
        assert w.finished(ex) == "Succeeded"
        assert runs.read_text().split() == ["run", "run"]
    finally:
        server.stop(signal.SIGKILL)
