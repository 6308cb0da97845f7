"""Hosted git end to end: CodeCommit API, git clone/push over smart HTTP, the aws CLI, the CLI.

Everything runs for real: a `stageline server` process, the git client, boto3
and the `aws` CLI. git runs with a clean environment (no system or user
config, HOME in a temp dir, no prompts), as stageline's own git does.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from botocore.exceptions import ClientError
from click.testing import CliRunner

from stageline.api.app import build_services, create_app
from stageline.cli import main
from stageline.config import Settings
from stageline.repos import RefUpdate
from tests.support.aws_cli import aws_json
from tests.support.git import GitClient
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def git(tmp_path_factory: pytest.TempPathFactory) -> GitClient:
    return GitClient(tmp_path_factory.mktemp("git-home"))


@pytest.fixture(scope="module")
def cc(server: ServerProcess) -> Any:
    return server.client("codecommit")


def test_create_clone_push_and_read_back(
    server: ServerProcess, cc: Any, git: GitClient, tmp_path: Path, unique: str
) -> None:
    name = f"app-{unique}"
    meta = cc.create_repository(repositoryName=name, repositoryDescription="the app")[
        "repositoryMetadata"
    ]
    assert meta["cloneUrlHttp"] == f"{server.url}/git/{name}"
    assert meta["Arn"] == f"arn:aws:codecommit:us-east-1:123456789012:{name}"
    assert meta["repositoryDescription"] == "the app"
    assert "defaultBranch" not in meta

    work = tmp_path / "work"
    git.ok("clone", "--quiet", meta["cloneUrlHttp"], str(work))  # empty: a warning, not an error
    (work / "README.md").write_text("hello\n")
    commit = git.commit(work, "Add README")
    git.ok("push", "--quiet", "origin", "HEAD:main", cwd=work)

    again = tmp_path / "again"
    git.ok("clone", "--quiet", f"{server.url}/git/{name}.git", str(again))
    assert (again / "README.md").read_text() == "hello\n"
    assert git.ok("rev-parse", "HEAD", cwd=again) == commit

    assert cc.get_branch(repositoryName=name, branchName="main")["branch"] == {
        "branchName": "main",
        "commitId": commit,
    }
    assert cc.list_branches(repositoryName=name)["branches"] == ["main"]
    got = cc.get_repository(repositoryName=name)["repositoryMetadata"]
    assert got["defaultBranch"] == "main"
    assert got["lastModifiedDate"] >= meta["lastModifiedDate"]
    info = cc.get_commit(repositoryName=name, commitId=commit)["commit"]
    assert info["message"] == "Add README"
    assert info["author"]["name"] == "Grace Hopper"
    assert info["author"]["email"] == "grace@example.com"
    seconds, offset = info["author"]["date"].split()
    assert seconds.isdigit() and offset[0] in "+-" and len(offset) == 5
    assert info["parents"] == []
    names = [r["repositoryName"] for r in cc.list_repositories()["repositories"]]
    assert name in names


def test_a_large_push_streams_through(
    server: ServerProcess, cc: Any, git: GitClient, tmp_path: Path, unique: str
) -> None:
    name = f"big-{unique}"
    url = cc.create_repository(repositoryName=name)["repositoryMetadata"]["cloneUrlHttp"]
    work = tmp_path / "work"
    git.ok("clone", "--quiet", url, str(work))
    payload = os.urandom(6 * 1024 * 1024)  # incompressible, far over git's 1 MiB post buffer
    (work / "blob.bin").write_bytes(payload)
    commit = git.commit(work, "Big file")
    git.ok("push", "--quiet", "origin", "HEAD:main", cwd=work)

    back = tmp_path / "back"
    git.ok("clone", "--quiet", url, str(back))
    assert git.ok("rev-parse", "HEAD", cwd=back) == commit
    digest = hashlib.sha256((back / "blob.bin").read_bytes()).hexdigest()
    assert digest == hashlib.sha256(payload).hexdigest()
    assert cc.get_branch(repositoryName=name, branchName="main")["branch"]["commitId"] == commit


def test_fetches_work_in_both_protocol_versions_and_gzipped(
    cc: Any, git: GitClient, tmp_path: Path, unique: str
) -> None:
    name = f"fetch-{unique}"
    url = cc.create_repository(repositoryName=name)["repositoryMetadata"]["cloneUrlHttp"]
    pusher, fetcher = tmp_path / "pusher", tmp_path / "fetcher"
    git.ok("clone", "--quiet", url, str(pusher))
    git.commit(pusher, "base")
    git.ok("push", "--quiet", "origin", "HEAD:main", cwd=pusher)
    git.ok("clone", "--quiet", url, str(fetcher))
    for i in range(40):  # enough "have" lines that git gzips the v0 negotiation request
        git.commit(fetcher, f"local {i}")
    for version in ("0", "2"):
        tip = git.commit(pusher, f"remote for v{version}")
        git.ok("push", "--quiet", "origin", "HEAD:main", cwd=pusher)
        git.ok("-c", f"protocol.version={version}", "fetch", "--quiet", "origin", cwd=fetcher)
        assert git.ok("rev-parse", "origin/main", cwd=fetcher) == tip


def test_unknown_and_hostile_repositories_are_404(
    server: ServerProcess, git: GitClient, tmp_path: Path
) -> None:
    result = git.run("clone", f"{server.url}/git/does-not-exist", str(tmp_path / "x"))
    assert result.returncode != 0
    assert "not found" in result.stderr
    for path in (
        "/git/does-not-exist/info/refs?service=git-upload-pack",
        "/git/..%2F..%2Fetc/info/refs?service=git-upload-pack",
        "/git/x.git.git/info/refs?service=git-upload-pack",
        "/git/.git/info/refs?service=git-upload-pack",
    ):
        response = httpx.get(server.url + path, timeout=10)
        assert response.status_code == 404, path


def test_codecommit_errors_have_codecommit_names(cc: Any, unique: str) -> None:
    def code(call: Any, **params: Any) -> str:
        with pytest.raises(ClientError) as info:
            call(**params)
        return str(info.value.response["Error"]["Code"])

    name = f"err-{unique}"
    cc.create_repository(repositoryName=name)
    assert code(cc.create_repository, repositoryName=name) == "RepositoryNameExistsException"
    assert code(cc.get_repository, repositoryName="nope") == "RepositoryDoesNotExistException"
    assert code(cc.create_repository, repositoryName="x.git") == "InvalidRepositoryNameException"
    assert code(cc.get_branch, repositoryName=name, branchName="main") == (
        "BranchDoesNotExistException"
    )
    assert code(cc.get_branch, repositoryName=name) == "BranchNameRequiredException"
    assert code(cc.get_commit, repositoryName=name, commitId="abc") == "InvalidCommitIdException"
    assert code(cc.get_commit, repositoryName=name, commitId="0" * 40) == (
        "CommitIdDoesNotExistException"
    )
    deleted = cc.delete_repository(repositoryName=name)
    assert len(deleted["repositoryId"]) == 36
    assert "repositoryId" not in cc.delete_repository(repositoryName=name)


def test_the_aws_cli_reads_a_repository(
    server: ServerProcess, cc: Any, tmp_path: Path, unique: str
) -> None:
    name = f"cli-{unique}"
    cc.create_repository(repositoryName=name, repositoryDescription="via boto3")
    meta = aws_json(
        server.url, tmp_path, "codecommit", "get-repository", "--repository-name", name
    )["repositoryMetadata"]
    assert meta["repositoryName"] == name
    assert meta["repositoryDescription"] == "via boto3"
    assert meta["cloneUrlHttp"] == f"{server.url}/git/{name}"


def test_stageline_repo_commands(server: ServerProcess, unique: str) -> None:
    name = f"cmd-{unique}"
    runner = CliRunner()
    created = runner.invoke(main, ["repo", "create", name, "--endpoint-url", server.url])
    assert created.exit_code == 0, created.output
    assert f"{server.url}/git/{name}" in created.output
    listed = runner.invoke(main, ["repo", "list", "--endpoint-url", server.url, "-o", "json"])
    assert listed.exit_code == 0, listed.output
    assert name in [r["repositoryName"] for r in json.loads(listed.output)]
    again = runner.invoke(main, ["repo", "create", name, "--endpoint-url", server.url])
    assert again.exit_code != 0
    assert "RepositoryNameExistsException" in again.output
    deleted = runner.invoke(main, ["repo", "delete", name, "--endpoint-url", server.url])
    assert deleted.exit_code == 0 and f"deleted repository {name}" in deleted.output


class InProcessServer:
    """The app in a uvicorn thread, so a test can register a push hook on its services."""

    def __init__(self, data_dir: Path) -> None:
        self.services = build_services(Settings(data_dir=data_dir))
        app = create_app(Settings(data_dir=data_dir), self.services)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="none")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})

    def __enter__(self) -> InProcessServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "in-process server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.sock.close()


@pytest.fixture
def in_process(tmp_path: Path) -> Iterator[InProcessServer]:
    with InProcessServer(tmp_path / "data") as running:
        yield running


def test_push_hook_reports_each_ref_update(
    in_process: InProcessServer, git: GitClient, tmp_path: Path
) -> None:
    repos = in_process.services.repos
    seen: list[tuple[str, list[RefUpdate]]] = []
    repos.add_push_hook(lambda name, updates: seen.append((name, updates)))
    repos.create("hooked")
    url = f"{in_process.url}/git/hooked"
    work = tmp_path / "work"
    git.ok("clone", "--quiet", url, str(work))

    first = git.commit(work, "one")
    git.ok("push", "--quiet", "origin", "HEAD:main", cwd=work)
    second = git.commit(work, "two")
    git.ok("push", "--quiet", "origin", "HEAD:main", "HEAD:refs/heads/dev", cwd=work)
    git.ok("tag", "v1", first, cwd=work)
    git.ok("push", "--quiet", "origin", "v1", cwd=work)
    git.ok("push", "--quiet", "origin", ":dev", cwd=work)
    git.ok("fetch", "--quiet", "origin", cwd=work)  # a fetch is not a push: no hook call

    events = [[(u.event, u.ref, u.old, u.new) for u in updates] for _, updates in seen]
    assert [name for name, _ in seen] == ["hooked"] * 4
    assert events == [
        [("referenceCreated", "refs/heads/main", None, first)],
        [
            ("referenceCreated", "refs/heads/dev", None, second),
            ("referenceUpdated", "refs/heads/main", first, second),
        ],
        [("referenceCreated", "refs/tags/v1", None, first)],
        [("referenceDeleted", "refs/heads/dev", second, None)],
    ]
    assert repos.base_url == in_process.url  # learned from the first request
