"""Repositories stageline does not host: fetched into a local mirror, read from there.

Every remote URL gets a bare mirror under ``<data dir>/mirrors/<sha256 of the
URL>.git``; a source action fetches the one branch it follows into it
(``git fetch --prune``) and exports or clones the commit from the mirror, so
history is downloaded once and later runs fetch only what is new. Jobs of one
repository may run at once: a fetch holds the mirror's lock file exclusively,
a read (export, clone, diff) holds it shared, so nobody reads a half-written
ref or a pack that git's automatic gc is replacing.

Credentials reach git only through its environment, as an ``http.<origin>.
extraHeader`` (``Authorization: Basic ...``) scoped to the remote's origin by
``GIT_CONFIG_KEY_0``/``GIT_CONFIG_VALUE_0``: never in argv (which any local user
can read in /proc), never in a URL written to disk, never in a log line. git
runs with the clean environment of repos/gitcmd.py, no prompts, only the
file, http and https transports (no ``ext::``), ``--`` before every URL, and
refs and commit ids checked before they reach its command line.
"""

from __future__ import annotations

import fcntl
import hashlib
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

from stageline.connections.errors import RemoteGitError
from stageline.connections.model import Credentials
from stageline.repos import export
from stageline.repos.gitcmd import Git
from stageline.repos.model import CommitInfo
from stageline.repos.names import check_branch_name, is_commit_id
from stageline.repos.service import EXPORT_ATTRIBUTES, parse_commit

FETCH_TIMEOUT = 900.0
LOCAL_TIMEOUT = 120.0
_PERMISSION_HINTS = (
    "authentication failed",
    "could not read username",
    "could not read password",
    "terminal prompts disabled",
    "returned error: 401",
    "returned error: 403",
    "permission denied",
)
_MISSING_HINTS = (
    "not found",
    "does not appear to be a git repository",
    "does not exist",
    "returned error: 404",
)


def repository_url(base: str, repository_path: str) -> str:
    """``<base>/<path>``; for a file:// base, ``<path>.git`` when only that directory exists."""
    url = f"{base.rstrip('/')}/{repository_path}"
    if url.startswith("file:"):
        directory = Path(unquote(urlsplit(url).path))
        if not directory.is_dir() and Path(f"{directory}.git").is_dir():
            return url + ".git"
    return url


def mirror_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:40]


