"""What `make run` shows a newcomer: the example pipeline has run and waits for approval."""

from __future__ import annotations

from pathlib import Path

from tests.support.pipelines import Watcher
from tests.support.server import start_server


def test_the_example_runs_and_deploys_after_approval(tmp_path: Path) -> None:
    server = start_server(tmp_path, "--example")
    try:
        cp = server.client("codepipeline")
        w = Watcher(cp, "hello-stageline")
        ex = w.latest()
        token = w.approval_token("Approval", "Release", ex)
        acts = w.actions(ex)
        assert acts["Source"]["status"] == acts["TestAndPackage"]["status"] == "Succeeded"
        commit = acts["Source"]["output"]["outputVariables"]["CommitId"]
        release = w.action_state("Approval", "Release")["latestExecution"]
        assert commit[:12] in release["summary"]
        cp.put_approval_result(
            pipelineName="hello-stageline",
            stageName="Approval",
            actionName="Release",
            result={"summary": "ship it", "status": "Approved"},
            token=token,
        )
        assert w.finished(ex) == "Succeeded"
        deployed = tmp_path / "deployments" / "hello-app"
        assert (deployed / "app" / "greeting.py").exists()
        assert (deployed / "REVISION").read_text().strip() == commit
    finally:
        server.stop()
    # Restarting with --example again changes nothing: the pipeline has one execution.
    server = start_server(tmp_path, "--example")
    try:
        assert len(Watcher(server.client("codepipeline"), "hello-stageline").executions()) == 1
    finally:
        server.stop()


def test_the_example_seeds_with_a_relative_data_dir(tmp_path: Path) -> None:
    """`make run` passes `--data-dir .stageline`: a path relative to where it runs."""
    server = start_server(Path(".stageline"), "--example", cwd=tmp_path)
    try:
        w = Watcher(server.client("codepipeline"), "hello-stageline")
        assert w.latest()
        assert (tmp_path / ".stageline" / "repos" / "hello-app.git").is_dir()
    finally:
        server.stop()
