"""RepositoryService with real git: create, read, resolve, export, clone, push hooks."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from stageline.repos import RefUpdate, RepositoryService
from stageline.repos.errors import (
    BranchDoesNotExist,
    CommitDoesNotExist,
    EmptyRepository,
    GitFailed,
    InvalidReferenceName,
    InvalidRepositoryName,
    RepositoryDoesNotExist,
    RepositoryNameExists,
    TreeTooLarge,
    UnsafeTree,
)
from stageline.repos.export import export_tree
from stageline.repos.model import diff_refs
from stageline.repos.service import parse_commit
from tests.unit.repos.conftest import AUTHOR, WorkingCopy

Clone = Callable[[str], WorkingCopy]


def git_config(repos: RepositoryService, name: str, key: str) -> str:
    return repos.git.output(["config", "--get", key], git_dir=repos.git_dir(name)).strip()


def test_create_makes_a_bare_repository_with_codecommit_metadata(repos: RepositoryService) -> None:
    repo = repos.create("app", "the app")
    assert repo.name == "app"
    assert repo.description == "the app"
    assert repo.arn == "arn:aws:codecommit:eu-west-1:111122223333:app"
    assert repo.account_id == "111122223333"
    assert len(repo.repository_id) == 36
    assert repo.default_branch is None  # nothing pushed yet, as on CodeCommit
    path = repos.root / "app.git"
    assert (path / "HEAD").read_text().strip() == "ref: refs/heads/main"
    assert git_config(repos, "app", "core.bare") == "true"
    assert git_config(repos, "app", "http.receivepack") == "true"
    assert git_config(repos, "app", "receive.denyNonFastForwards") == "false"
    assert git_config(repos, "app", "uploadpack.allowAnySHA1InWant") == "true"
    assert (repos.root / "app.json").is_file()
    assert repos.get("app") == repo


def test_create_twice_is_refused_and_keeps_the_first(repos: RepositoryService) -> None:
    first = repos.create("app")
    with pytest.raises(RepositoryNameExists, match="'app' already exists"):
        repos.create("app", "other")
    assert repos.get("app").repository_id == first.repository_id


@pytest.mark.parametrize("name", ["../evil", "a/b", "x.git", "..", "", "a" * 101, "ünï"])
def test_hostile_names_are_refused_and_nothing_is_written(
    repos: RepositoryService, tmp_path: Path, name: str
) -> None:
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(InvalidRepositoryName):
        repos.create(name)
    with pytest.raises(InvalidRepositoryName):
        repos.get(name)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_list_and_delete(repos: RepositoryService) -> None:
    for name in ("zeta", "alpha", "mid"):
        repos.create(name)
    assert [r.name for r in repos.list_repositories()] == ["alpha", "mid", "zeta"]
    deleted = repos.delete("mid")
    assert deleted is not None and deleted.name == "mid"
    assert repos.delete("mid") is None  # DeleteRepository is idempotent
    assert [r.name for r in repos.list_repositories()] == ["alpha", "zeta"]
    assert not (repos.root / "mid.git").exists() and not (repos.root / "mid.json").exists()
    with pytest.raises(RepositoryDoesNotExist, match="repository 'mid' does not exist"):
        repos.get("mid")
    assert [p.name for p in repos.root.iterdir() if p.name.startswith(".deleted")] == []


def test_resolve_branches_tags_refs_and_commit_ids(repos: RepositoryService, clone: Clone) -> None:
    repos.create("app")
    wc = clone("app")
    wc.write("a.txt", "one")
    first = wc.commit("first")
    wc.write("a.txt", "two")
    second = wc.commit("second")
    wc.git("tag", "light", first)
    wc.git(
        "-c", "user.name=Ada", "-c", "user.email=a@x", "tag", "-a", "annotated", "-m", "r", first
    )
    wc.push("HEAD:refs/heads/main", "refs/tags/light", "refs/tags/annotated")

    assert repos.resolve("app", "main") == second
    assert repos.resolve("app", "refs/heads/main") == second
    assert repos.resolve("app", "light") == first
    assert repos.resolve("app", "annotated") == first  # peeled to the commit
    assert repos.resolve("app", first) == first
    assert repos.resolve("app", first[:8]) == first
    assert repos.branch_tip("app", "main") == second
    assert repos.list_branches("app") == ["main"]
    assert repos.get("app").default_branch == "main"


def test_unknown_refs_name_the_repository_and_the_branches_that_exist(
    repos: RepositoryService, clone: Clone
) -> None:
    repos.create("app")
    wc = clone("app")
    wc.commit("first")
    wc.push("HEAD:refs/heads/main", "HEAD:refs/heads/dev")
    with pytest.raises(BranchDoesNotExist) as info:
        repos.resolve("app", "release")
    assert info.value.message == (
        "repository 'app' has no branch, tag or commit 'release'; its branches are: dev, main"
    )
    assert info.value.code == "BranchDoesNotExistException"
    with pytest.raises(BranchDoesNotExist, match="has no branch 'release'; its branches are"):
        repos.branch_tip("app", "release")
    with pytest.raises(CommitDoesNotExist, match="has no commit '" + "0" * 40):
        repos.resolve("app", "0" * 40)


def test_an_empty_repository_says_where_to_push(repos: RepositoryService) -> None:
    repos.create("fresh")
    with pytest.raises(EmptyRepository) as info:
        repos.resolve("fresh", "main")
    assert info.value.message.startswith("repository 'fresh' has no commits yet; push to ")
    assert str(repos.git_dir("fresh")) in info.value.message
    repos.base_url = "http://127.0.0.1:8787"
    with pytest.raises(EmptyRepository, match=re.escape("push to http://127.0.0.1:8787/git/fresh")):
        repos.branch_tip("fresh", "main")


@pytest.mark.parametrize("ref", ["--output=/tmp/pwned", "main~1", "@{-1}", ":/first", "a..b"])
def test_hostile_refs_never_reach_git(
    repos: RepositoryService, clone: Clone, ref: str, tmp_path: Path
) -> None:
    repos.create("app")
    wc = clone("app")
    wc.commit("first")
    wc.push()
    with pytest.raises(InvalidReferenceName):
        repos.resolve("app", ref)
    assert not Path("/tmp/pwned").exists()


def test_commit_info_has_both_date_forms(repos: RepositoryService, clone: Clone) -> None:
    repos.create("app")
    wc = clone("app")
    commit = wc.commit("Fix the build\n\nLonger explanation.", date="1700000000 -0800")
    wc.push()
    info = repos.commit_info("app", "main")
    assert info.commit_id == commit
    assert info.message == "Fix the build\n\nLonger explanation."
    assert info.summary == "Fix the build"
    assert (info.author_name, info.author_email) == AUTHOR
    assert (info.committer_name, info.committer_email) == AUTHOR
    assert info.author_date == "2023-11-14T22:13:20Z"
    assert info.committer_date == "2023-11-14T22:13:20Z"
    assert info.author_timestamp == "1700000000 -0800"  # GetCommit's form
    assert info.committed_ms == 1_700_000_000_000
    assert info.parents == ()
    assert len(info.tree_id) == 40


def test_parse_commit_skips_signatures_and_honours_encoding() -> None:
    raw = (
        b"tree " + b"1" * 40 + b"\n"
        b"parent " + b"2" * 40 + b"\n"
        b"parent " + b"3" * 40 + b"\n"
        b"author J\xe9r\xf4me <j@example.com> 1700000000 +0200\n"
        b"committer Bot <bot@example.com> 1700000100 +0000\n"
        b"encoding ISO-8859-1\n"
        b"gpgsig -----BEGIN PGP SIGNATURE-----\n"
        b" abc\n"
        b" -----END PGP SIGNATURE-----\n"
        b"\n"
        b"Caf\xe9 merge\n"
    )
    info = parse_commit("4" * 40, raw)
    assert info.parents == ("2" * 40, "3" * 40)
    assert info.message == "Café merge"
    assert info.author_timestamp == "1700000000 +0200"
    assert info.committer_date == "2023-11-14T22:15:00Z"


def test_export_writes_the_commit_tree_exactly(
    repos: RepositoryService, clone: Clone, tmp_path: Path
) -> None:
    repos.create("app")
    wc = clone("app")
    wc.write("README.md", "hello\n")
    wc.write("src/app.py", "print('hi')\n")
    wc.write("bin/run.sh", "#!/bin/sh\necho run\n", executable=True)
    wc.write("docs/secret.txt", "kept\n")
    wc.write(".gitattributes", "docs/ export-ignore\nREADME.md export-subst\n")
    os.symlink("../src/app.py", wc.path / "bin" / "app-link")
    first = wc.commit("first")
    wc.write("README.md", "changed\n")
    wc.commit("second")
    wc.push()

    out = tmp_path / "out"
    assert repos.export("app", first, out) == first
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if not p.is_dir())
    assert files == [
        ".gitattributes",
        "README.md",
        "bin/app-link",
        "bin/run.sh",
        "docs/secret.txt",
        "src/app.py",
    ]
    assert (out / "README.md").read_text() == "hello\n"  # the pinned commit, not the tip
    assert os.stat(out / "bin" / "run.sh").st_mode & stat.S_IXUSR
    assert os.readlink(out / "bin" / "app-link") == "../src/app.py"


@pytest.mark.parametrize("target", ["/etc/passwd", "../../outside", "../.."])
def test_export_refuses_links_out_of_the_directory(
    repos: RepositoryService, clone: Clone, tmp_path: Path, target: str
) -> None:
    repos.create("app")
    wc = clone("app")
    wc.write("sub/ok.txt", "fine")
    os.symlink(target, wc.path / "sub" / "evil")
    wc.commit("hostile")
    wc.push()
    out = tmp_path / "nested" / "out"
    with pytest.raises(UnsafeTree, match="sub/evil"):
        repos.export("app", "main", out)
    assert not (out / "sub" / "evil").is_symlink()
    with pytest.raises(UnsafeTree, match="sub/evil"):
        repos.clone("app", "main", tmp_path / "clone", branch="main")


def test_export_refuses_trees_git_itself_calls_invalid(
    repos: RepositoryService, tmp_path: Path
) -> None:
    repos.create("app")
    bare = repos.git_dir("app")

    def git(*args: str, stdin: str = "") -> str:
        return subprocess.run(
            ["git", "--git-dir", str(bare), *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
            env={
                **repos.git.env(),
                "GIT_AUTHOR_NAME": "x",
                "GIT_AUTHOR_EMAIL": "x@x",
                "GIT_COMMITTER_NAME": "x",
                "GIT_COMMITTER_EMAIL": "x@x",
            },
        ).stdout.strip()

    blob = git("hash-object", "-w", "--stdin", stdin="pwned\n")
    inner = git("mktree", stdin=f"100644 blob {blob}\tpwned\n")
    outer = git("mktree", stdin=f"040000 tree {inner}\t..\n")
    commit = git("commit-tree", outer, "-m", "escape")
    git("update-ref", "refs/heads/main", commit)
    with pytest.raises(GitFailed, match="invalid path"):
        repos.export("app", "main", tmp_path / "out" / "deep")
    assert not (tmp_path / "out" / "pwned").exists()


def test_export_stops_at_the_size_limit(
    repos: RepositoryService, clone: Clone, tmp_path: Path
) -> None:
    repos.create("app")
    wc = clone("app")
    wc.write("big.bin", os.urandom(4096))
    commit = wc.commit("big")
    wc.push()
    with pytest.raises(TreeTooLarge, match="more than 1000 bytes"):
        export_tree(repos.git, repos.git_dir("app"), commit, tmp_path / "out", max_bytes=1000)


def test_clone_checks_out_the_branch_at_the_commit(
    repos: RepositoryService, clone: Clone, tmp_path: Path
) -> None:
    repos.create("app")
    wc = clone("app")
    wc.write("a.txt", "one")
    first = wc.commit("first")
    wc.write("a.txt", "two")
    wc.commit("second")
    wc.push()
    repos.base_url = "http://127.0.0.1:9999"

    out = tmp_path / "clone"
    assert repos.clone("app", first, out, branch="main") == first
    local = WorkingCopy(out, wc.env)
    assert (out / ".git").is_dir()
    assert (out / "a.txt").read_text() == "one"
    assert local.git("rev-parse", "HEAD") == first
    assert local.git("symbolic-ref", "--short", "HEAD") == "main"
    assert local.git("remote", "get-url", "origin") == "http://127.0.0.1:9999/git/app"
    assert local.git("status", "--porcelain") == ""


def test_on_push_calls_hooks_updates_metadata_and_survives_a_failing_hook(
    repos: RepositoryService, clone: Clone
) -> None:
    repos.create("app")
    created = repos.get("app").last_modified_ms
    seen: list[tuple[str, list[RefUpdate]]] = []

    def broken(_name: str, _updates: list[RefUpdate]) -> None:
        raise RuntimeError("hook bug")

    repos.add_push_hook(broken)
    repos.add_push_hook(lambda name, updates: seen.append((name, updates)))
    wc = clone("app")
    commit = wc.commit("first")
    wc.push("HEAD:refs/heads/trunk")  # a first branch that is not main
    before: dict[str, str] = {}
    updates = diff_refs(before, repos.refs("app"))
    repos.ctx.clock.advance(seconds=5)  # type: ignore[attr-defined]

    repos.on_push("app", updates)

    assert seen == [("app", [RefUpdate(ref="refs/heads/trunk", old=None, new=commit)])]
    assert repos.get("app").last_modified_ms == created + 5000
    assert repos.get("app").default_branch == "trunk"  # the first pushed branch, as on CodeCommit


def test_diff_refs_names_created_updated_and_deleted() -> None:
    updates = diff_refs(
        {"refs/heads/main": "a" * 40, "refs/heads/old": "b" * 40},
        {"refs/heads/main": "c" * 40, "refs/tags/v1": "d" * 40},
    )
    assert [(u.ref, u.event, u.reference_type, u.reference_name) for u in updates] == [
        ("refs/heads/main", "referenceUpdated", "branch", "main"),
        ("refs/heads/old", "referenceDeleted", "branch", "old"),
        ("refs/tags/v1", "referenceCreated", "tag", "v1"),
    ]