class RemoteGit:
    """git against remote repositories, through a mirror cache under ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "mirrors"
        self.root.mkdir(parents=True, exist_ok=True)
        self.git = Git(self.root / ".git-home")

    # -- reading the remote ------------------------------------------------------------

    def ls_remote_branch(
        self, url: str, branch: str, credentials: Credentials | None
    ) -> str | None:
        """The commit ``branch`` points at on the remote, or None when it has no such branch."""
        ref = f"refs/heads/{check_branch_name(branch)}"
        result = self._run(
            ["ls-remote", "--heads", "--", url, ref],
            url=url,
            credentials=credentials,
            timeout=FETCH_TIMEOUT,
        )
        for line in result.stdout.decode("utf-8", errors="replace").splitlines():
            commit, _, name = line.partition("\t")
            if name == ref and is_commit_id(commit, full=True):
                return commit
        return None

    def fetch(self, url: str, branch: str, credentials: Credentials | None) -> str:
        """Bring ``branch`` into the mirror; its commit there (RevisionUnavailable if none)."""
        ref = f"refs/heads/{check_branch_name(branch)}"
        mirror = self.mirror(url)
        with self._locked(url, exclusive=True):
            self._init(mirror)
            self._run(
                ["fetch", "--quiet", "--prune", "--no-tags", "--", url, f"+{ref}:{ref}"],
                git_dir=mirror,
                url=url,
                credentials=credentials,
                timeout=FETCH_TIMEOUT,
                missing=f"branch '{branch}' does not exist in {url}",
            )
            tip = self._rev_parse(mirror, ref)
        if tip is None:  # pragma: no cover - fetch of a missing ref fails first
            raise RemoteGitError(
                f"branch '{branch}' does not exist in {url}", failure_type="RevisionUnavailable"
            )
        return tip

    def ensure_commit(self, url: str, commit: str, credentials: Credentials | None) -> str:
        """The full id of ``commit`` in the mirror, fetching it by id when it is not there yet."""
        if not is_commit_id(commit):
            raise RemoteGitError(
                f"source revision {commit[:80]!r} is not a commit id; pin a commit with its SHA",
                failure_type="RevisionUnavailable",
            )
        mirror = self.mirror(url)
        found = self._resolve_commit(url, mirror, commit)
        if found is None and is_commit_id(commit, full=True):
            with self._locked(url, exclusive=True):
                self._init(mirror)
                self._run(
                    ["fetch", "--quiet", "--no-tags", "--", url, commit],
                    git_dir=mirror,
                    url=url,
                    credentials=credentials,
                    timeout=FETCH_TIMEOUT,
                    check=False,
                )
            found = self._resolve_commit(url, mirror, commit)
        if found is None:
            raise RemoteGitError(
                f"commit {commit} is not in {url} (or not on a branch it serves); pin a commit "
                "that was pushed there",
                failure_type="RevisionUnavailable",
            )
        return found

    def has_commit(self, url: str, commit: str) -> bool:
        return self._resolve_commit(url, self.mirror(url), commit) is not None

    # -- reading the mirror ------------------------------------------------------------

    def commit_info(self, url: str, commit: str) -> CommitInfo:
        with self._locked(url, exclusive=False):
            raw = self._run(["cat-file", "commit", commit], git_dir=self.mirror(url)).stdout
        return parse_commit(commit, raw)

    def export(self, url: str, commit: str, dest: Path) -> int:
        """The files of ``commit`` into ``dest`` (safely, see repos/export.py); bytes written."""
        with self._locked(url, exclusive=False):
            return export.export_tree(self.git, self.mirror(url), commit, dest)

    def clone(self, url: str, commit: str, dest: Path, *, branch: str) -> None:
        """A full clone at ``commit`` on ``branch`` whose ``origin`` is ``url`` (no credentials)."""
        with self._locked(url, exclusive=False):
            export.clone_at(self.git, self.mirror(url), commit, dest, branch=branch, origin_url=url)

    def changed_files(self, url: str, old: str | None, new: str) -> list[str] | None:
        """Paths that differ between ``old`` and ``new`` (both fetched already), renames as two.

        Without ``old``, the paths ``new`` itself changed (against its first parent;
        every path for a root commit). None when ``old`` is not in the mirror.
        """
        mirror = self.mirror(url)
        with self._locked(url, exclusive=False):
            if old is not None:
                if self._rev_parse(mirror, f"{old}^{{commit}}") is None:
                    return None
                args = ["diff", "--name-only", "--no-renames", "-z", old, new, "--"]
            else:
                parents = self._run(["rev-list", "--parents", "-n", "1", new], git_dir=mirror)
                ids = parents.stdout.decode().split()
                if len(ids) > 1:
                    args = ["diff", "--name-only", "--no-renames", "-z", ids[1], new, "--"]
                else:
                    args = ["ls-tree", "-r", "--name-only", "-z", new]
            out = self._run(args, git_dir=mirror).stdout
        return [p for p in out.decode("utf-8", errors="replace").split("\0") if p]

    # -- internals ---------------------------------------------------------------------

    def mirror(self, url: str) -> Path:
        return self.root / f"{mirror_key(url)}.git"

    def _init(self, mirror: Path) -> None:
        """Create the bare mirror on first use (the caller holds the exclusive lock)."""
        if (mirror / "HEAD").is_file():
            return
        self._run(["init", "--quiet", "--bare", str(mirror)])
        # gc runs inside the fetch that holds the lock, never detached after it; exports are
        # the commit's tree exactly, whatever the repository's .gitattributes say.
        self._run(["config", "gc.autoDetach", "false"], git_dir=mirror)
        (mirror / "info").mkdir(exist_ok=True)
        (mirror / "info" / "attributes").write_text(EXPORT_ATTRIBUTES, encoding="utf-8")

    def _resolve_commit(self, url: str, mirror: Path, commit: str) -> str | None:
        if not (mirror / "HEAD").is_file():
            return None
        with self._locked(url, exclusive=False):
            return self._rev_parse(mirror, f"{commit}^{{commit}}")

    def _rev_parse(self, mirror: Path, rev: str) -> str | None:
        result = self._run(
            ["rev-parse", "--verify", "--quiet", "--end-of-options", rev],
            git_dir=mirror,
            check=False,
        )
        value = result.stdout.decode(errors="replace").strip()
        return value if result.returncode == 0 and is_commit_id(value, full=True) else None

    @contextmanager
    def _locked(self, url: str, *, exclusive: bool) -> Iterator[None]:
        with open(self.root / f"{mirror_key(url)}.lock", "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _run(
        self,
        args: Sequence[str],
        *,
        git_dir: Path | None = None,
        url: str | None = None,
        credentials: Credentials | None = None,
        timeout: float = LOCAL_TIMEOUT,
        check: bool = True,
        missing: str | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        env = self.git.env(_environment(url, credentials, self.root))
        try:
            result = subprocess.run(
                self.git.command(args, git_dir),
                cwd=self.root,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RemoteGitError(
                f"git {args[0]} of {url or 'the mirror'} took longer than {int(timeout)} s; "
                "check that the remote is reachable from the server"
            ) from None
        if check and result.returncode != 0:
            said = result.stderr.decode("utf-8", errors="replace").strip()[:2000]
            raise _failure(args[0], url, said, missing)
        return result


def _environment(url: str | None, credentials: Credentials | None, root: Path) -> dict[str, str]:
    """git's environment beyond the clean one: transports, no repository discovery, the token."""
    extra = {
        "GIT_ALLOW_PROTOCOL": "file:http:https",
        "GIT_CEILING_DIRECTORIES": str(root.parent),
        # Give up on a stalled transfer instead of holding the job until its timeout.
        "GIT_HTTP_LOW_SPEED_LIMIT": "1000",
        "GIT_HTTP_LOW_SPEED_TIME": "60",
    }
    if credentials is not None and url is not None and url.startswith(("https://", "http://")):
        parts = urlsplit(url)
        extra["GIT_CONFIG_COUNT"] = "1"
        extra["GIT_CONFIG_KEY_0"] = f"http.{parts.scheme}://{parts.netloc}/.extraHeader"
        extra["GIT_CONFIG_VALUE_0"] = f"Authorization: {credentials.authorization()}"
    return extra


def _failure(command: str, url: str | None, said: str, missing: str | None) -> RemoteGitError:
    lowered = said.lower()
    where = url or "the mirror"
    if any(hint in lowered for hint in _PERMISSION_HINTS):
        return RemoteGitError(
            f"{where} refused access ({said}); give the connection a token that can read the "
            "repository: `stageline connection set NAME --credentials-secret SECRET`",
            failure_type="PermissionError",
        )
    if missing and "couldn't find remote ref" in lowered:
        return RemoteGitError(missing, failure_type="RevisionUnavailable")
    if any(hint in lowered for hint in _MISSING_HINTS):
        return RemoteGitError(
            f"no repository at {where} ({said}); check FullRepositoryId and where the "
            "connection fetches from",
            failure_type="ConfigurationError",
        )
    return RemoteGitError(f"git {command} of {where} failed: {said}")
