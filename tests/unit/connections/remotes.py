"""Remote git repositories for the connection tests: bare repositories in a directory
(``OWNER/REPO.git``, reached as file:// URLs) and the same directory served over
git's dumb HTTP protocol by a loopback server that insists on basic auth."""

from __future__ import annotations

import base64
import http.server
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from tests.support.git import GitClient


class RemoteRepos:
    """A directory of bare repositories standing in for GitHub, GitLab or any git server."""

    def __init__(self, root: Path, git: GitClient) -> None:
        self.root = root
        self.git = git
        self._work = root.parent / f"{root.name}-work"

    @property
    def url(self) -> str:
        return self.root.as_uri()

    def create(self, full_name: str, *, suffix: str = ".git") -> Path:
        path = self.root / f"{full_name}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.git.ok("init", "--quiet", "--bare", "--initial-branch=main", str(path))
        return path

    def commit(
        self,
        full_name: str,
        files: dict[str, str | None],
        message: str,
        *,
        branch: str = "main",
        date: str | None = None,
    ) -> str:
        """Commit ``files`` (None deletes one) on ``branch`` and push it; the commit id."""
        bare = self._bare(full_name)
        work = self._work / full_name
        if not (work / ".git").exists():
            self.git.ok("clone", "--quiet", str(bare), str(work))
        if self.git.run("rev-parse", "--verify", "--quiet", f"origin/{branch}", cwd=work).stdout:
            self.git.ok("checkout", "--quiet", "-B", branch, f"origin/{branch}", cwd=work)
        else:
            self.git.ok("checkout", "--quiet", "--orphan", branch, cwd=work)
        for name, text in files.items():
            path = work / name
            if text is None:
                path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        self.git.ok("add", "-A", cwd=work)
        env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else {}
        result = subprocess.run(
            ["git", "-c", "user.name=Grace Hopper", "-c", "user.email=grace@example.com",
             "commit", "--quiet", "--allow-empty", "-m", message],
            cwd=work, env={**self.git.env, **env}, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        self.git.ok("push", "--quiet", "origin", f"HEAD:refs/heads/{branch}", cwd=work)
        self.git.ok("--git-dir", str(bare), "update-server-info")  # for dumb HTTP
        return self.git.ok("rev-parse", "HEAD", cwd=work)

    def force_branch(self, full_name: str, branch: str, commit: str) -> None:
        bare = self._bare(full_name)
        self.git.ok("--git-dir", str(bare), "update-ref", f"refs/heads/{branch}", commit)
        self.git.ok("--git-dir", str(bare), "update-server-info")

    def _bare(self, full_name: str) -> Path:
        for candidate in (self.root / f"{full_name}.git", self.root / full_name):
            if candidate.is_dir():
                return candidate
        raise AssertionError(f"no repository {full_name} under {self.root}")


class _AuthHandler(http.server.SimpleHTTPRequestHandler):
    expected: str = ""
    seen: list[str]

    def do_GET(self) -> None:
        header = self.headers.get("Authorization")
        self.seen.append(header or "")
        if header != self.expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        return None


@contextmanager
def auth_git_server(root: Path, username: str, password: str) -> Iterator[tuple[str, list[str]]]:
    """Serve ``root`` over dumb HTTP on 127.0.0.1; yields (base URL, Authorization headers seen)."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    seen: list[str] = []
    handler = type("Handler", (_AuthHandler,), {"expected": f"Basic {token}", "seen": seen})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(handler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
