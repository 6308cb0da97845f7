"""The user's git, run for real in a clean environment, for tests that push to stageline."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class GitClient:
    """The user's git, in a clean environment rooted in a temp dir."""

    def __init__(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
        }

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", *args], cwd=cwd, env=self.env, capture_output=True, text=True, timeout=120
        )

    def ok(self, *args: str, cwd: Path | None = None) -> str:
        result = self.run(*args, cwd=cwd)
        assert result.returncode == 0, f"git {' '.join(args)}:\n{result.stderr}"
        return result.stdout.strip()

    def commit(self, cwd: Path, message: str) -> str:
        self.ok("add", "-A", cwd=cwd)
        self.ok(
            "-c", "user.name=Grace Hopper", "-c", "user.email=grace@example.com",
            "commit", "--quiet", "--allow-empty", "-m", message, cwd=cwd,
        )  # fmt: skip
        return self.ok("rev-parse", "HEAD", cwd=cwd)

    def push_tree(
        self, url: str, workdir: Path, files: dict[str, str], message: str, branch: str = "main"
    ) -> str:
        """Clone ``url`` (or start fresh), write ``files``, commit and push; returns the commit id."""
        if not (workdir / ".git").exists():
            self.ok("clone", "--quiet", url, str(workdir))
        for name, text in files.items():
            path = workdir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        commit = self.commit(workdir, message)
        self.ok("push", "--quiet", "origin", f"HEAD:{branch}", cwd=workdir)
        return commit
