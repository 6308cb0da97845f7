"""V2 trigger filter semantics, one table per rule (CodePipeline user guide, "Add trigger with
code push or pull request event types")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from stageline.triggers import changes
from stageline.triggers.changes import ChangeKind, GitChange, PullRequestEvent, RefKind
from stageline.triggers.filters import Criteria, evaluate, triggers_of

COMMIT = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"


def push(ref: str, files: Sequence[str] | None = ("src/app.py",)) -> GitChange:
    change = changes.push(
        provider="github",
        repository="o/r",
        ref=ref,
        before="1" * 40,
        after=COMMIT,
        files=tuple(files) if files is not None else None,
    )
    assert change is not None
    return change


def pull(event: str = "OPEN", destination: str = "main") -> GitChange:
    return GitChange(
        provider="github",
        repository="o/r",
        kind=ChangeKind.PULL_REQUEST,
        ref="refs/heads/feature/x",
        ref_kind=RefKind.BRANCH,
        name="feature/x",
        after=COMMIT,
        event=PullRequestEvent(event),
        source_branch="feature/x",
        destination_branch=destination,
    )


def git(**config: Any) -> dict[str, Any]:
    declaration = {
        "triggers": [
            {
                "providerType": "CodeStarSourceConnection",
                "gitConfiguration": {"sourceActionName": "Source", **config},
            }
        ]
    }
    return declaration


def run(config: dict[str, Any], change: GitChange, files: Sequence[str] | None = None) -> Any:
    trigger = triggers_of(git(**config))["Source"]
    return evaluate(trigger, change, lambda: files if files is not None else change.files)


@pytest.mark.parametrize(
    ("criteria", "value", "passes"),
    [
        ({"includes": ["main"]}, "main", True),
        ({"includes": ["main"]}, "dev", False),
        ({"includes": ["release/**"], "excludes": ["release/old/**"]}, "release/v2", True),
        ({"includes": ["release/**"], "excludes": ["release/old/**"]}, "release/old/v1", False),
        ({"includes": ["main"], "excludes": ["main"]}, "main", False),  # excludes win
        ({"excludes": ["wip/*"]}, "main", True),  # only excludes: the rest passes
        ({"excludes": ["wip/*"]}, "wip/x", False),
    ],
)
def test_excludes_win_over_includes(criteria: dict[str, Any], value: str, passes: bool) -> None:
    found = Criteria.from_wire(criteria)
    assert found is not None
    assert (found.passes(value) is not None) is passes


def test_an_empty_criteria_object_is_absent() -> None:
    assert Criteria.from_wire({}) is None
    assert Criteria.from_wire(None) is None
    assert Criteria.from_wire({"includes": []}) is None


@pytest.mark.parametrize(
    ("filters", "ref", "matches"),
    [
        # branch pushes pass branch criteria, tag pushes tag criteria, never the other
        ([{"branches": {"includes": ["main"]}}], "refs/heads/main", True),
        ([{"branches": {"includes": ["main"]}}], "refs/heads/dev", False),
        ([{"branches": {"includes": ["main"]}}], "refs/tags/main", False),
        ([{"tags": {"includes": ["v*"]}}], "refs/tags/v1.0", True),
        ([{"tags": {"includes": ["v*"]}}], "refs/heads/v1.0", False),
        ([{"tags": {"includes": ["v*"], "excludes": ["v*-rc*"]}}], "refs/tags/v2-rc1", False),
        # a filter with both: each kind of push checks its own criteria
        (
            [{"tags": {"includes": ["v*"]}, "branches": {"includes": ["main"]}}],
            "refs/tags/v1",
            True,
        ),
        (
            [{"tags": {"includes": ["v*"]}, "branches": {"includes": ["main"]}}],
            "refs/heads/main",
            True,
        ),
        # any one filter of the list is enough
        (
            [{"branches": {"includes": ["main"]}}, {"tags": {"includes": ["release-*"]}}],
            "refs/tags/release-3",
            True,
        ),
        # CDK renders unset criteria as {}: ignored
        (
            [{"branches": {"includes": ["main"]}, "tags": {}, "filePaths": {}}],
            "refs/heads/main",
            True,
        ),
    ],
)
def test_push_filters(filters: list[dict[str, Any]], ref: str, matches: bool) -> None:
    assert (run({"push": filters}, push(ref)) is not None) is matches


@pytest.mark.parametrize(
    ("file_paths", "files", "matches"),
    [
        ({"includes": ["src/**"]}, ["src/app.py"], True),
        ({"includes": ["src/**"]}, ["docs/a.md"], False),
        ({"includes": ["src/**"]}, ["docs/a.md", "src/b.py"], True),  # one file is enough
        ({"excludes": ["docs/**"]}, ["docs/a.md"], False),  # all excluded
        ({"excludes": ["docs/**"]}, ["docs/a.md", "app.py"], True),
        ({"includes": ["**"], "excludes": ["**/*.md"]}, ["docs/a.md", "x/README.md"], False),
        ({"includes": ["*.py"]}, ["app.py"], True),
        ({"includes": ["*.py"]}, ["pkg/app.py"], False),  # * stays in its segment
        ({"includes": ["src/**"]}, [], False),  # nothing changed
    ],
)
def test_file_paths_need_one_included_file_not_excluded(
    file_paths: dict[str, Any], files: list[str], matches: bool
) -> None:
    config = {"push": [{"branches": {"includes": ["main"]}, "filePaths": file_paths}]}
    assert (run(config, push("refs/heads/main", files)) is not None) is matches


def test_file_paths_are_asked_for_only_when_a_filter_needs_them() -> None:
    asked: list[bool] = []

    def files() -> list[str]:
        asked.append(True)
        return ["src/a.py"]

    trigger = triggers_of(git(push=[{"branches": {"includes": ["main"]}}]))["Source"]
    assert evaluate(trigger, push("refs/heads/main", None), files) is not None
    assert asked == []


def test_unknown_changed_files_do_not_pass_a_file_path_filter() -> None:
    config = {"push": [{"branches": {"includes": ["main"]}, "filePaths": {"includes": ["**"]}}]}
    trigger = triggers_of(git(**config))["Source"]
    assert evaluate(trigger, push("refs/heads/main", None), lambda: None) is None


def test_deleted_branches_and_tags_start_nothing() -> None:
    gone = changes.push(
        provider="github", repository="o/r", ref="refs/heads/main", before="1" * 40, after=None
    )
    assert gone is not None and gone.deleted
    assert run({"push": [{"branches": {"includes": ["**"]}}]}, gone) is None


@pytest.mark.parametrize(
    ("pr_filter", "change", "matches"),
    [
        ({"events": ["OPEN"], "branches": {"includes": ["main"]}}, pull("OPEN"), True),
        ({"events": ["OPEN"], "branches": {"includes": ["main"]}}, pull("UPDATED"), False),
        (
            {"events": ["CLOSED", "UPDATED"], "branches": {"includes": ["main"]}},
            pull("CLOSED"),
            True,
        ),
        ({"branches": {"includes": ["main"]}}, pull("UPDATED"), True),  # no events: all three
        # branches are the *destination* branch
        ({"branches": {"includes": ["feature/**"]}}, pull("OPEN", destination="main"), False),
        ({"branches": {"includes": ["release/*"]}}, pull("OPEN", destination="release/2"), True),
        ({"branches": {"excludes": ["main"]}}, pull("OPEN", destination="main"), False),
    ],
)
def test_pull_request_filters(pr_filter: dict[str, Any], change: GitChange, matches: bool) -> None:
    assert (run({"pullRequest": [pr_filter]}, change) is not None) is matches


def test_pull_request_file_paths() -> None:
    config = {
        "pullRequest": [{"branches": {"includes": ["main"]}, "filePaths": {"includes": ["api/**"]}}]
    }
    assert run(config, pull(), files=["api/x.py"]) is not None
    assert run(config, pull(), files=["web/x.js"]) is None


def test_pushes_never_pass_pull_request_filters_and_the_reverse() -> None:
    only_prs = {"pullRequest": [{"branches": {"includes": ["main"]}}]}
    assert run(only_prs, push("refs/heads/main")) is None
    only_pushes = {"push": [{"branches": {"includes": ["**"]}}]}
    assert run(only_pushes, pull()) is None


def test_the_match_says_which_filter_and_why() -> None:
    config = {
        "push": [
            {"tags": {"includes": ["v*"]}},
            {"branches": {"includes": ["rel*", "main"]}, "filePaths": {"includes": ["src/**"]}},
        ]
    }
    match = run(config, push("refs/heads/main", ["README", "src/app.py"]))
    assert match.index == 2 and match.kind is ChangeKind.PUSH
    assert match.describe() == (
        "push filter 2 of Source (branch 'main' matches 'main'; file 'src/app.py' matches 'src/**')"
    )
