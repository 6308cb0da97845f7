"""Running git: a fixed, clean environment, argument lists, never a shell.

Hosted repositories are written by anyone who can push, so git must not pick up
the server user's configuration (aliases, hooks paths, credential helpers,
``core.fsmonitor``…) nor the calling environment (``GIT_DIR``, ``GIT_*``
overrides). Every git stageline runs gets the environment built here: system
config off, ``HOME`` a directory stageline owns, replace refs ignored (a pushed
``refs/replace/*`` must not change what a commit id exports), and no prompts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from stageline.repos.errors import GitFailed

DEFAULT_TIMEOUT = 600.0


def git_executable() -> str:
    found = shutil.which("git")
    if not found:
        raise GitFailed("git is not installed on this server; install git to host repositories")
    return found


def clean_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment a git subprocess sees (nothing is inherited but PATH)."""
    env = {
        "PATH": os.environ.get("PATH") or "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "GIT_ATTR_NOSYSTEM": "1",
        "GIT_NO_REPLACE_OBJECTS": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "",
        "SSH_ASKPASS": "",
        "LC_ALL": "C",
        "LANG": "C",
    }
    if extra:
        env.update(extra)
    return env


class Git:
    """Runs git with the clean environment rooted at ``home``."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._executable: str | None = None
        home.mkdir(parents=True, exist_ok=True)
        (home / ".gitconfig").touch(exist_ok=True)

    @property
    def executable(self) -> str:
        # Looked up on first use, so a server without git still starts and serves pipelines.
        if self._executable is None:
            self._executable = git_executable()
        return self._executable

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        return clean_env(self.home, extra)

    def command(self, args: Sequence[str], git_dir: Path | None = None) -> list[str]:
        prefix = [self.executable]
        if git_dir is not None:
            prefix += ["--git-dir", str(git_dir)]
        return [*prefix, *args]

    def run(
        self,
        args: Sequence[str],
        *,
        git_dir: Path | None = None,
        cwd: Path | None = None,
        check: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run git to completion; with ``check``, a non-zero exit is GitFailed with git's stderr."""
        result = subprocess.run(
            self.command(args, git_dir),
            cwd=cwd,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise GitFailed(
                f"git {args[0]} failed (exit {result.returncode}): "
                f"{result.stderr.decode(errors='replace').strip()[:2000]}"
            )
        return result

    def output(self, args: Sequence[str], *, git_dir: Path | None = None) -> str:
        return self.run(args, git_dir=git_dir).stdout.decode("utf-8", errors="replace")

    def popen(
        self, args: Sequence[str], *, stderr: IO[bytes], git_dir: Path | None = None
    ) -> subprocess.Popen[bytes]:
        """A git process whose stdout the caller streams (``git archive``).

        stderr goes to a file, not a pipe: nobody reads a pipe while stdout is
        streamed, and a full stderr pipe would stall git forever.
        """
        return subprocess.Popen(
            self.command(args, git_dir),
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )


def publish_snapshot(work: Path, target: str, message: str, *, author: str, email: str) -> None:
    """Commit the files of ``work`` (made a fresh repository) and push them to ``target``'s main.

    ``target`` is a bare repository's path or a clone URL; the push replaces main.
    """
    git = Git(work.parent / f".{work.name}-git-home")
    ident = ["-c", f"user.name={author}", "-c", f"user.email={email}"]
    git.run(["init", "--quiet", "-b", "main"], cwd=work)
    git.run(["add", "-A"], cwd=work)
    git.run([*ident, "commit", "--quiet", "--allow-empty", "-m", message], cwd=work)
    if "://" not in target:  # a path: git runs in ``work``, so a relative one would miss
        target = str(Path(target).resolve())
    git.run(["push", "--quiet", "--force", target, "HEAD:main"], cwd=work)
