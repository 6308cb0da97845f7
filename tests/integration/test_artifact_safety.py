"""A hostile artifact fails the action that would unpack it, and nothing leaves the workspace."""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.git import GitClient
from tests.support.pipelines import Watcher, commands, declaration, source, wait_until
from tests.support.server import ServerProcess, start_server


@pytest.fixture(scope="module")
def small_limit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose agent unpacks at most 1 MiB per input artifact."""
    proc = start_server(tmp_path_factory.mktemp("small"), "--max-artifact-bytes", str(1024 * 1024))
    try:
        yield proc
    finally:
        proc.stop()


def _zip(entries: list[tuple[str, bytes, int | None]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            if mode is not None:
                info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def traversal(outside: Path) -> bytes:
    return _zip(
        [("ok.txt", b"fine", None), (f"../../../../../../..{outside}/escaped.txt", b"gotcha", None)]
    )


def link_outside(outside: Path) -> bytes:
    return _zip([("ok.txt", b"fine", None), ("link", str(outside).encode(), stat.S_IFLNK | 0o777)])


def write_through_link(outside: Path) -> bytes:
    return _zip(
        [
            ("link", str(outside).encode(), stat.S_IFLNK | 0o777),
            ("link/escaped.txt", b"gotcha", None),
        ]
    )


def too_large(_outside: Path) -> bytes:
    # 6 MiB of zeros packs into a few KiB: a small zip bomb against a 1 MiB limit
    return _zip([("zeros.bin", b"\0" * (6 * 1024 * 1024), None)])


@pytest.mark.parametrize(
    ("maker", "reason"),
    [
        (traversal, "outside"),
        (link_outside, "outside"),
        (write_through_link, "symlink"),
        (too_large, "more than 1048576 bytes"),
    ],
)
def test_hostile_artifact_fails_the_action(
    small_limit_server: ServerProcess, tmp_path: Path, unique: str, maker: Any, reason: str
) -> None:
    server = small_limit_server
    git = GitClient(tmp_path / "home")
    repo = f"hostile-{unique}"
    server.client("codecommit").create_repository(repositoryName=repo)
    git.push_tree(f"{server.url}/git/{repo}", tmp_path / "work", {"a.txt": "a"}, "first")
    cp = server.client("codepipeline")
    name = f"hostile-{unique}"
    outside = tmp_path / "outside"
    outside.mkdir()
    cp.create_pipeline(
        pipeline=declaration(
            name,
            ("Source", [source(repo)]),
            ("Build", [commands("Make", ["echo hi > built.txt"], outputs=("Pkg",))]),
            ("Deploy", [commands("Use", ["cat built.txt"], inputs=("Pkg",))]),
        )
    )
    cp.disable_stage_transition(
        pipelineName=name, stageName="Deploy", transitionType="Inbound", reason="swap"
    )
    w = Watcher(cp, name)
    ex = w.latest()
    wait_until(lambda: ex in w.waiting_at("Deploy"))
    key = w.actions(ex)["Make"]["output"]["outputArtifacts"][0]["s3location"]["key"]
    stored = server.data_dir / "artifacts" / key
    assert stored.exists()
    stored.write_bytes(maker(outside))
    cp.enable_stage_transition(pipelineName=name, stageName="Deploy", transitionType="Inbound")
    assert w.finished(ex) == "Failed"
    message = w.action_state("Deploy", "Use")["latestExecution"]["errorDetails"]["message"]
    assert "input artifact refused" in message and reason in message
    assert list(outside.iterdir()) == []
