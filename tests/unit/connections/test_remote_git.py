"""Fetching from remotes into the mirror cache, with real git over file:// and HTTP."""

from __future__ import annotations

import os
import shutil
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from stageline.connections.errors import RemoteGitError
from stageline.connections.git import RemoteGit, repository_url
from stageline.connections.model import Credentials
from stageline.repos.errors import InvalidBranchName
from tests.support.git import GitClient
from tests.unit.connections.remotes import RemoteRepos, auth_git_server

TOKEN = "s3cr3t-t0ken-value"


@pytest.fixture
def remotes(tmp_path: Path) -> RemoteRepos:
    return RemoteRepos(tmp_path / "remote", GitClient(tmp_path / "git-home"))


@pytest.fixture
def mirrors(tmp_path: Path) -> RemoteGit:
    return RemoteGit(tmp_path / "data")


@pytest.fixture
def app(remotes: RemoteRepos) -> tuple[str, list[str]]:
    """acme/app with three commits on main; (file URL, [first, second, third])."""
    remotes.create("acme/app")
    first = remotes.commit("acme/app", {"README": "hi\n", "old.txt": "x\n"}, "First")
    second = remotes.commit("acme/app", {"src/app.py": "print(1)\n"}, "Second")
    third = remotes.commit(
        "acme/app", {"old.txt": None, "new.txt": "x\n", "src/app.py": "print(2)\n"}, "Third"
    )
    return repository_url(remotes.url, "acme/app"), [first, second, third]


