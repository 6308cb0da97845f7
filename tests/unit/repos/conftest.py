"""Real git, in a clean environment: a RepositoryService in a temp dir and working clones of it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stageline.arns import Arns
from stageline.clock import ManualClock
from stageline.repos import RepositoryService
from stageline.services.context import ServiceContext
from stageline.store.db import Database

AUTHOR = ("Ada Lovelace", "ada@example.com")


def client_env(home: Path) -> dict[str, str]:
    """The environment of the test's own git (the "user"): none of the machine's config."""
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
    }


class WorkingCopy:
    """A normal clone a user commits in and pushes from."""

    def __init__(self, path: Path, env: dict[str, str]) -> None:
        self.path = path
        self.env = env

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
        return result.stdout.strip()

    def write(self, relative: str, content: str | bytes, *, executable: bool = False) -> Path:
        path = self.path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        if executable:
            path.chmod(0o755)
        return path

    def commit(self, message: str, *, date: str | None = None) -> str:
        self.git("add", "-A")
        dates = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else {}
        self.git(
            "-c",
            f"user.name={AUTHOR[0]}",
            "-c",
            f"user.email={AUTHOR[1]}",
            "commit",
            "--quiet",
            "--allow-empty",
            "-m",
            message,
            env=dates,
        )
        return self.git("rev-parse", "HEAD")

    def push(self, *refspecs: str) -> None:
        self.git("push", "--quiet", "origin", *(refspecs or ("HEAD:refs/heads/main",)))


@pytest.fixture
def repos(tmp_path: Path) -> Iterator[RepositoryService]:
    db = Database(f"sqlite:///{tmp_path / 'unused.db'}")
    ctx = ServiceContext(
        db=db, clock=ManualClock(), arns=Arns(region="eu-west-1", account_id="111122223333")
    )
    yield RepositoryService(tmp_path / "data", ctx)
    db.dispose()


@pytest.fixture
def clone(repos: RepositoryService, tmp_path: Path) -> Callable[[str], WorkingCopy]:
    """clone(name): a working copy of the hosted repository, cloned over the file system."""
    env = client_env(tmp_path / "client-home")
    count = 0

    def make(name: str) -> WorkingCopy:
        nonlocal count
        count += 1
        path = tmp_path / f"wc{count}"
        subprocess.run(
            ["git", "clone", "--quiet", str(repos.git_dir(name)), str(path)],
            env=env,
            check=True,
            capture_output=True,
        )
        return WorkingCopy(path, env)

    return make
