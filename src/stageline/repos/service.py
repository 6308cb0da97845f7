"""Hosted git repositories: bare repositories under ``<data dir>/repos/<name>.git``.

This is CodeCommit's model on plain git. The API edge (api/codecommit.py), git's
smart HTTP (api/git.py) and the CodeCommit source provider all go through this
service, so names are validated and git is run the same way everywhere.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

from stageline.errors import ApiError
from stageline.repos import export, metadata
from stageline.repos.errors import (
    BranchDoesNotExist,
    CommitDoesNotExist,
    EmptyRepository,
    InvalidRepositoryDescription,
    RepositoryDoesNotExist,
    RepositoryNameExists,
)
from stageline.repos.gitcmd import Git
from stageline.repos.model import CommitInfo, RefUpdate, Repository, iso_utc
from stageline.repos.names import (
    check_branch_name,
    check_repository_name,
    check_revision,
    is_commit_id,
)
from stageline.services.context import ServiceContext

log = logging.getLogger("stageline.repos")

DEFAULT_BRANCH = "main"
MAX_DESCRIPTION = 1000
# Pushes are anonymous until authentication lands; force-pushes are allowed as on
# CodeCommit; any reachable commit can be fetched by id (CodeBuild-style checkouts);
# pushed objects are checked so a malformed tree never reaches an export.
REPOSITORY_CONFIG = (
    ("http.receivepack", "true"),
    ("receive.denyNonFastForwards", "false"),
    ("uploadpack.allowAnySHA1InWant", "true"),
    ("receive.fsckObjects", "true"),
)
# Exports are the commit's tree exactly: in-tree .gitattributes may not drop files
# (export-ignore) or rewrite them (export-subst). info/attributes takes precedence.
EXPORT_ATTRIBUTES = "* -export-ignore -export-subst\n"
_IDENT = re.compile(r"(?P<name>.*?) ?<(?P<email>[^>]*)> (?P<seconds>-?\d+) (?P<tz>[+-]\d{4})")

PushHook = Callable[[str, list[RefUpdate]], None]


class RepositoryService:
    """Creates, lists, deletes and reads the repositories stageline hosts.

    ``base_url`` is the server's own address as clients reach it; clone URLs
    are ``<base_url>/git/<name>``. It is None until known (the API learns it
    from the first request when the port was chosen at start), in which case
    code running on this machine is given the bare repository's path instead.
    """

    def __init__(self, data_dir: Path, ctx: ServiceContext, *, base_url: str | None = None) -> None:
        self.root = data_dir / "repos"
        self.root.mkdir(parents=True, exist_ok=True)
        self.git = Git(data_dir / "git-home")
        self.ctx = ctx
        self.base_url = base_url.rstrip("/") if base_url else None
        self.push_hooks: list[PushHook] = []
        self._lock = threading.Lock()

    # -- locations ---------------------------------------------------------------

    def git_dir(self, name: str) -> Path:
        return self.root / f"{check_repository_name(name)}.git"

    def exists(self, name: str) -> bool:
        path = self.git_dir(name)
        return path.is_dir() and (path / "HEAD").is_file()

    def arn(self, name: str) -> str:
        return f"arn:aws:codecommit:{self.ctx.region}:{self.ctx.account_id}:{name}"

    def clone_url_http(self, name: str) -> str | None:
        return f"{self.base_url}/git/{name}" if self.base_url else None

    def clone_url(self, name: str) -> str:
        """A URL git can clone from: HTTP when the address is known, else the local path."""
        return self.clone_url_http(name) or str(self.git_dir(name))

    # -- repositories ------------------------------------------------------------

    def create(self, name: str, description: str | None = None) -> Repository:
        """A new empty bare repository whose HEAD names ``main``."""
        check_repository_name(name)
        if description is not None and len(description) > MAX_DESCRIPTION:
            raise InvalidRepositoryDescription(
                f"the description is {len(description)} characters; the limit is {MAX_DESCRIPTION}"
            )
        path = self.git_dir(name)
        meta_path = self._meta_path(name)
        with self._lock:
            try:
                path.mkdir()
            except FileExistsError:
                raise RepositoryNameExists(f"repository '{name}' already exists") from None
            try:
                self.git.run(
                    ["init", "--quiet", "--bare", f"--initial-branch={DEFAULT_BRANCH}", str(path)]
                )
                for key, value in REPOSITORY_CONFIG:
                    self.git.run(["config", key, value], git_dir=path)
                (path / "info").mkdir(exist_ok=True)
                (path / "info" / "attributes").write_text(EXPORT_ATTRIBUTES, encoding="utf-8")
                now = self.ctx.clock.now_ms()
                metadata.write(
                    meta_path,
                    metadata.StoredMetadata(
                        repository_id=str(uuid.uuid4()),
                        description=description,
                        created_ms=now,
                        last_modified_ms=now,
                    ),
                )
            except BaseException:
                shutil.rmtree(path, ignore_errors=True)
                meta_path.unlink(missing_ok=True)
                raise
        log.info("created repository %s", name)
        return self.get(name)

    def get(self, name: str) -> Repository:
        self._require(name)
        heads = self._heads(name)
        default = next((branch for branch, is_head in heads if is_head), None)
        return self._repository(name, default_branch=default)

    def list_repositories(self) -> list[Repository]:
        """Every repository, by name. ``default_branch`` is left None here (get() fills it)."""
        out = []
        for path in sorted(self.root.glob("*.git")):
            name = path.name[: -len(".git")]
            try:
                if self.exists(name):
                    out.append(self._repository(name, default_branch=None))
            except RepositoryDoesNotExist:
                continue  # deleted while we listed
            except Exception:  # a stray directory with an unusable name: not a repository
                log.debug("skipping %s", path, exc_info=True)
        return out

    def delete(self, name: str) -> Repository | None:
        """Delete a repository; None if there was none (DeleteRepository is idempotent)."""
        check_repository_name(name)
        with self._lock:
            if not self.exists(name):
                return None
            repo = self._repository(name, default_branch=None)
            trash = self.root / f".deleted-{uuid.uuid4().hex}"
            self.git_dir(name).rename(trash)  # atomic: no clone or push sees half a repository
            self._meta_path(name).unlink(missing_ok=True)
        shutil.rmtree(trash, ignore_errors=True)
        log.info("deleted repository %s", name)
        return repo

    # -- reading -----------------------------------------------------------------

    def refs(self, name: str) -> dict[str, str]:
        """Every ref and the object it points at (a push is the difference of two of these)."""
        self._require(name)
        text = self.git.output(
            ["for-each-ref", "--format=%(objectname) %(refname)"], git_dir=self.git_dir(name)
        )
        pairs = (line.split(" ", 1) for line in text.splitlines() if " " in line)
        return {ref: oid for oid, ref in pairs}

    def list_branches(self, name: str) -> list[str]:
        self._require(name)
        return sorted(branch for branch, _ in self._heads(name))

    def branch_tip(self, name: str, branch: str) -> str:
        """The commit a branch points at; BranchDoesNotExist names the branches that do exist."""
        check_branch_name(branch)
        tip = self.refs(name).get(f"refs/heads/{branch}")
        if tip is None:
            raise self._missing(name, branch, what="branch")
        return tip

    def resolve(self, name: str, ref_or_commit: str) -> str:
        """The full commit id that a branch, tag, full ref or (abbreviated) commit id names."""
        self._require(name)
        check_revision(ref_or_commit)
        result = self.git.run(
            [
                "rev-parse",
                "--verify",
                "--quiet",
                "--end-of-options",
                f"{ref_or_commit}^{{commit}}",
            ],
            git_dir=self.git_dir(name),
            check=False,
        )
        commit = result.stdout.decode(errors="replace").strip()
        if result.returncode != 0 or not is_commit_id(commit, full=True):
            raise self._missing(name, ref_or_commit, what="branch, tag or commit")
        return commit

    def commit_info(self, name: str, commit: str) -> CommitInfo:
        commit_id = self.resolve(name, commit)
        raw = self.git.run(["cat-file", "commit", commit_id], git_dir=self.git_dir(name)).stdout
        return parse_commit(commit_id, raw)

    def changed_files(self, name: str, old: str | None, new: str) -> list[str]:
        """Paths that differ between two commits (every file of ``new`` when ``old`` is None)."""
        new_id = self.resolve(name, new)
        if old is None:
            args = ["ls-tree", "-r", "-z", "--name-only", new_id]
        else:
            args = ["diff", "--name-only", "-z", "--no-renames", self.resolve(name, old), new_id]
        out = self.git.run(args, git_dir=self.git_dir(name)).stdout
        return [p.decode(errors="surrogateescape") for p in out.split(b"\0") if p]

    def export(self, name: str, commit: str, dest_dir: Path) -> str:
        """Write the files of ``commit`` into ``dest_dir``; returns the full commit id."""
        commit_id = self.resolve(name, commit)
        export.export_tree(self.git, self.git_dir(name), commit_id, dest_dir)
        return commit_id

    def clone(self, name: str, commit: str, dest_dir: Path, *, branch: str) -> str:
        """A full clone in ``dest_dir`` with ``branch`` checked out at ``commit``; the commit id."""
        check_branch_name(branch)
        commit_id = self.resolve(name, commit)
        export.clone_at(
            self.git,
            self.git_dir(name),
            commit_id,
            dest_dir,
            branch=branch,
            origin_url=self.clone_url(name),
        )
        return commit_id

    # -- pushes ------------------------------------------------------------------

    def add_push_hook(self, hook: PushHook) -> None:
        self.push_hooks.append(hook)

    def on_push(self, name: str, updates: list[RefUpdate]) -> None:
        """Called after a successful push with the refs it changed.

        Updates lastModifiedDate, makes the first pushed branch the default when
        HEAD names none (CodeCommit's rule), then calls every push hook. A failing
        hook is logged, never raised: the push itself has already succeeded.
        """
        if not updates or not self.exists(name):
            return
        with self._lock:
            meta = self._meta(name)
            metadata.write(self._meta_path(name), meta.touched(self.ctx.clock.now_ms()))
        self._adopt_default_branch(name, updates)
        for hook in list(self.push_hooks):
            try:
                hook(name, updates)
            except Exception:
                log.exception("push hook %r failed for repository %s", hook, name)

    # -- internals ---------------------------------------------------------------

    def _require(self, name: str) -> None:
        if not self.exists(name):
            raise RepositoryDoesNotExist(
                f"repository '{name}' does not exist; create it with "
                f"`stageline repo create {name}` (CreateRepository)"
            )

    def _meta_path(self, name: str) -> Path:
        return self.root / f"{check_repository_name(name)}.json"

    def _meta(self, name: str) -> metadata.StoredMetadata:
        """Stored metadata; a bare repository copied in by hand is adopted on first sight."""
        meta = metadata.read(self._meta_path(name))
        if meta is None:
            now = self.ctx.clock.now_ms()
            meta = metadata.StoredMetadata(
                repository_id=str(uuid.uuid4()),
                description=None,
                created_ms=now,
                last_modified_ms=now,
            )
            metadata.write(self._meta_path(name), meta)
        return meta

    def _repository(self, name: str, *, default_branch: str | None) -> Repository:
        meta = self._meta(name)
        return Repository(
            name=name,
            repository_id=meta.repository_id,
            arn=self.arn(name),
            account_id=self.ctx.account_id,
            description=meta.description,
            created_ms=meta.created_ms,
            last_modified_ms=meta.last_modified_ms,
            default_branch=default_branch,
        )

    def _heads(self, name: str) -> list[tuple[str, bool]]:
        """(branch, is HEAD's branch) for every branch."""
        text = self.git.output(
            ["for-each-ref", "--format=%(HEAD)%(refname:strip=2)", "refs/heads/"],
            git_dir=self.git_dir(name),
        )
        return [(line[1:], line[0] == "*") for line in text.splitlines() if len(line) > 1]

    def _missing(self, name: str, wanted: str, *, what: str) -> ApiError:
        branches = self.list_branches(name)
        if not branches and not self.refs(name):
            where = self.clone_url(name)
            return EmptyRepository(f"repository '{name}' has no commits yet; push to {where} first")
        listed = ", ".join(branches) or "(none)"
        if what != "branch" and is_commit_id(wanted):
            return CommitDoesNotExist(
                f"repository '{name}' has no commit '{wanted}'; its branches are: {listed}"
            )
        return BranchDoesNotExist(
            f"repository '{name}' has no {what} '{wanted}'; its branches are: {listed}"
        )

    def _adopt_default_branch(self, name: str, updates: list[RefUpdate]) -> None:
        heads = self._heads(name)
        if any(is_head for _, is_head in heads):
            return
        created = [u.reference_name for u in updates if u.event == "referenceCreated"]
        branches = {branch for branch, _ in heads}
        for branch in created:
            if branch in branches:
                self.git.run(
                    ["symbolic-ref", "HEAD", f"refs/heads/{branch}"], git_dir=self.git_dir(name)
                )
                return


def parse_commit(commit_id: str, raw: bytes) -> CommitInfo:
    """A CommitInfo from ``git cat-file commit`` output (headers, blank line, message)."""
    head, _, body = raw.partition(b"\n\n")
    headers: dict[str, str] = {}
    parents: list[str] = []
    for line in head.decode("utf-8", errors="replace").split("\n"):
        if not line or line.startswith(" "):
            continue  # continuation of a multi-line header (gpgsig)
        key, _, value = line.partition(" ")
        if key == "parent":
            parents.append(value)
        else:
            headers.setdefault(key, value)
    encoding = headers.get("encoding", "utf-8")
    try:
        message = body.decode(encoding, errors="replace")
    except LookupError:
        message = body.decode("utf-8", errors="replace")
    author = _ident(headers.get("author", ""))
    committer = _ident(headers.get("committer", ""))
    return CommitInfo(
        commit_id=commit_id,
        tree_id=headers.get("tree", ""),
        parents=tuple(parents),
        message=message.rstrip("\n"),
        author_name=author[0],
        author_email=author[1],
        author_date=iso_utc(int(author[2].split()[0])),
        author_timestamp=author[2],
        committer_name=committer[0],
        committer_email=committer[1],
        committer_date=iso_utc(int(committer[2].split()[0])),
        committer_timestamp=committer[2],
    )


def _ident(value: str) -> tuple[str, str, str]:
    """(name, email, "<seconds> <tz>") from an author/committer header."""
    m = _IDENT.fullmatch(value.strip())
    if not m:
        return value, "", "0 +0000"
    return m.group("name"), m.group("email"), f"{m.group('seconds')} {m.group('tz')}"