def test_ls_remote_and_fetch_follow_the_branch(
    mirrors: RemoteGit, remotes: RemoteRepos, app: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, commits = app
    assert mirrors.ls_remote_branch(url, "main", None) == commits[-1]
    assert mirrors.ls_remote_branch(url, "nope", None) is None
    assert mirrors.fetch(url, "main", None) == commits[-1]
    newer = remotes.commit("acme/app", {"README": "hello\n"}, "Fourth\n\nbody")
    assert mirrors.fetch(url, "main", None) == newer
    info = mirrors.commit_info(url, newer)
    assert info.message == "Fourth\n\nbody" and info.author_name == "Grace Hopper"
    out = tmp_path / "out"
    mirrors.export(url, newer, out)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == [
        "README",
        "new.txt",
        "src/app.py",
    ]
    assert (out / "README").read_text() == "hello\n"
    with pytest.raises(RemoteGitError, match="branch 'gone' does not exist") as exc:
        mirrors.fetch(url, "gone", None)
    assert exc.value.failure_type == "RevisionUnavailable"


def test_a_missing_repository_is_a_configuration_error(
    mirrors: RemoteGit, remotes: RemoteRepos
) -> None:
    remotes.root.mkdir(parents=True)
    with pytest.raises(RemoteGitError) as exc:
        mirrors.fetch(repository_url(remotes.url, "acme/none"), "main", None)
    assert exc.value.failure_type == "ConfigurationError"
    assert "check FullRepositoryId" in exc.value.message


def test_pinned_commits_and_clones(
    mirrors: RemoteGit, remotes: RemoteRepos, app: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, (first, second, third) = app
    mirrors.fetch(url, "main", None)
    assert mirrors.ensure_commit(url, first[:10], None) == first
    with pytest.raises(RemoteGitError) as exc:
        mirrors.ensure_commit(url, "0" * 40, None)
    assert exc.value.failure_type == "RevisionUnavailable"
    with pytest.raises(RemoteGitError, match="not a commit id"):
        mirrors.ensure_commit(url, "--upload-pack=touch", None)
    # A commit pushed to another branch only is fetched by its id.
    side = remotes.commit("acme/app", {"side.txt": "s\n"}, "Side", branch="side")
    assert mirrors.ensure_commit(url, side, None) == side
    clone = tmp_path / "clone"
    mirrors.clone(url, second, clone, branch="main")
    git = GitClient(tmp_path / "client-home")
    assert git.ok("rev-parse", "HEAD", cwd=clone) == second
    assert git.ok("symbolic-ref", "--short", "HEAD", cwd=clone) == "main"
    assert git.ok("log", "--format=%H", cwd=clone).split() == [second, first]
    assert git.ok("remote", "get-url", "origin", cwd=clone) == url
    assert third  # the branch tip is not what the pinned clone holds
    assert not (clone / "new.txt").exists()


def test_changed_files(mirrors: RemoteGit, app: tuple[str, list[str]]) -> None:
    url, (first, second, third) = app
    mirrors.fetch(url, "main", None)
    assert mirrors.changed_files(url, first, second) == ["src/app.py"]
    assert mirrors.changed_files(url, second, third) == ["new.txt", "old.txt", "src/app.py"]
    assert mirrors.changed_files(url, None, second) == ["src/app.py"]
    assert mirrors.changed_files(url, None, first) == ["README", "old.txt"]
    assert mirrors.changed_files(url, "1" * 40, third) is None


def test_hostile_branch_names_never_reach_git(
    mirrors: RemoteGit, app: tuple[str, list[str]]
) -> None:
    url, _ = app
    for branch in ("--upload-pack=touch /tmp/x", "a..b", "-x", "main:refs/heads/evil"):
        with pytest.raises(InvalidBranchName):
            mirrors.fetch(url, branch, None)
        with pytest.raises(InvalidBranchName):
            mirrors.ls_remote_branch(url, branch, None)


def test_concurrent_jobs_share_one_mirror(
    mirrors: RemoteGit, app: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, commits = app

    def job(n: int) -> str:
        tip = mirrors.fetch(url, "main", None)
        mirrors.export(url, tip, tmp_path / f"out{n}")
        return tip

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert set(pool.map(job, range(12))) == {commits[-1]}
    assert len(list((tmp_path / "data" / "mirrors").glob("*.git"))) == 1


def _argv_logging_git(tmp_path: Path) -> Path:
    """A ``git`` first on PATH that appends its arguments and environment to a log, then runs
    the real git: what any local user could read of git's processes in /proc."""
    real = shutil.which("git")
    assert real
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "git-argv.log"
    wrapper = bin_dir / "git"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"printf 'argv: %s\\n' \"$*\" >> '{log}'\n"
        f"printf 'header set: %s\\n' \"${{GIT_CONFIG_VALUE_0:+yes}}\" >> '{log}'\n"
        f"exec '{real}' \"$@\"\n"
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return log


def test_credentials_reach_the_server_and_nothing_else(
    remotes: RemoteRepos,
    app: tuple[str, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, commits = app
    log = _argv_logging_git(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    mirrors = RemoteGit(tmp_path / "data")
    with auth_git_server(remotes.root, "x-access-token", TOKEN) as (base, seen):
        url = repository_url(base, "acme/app.git")
        with pytest.raises(RemoteGitError) as exc:
            mirrors.fetch(url, "main", None)
        assert exc.value.failure_type == "PermissionError"
        assert "--credentials-secret" in exc.value.message
        wrong = Credentials("x-access-token", "wrong")
        with pytest.raises(RemoteGitError):
            mirrors.ls_remote_branch(url, "main", wrong)
        good = Credentials("x-access-token", TOKEN)
        assert mirrors.ls_remote_branch(url, "main", good) == commits[-1]
        assert mirrors.fetch(url, "main", good) == commits[-1]
        mirrors.export(url, commits[0], tmp_path / "out")
    assert good.authorization() in seen
    assert (tmp_path / "out" / "README").read_text() == "hi\n"
    logged = log.read_text()
    assert "argv: ls-remote" in logged and "header set: yes" in logged
    assert TOKEN not in logged and good.authorization() not in logged
    assert TOKEN not in repr(good)
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
            assert good.authorization().encode() not in path.read_bytes(), path


def test_credentials_are_scoped_to_the_remote_origin(tmp_path: Path) -> None:
    from stageline.connections.git import _environment

    env = _environment("https://gitlab.example.com:8443/a/b", Credentials("u", "p"), tmp_path)
    assert env["GIT_CONFIG_KEY_0"] == "http.https://gitlab.example.com:8443/.extraHeader"
    assert env["GIT_ALLOW_PROTOCOL"] == "file:http:https"
    assert "GIT_CONFIG_KEY_0" not in _environment(
        "file:///srv/git/a/b", Credentials("u", "p"), tmp_path
    )
