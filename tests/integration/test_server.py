"""The server process itself: safe binding, health, restarts and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.declarations import pipeline
from tests.support.server import start_server


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::"])
def test_refuses_a_non_loopback_address_without_authentication(tmp_path: Path, host: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "stageline",
            "server",
            "--host",
            host,
            "--port",
            "0",
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"refusing to listen on {host}" in result.stderr
    assert "--host 127.0.0.1" in result.stderr


def test_health_and_a_restart_keeps_every_pipeline(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        health = httpx.get(f"{server.url}/health").json()
        assert health["status"] == "ok"
        cp = server.client("codepipeline")
        cp.create_pipeline(pipeline=pipeline("survivor"))
        cp.update_pipeline(pipeline=pipeline("survivor"))
    finally:
        server.stop()
    server = start_server(tmp_path)
    try:
        cp = server.client("codepipeline")
        assert cp.get_pipeline(name="survivor")["pipeline"]["version"] == 2
        assert cp.get_pipeline(name="survivor", version=1)["pipeline"]["version"] == 1
    finally:
        server.stop()


@pytest.mark.postgres
def test_the_server_runs_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    server = start_server(tmp_path, "--database-url", postgres_url)
    try:
        cp = server.client("codepipeline")
        cp.create_pipeline(pipeline=pipeline("on-pg"), tags=[{"key": "db", "value": "pg"}])
        got = cp.get_pipeline(name="on-pg")
        assert got["pipeline"]["version"] == 1
        assert cp.list_tags_for_resource(resourceArn=got["metadata"]["pipelineArn"])["tags"] == [
            {"key": "db", "value": "pg"}
        ]
        assert not (tmp_path / "stageline.db").exists()
    finally:
        server.stop()
