"""Names that reach the file system and git's command line: CodeCommit's and git's rules."""

from __future__ import annotations

import pytest

from stageline.repos.errors import InvalidBranchName, InvalidReferenceName, InvalidRepositoryName
from stageline.repos.names import check_branch_name, check_repository_name, check_revision


@pytest.mark.parametrize("name", ["app", "my-repo_2", "a.b", "-rf", "x" * 100, "...x"])
def test_codecommit_names_are_accepted(name: str) -> None:
    assert check_repository_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "..",
        "../etc",
        "a/b",
        "a\\b",
        "app.git",
        "APP.GIT",
        "x" * 101,
        "café",
        "a b",
        "a\nb",
        "a\x00b",
    ],
)
def test_hostile_repository_names_are_refused_with_the_rule(name: str) -> None:
    with pytest.raises(InvalidRepositoryName) as info:
        check_repository_name(name)
    assert "1 to 100 letters" in info.value.message
    assert info.value.code == "InvalidRepositoryNameException"


@pytest.mark.parametrize("ref", ["main", "feature/x", "v1.0", "refs/heads/main", "HEAD"])
def test_ordinary_refs_are_accepted(ref: str) -> None:
    assert check_revision(ref) == ref
    assert check_branch_name(ref) == ref


@pytest.mark.parametrize(
    "ref",
    [
        "--output=/tmp/x",
        "-n",
        "main~1",
        "HEAD^",
        "@{-1}",
        ":/fix",
        "a..b",
        "main\n",
        "a b",
        "x.lock",
        ".hidden",
        "a//b",
        "end/",
        "end.",
        "@",
        "*",
        "",
    ],
)
def test_hostile_refs_are_refused(ref: str) -> None:
    with pytest.raises(InvalidReferenceName):
        check_revision(ref)
    with pytest.raises(InvalidBranchName):
        check_branch_name(ref)


def test_commit_ids_short_and_full_are_revisions() -> None:
    assert check_revision("abcd") == "abcd"
    assert check_revision("a" * 40) == "a" * 40
