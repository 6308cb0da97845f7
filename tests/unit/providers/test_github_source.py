"""The GitHub (version 1) source action against file:// and token-protected HTTP remotes."""

from __future__ import annotations

from pathlib import Path

import pytest

from stageline.definitions.catalog import ActionTypeKey
from stageline.providers.base import JobContext
from stageline.providers.source.github import GitHubSource
from tests.support.git import GitClient
from tests.support.jobs import source_context
from tests.unit.connections.remotes import RemoteRepos, auth_git_server

KEY = ActionTypeKey(category="Source", owner="ThirdParty", provider="GitHub", version="1")


def job(tmp_path: Path, config: dict[str, str], *, name: str = "job") -> JobContext:
    out = tmp_path / name / "out" / "Src"
    out.mkdir(parents=True)
    return JobContext(
        job_id=name,
        action_type=KEY,
        configuration=config,
        pipeline=source_context(),
        workspace=tmp_path / name,
        inputs={},
        outputs={"Src": out},
        log=lambda _line: None,
    )


@pytest.fixture
def remotes(tmp_path: Path) -> RemoteRepos:
    remotes = RemoteRepos(tmp_path / "remote", GitClient(tmp_path / "git-home"))
    remotes.create("octo/hello")
    return remotes


def config(**extra: str) -> dict[str, str]:
    return {"Owner": "octo", "Repo": "hello", "Branch": "main", "OAuthToken": "****", **extra}


def test_file_url_base_with_aws_variables(remotes: RemoteRepos, tmp_path: Path) -> None:
    commit = remotes.commit("octo/hello", {"hi.txt": "hi\n"}, "Hello", date="1700000000 +0000")
    source = GitHubSource(base_url=remotes.url, data_dir=tmp_path / "data")
    assert source.key == KEY
    ctx = job(tmp_path, config(OAuthToken="ghp_not_needed_here"))
    result = source.run(ctx)
    assert result.succeeded, result.message
    assert (ctx.outputs["Src"] / "hi.txt").read_text() == "hi\n"
    assert dict(result.output_variables) == {
        "AuthorDate": "2023-11-14T22:13:20Z",
        "BranchName": "main",
        "CommitId": commit,
        "CommitMessage": "Hello",
        "CommitterDate": "2023-11-14T22:13:20Z",
        "CommitUrl": f"{remotes.url}/octo/hello.git#{commit}",
        "RepositoryName": "hello",
    }
    assert result.external_execution_id == commit and result.summary == "Hello"
    assert source.poll_revision(config()) == commit
    assert source.changed_files(config(), None, commit) == ["hi.txt"]


def test_commit_urls_are_github_api_urls(tmp_path: Path) -> None:
    sha = "a" * 40
    for base, expected in (
        ("https://github.com", f"https://api.github.com/repos/o/r/git/commits/{sha}"),
        ("https://ghe.example.com/", f"https://ghe.example.com/api/v3/repos/o/r/git/commits/{sha}"),
    ):
        source = GitHubSource(base_url=base, data_dir=tmp_path)
        assert source.api_commit_url("o", "r", sha) == expected


def test_the_token_authenticates_over_http(remotes: RemoteRepos, tmp_path: Path) -> None:
    commit = remotes.commit("octo/hello", {"hi.txt": "hi\n"}, "Hello")
    with auth_git_server(remotes.root, "x-access-token", "ghp_abc") as (base, seen):
        source = GitHubSource(base_url=base, data_dir=tmp_path / "data")
        denied = source.run(job(tmp_path, config(Repo="hello.git"), name="denied"))
        allowed = source.run(job(tmp_path, config(Repo="hello.git", OAuthToken="ghp_abc")))
    assert not denied.succeeded and denied.failure_type == "PermissionError"
    assert allowed.succeeded, allowed.message
    assert allowed.revision is not None
    assert allowed.revision.url == f"{base}/octo/hello.git/commit/{commit}"
    assert any(h.startswith("Basic ") for h in seen)


def test_configuration_errors(remotes: RemoteRepos, tmp_path: Path) -> None:
    source = GitHubSource(base_url=remotes.url, data_dir=tmp_path / "data")
    for name, conf, words in (
        ("no-owner", config(Owner=""), "Owner is required"),
        ("hostile", config(Repo="../../etc"), "Repo '../../etc' is not valid"),
        ("missing", config(Repo="nope"), "no repository at"),
    ):
        result = source.run(job(tmp_path, conf, name=name))
        assert not result.succeeded
        assert result.failure_type == "ConfigurationError", (name, result.message)
        assert words in (result.message or ""), (name, result.message)
