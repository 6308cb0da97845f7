"""Which pipelines a change starts, with fake pipelines and a fake start."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from stageline.definitions.model import ActionDecl
from stageline.errors import error
from stageline.triggers import changes
from stageline.triggers.changes import ChangeKind, GitChange, PullRequestEvent, RefKind
from stageline.triggers.router import TriggerRouter

COMMIT = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"
OLD = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
CONNECTION = "arn:aws:codestar-connections:us-east-1:123456789012:connection/abc-123"


def source(name: str = "Source", branch: str = "main", **config: str) -> dict[str, Any]:
    return {
        "name": name,
        "actionTypeId": {
            "category": "Source",
            "owner": "AWS",
            "provider": "CodeStarSourceConnection",
            "version": "1",
        },
        "configuration": {
            "ConnectionArn": CONNECTION,
            "FullRepositoryId": "o/r",
            "BranchName": branch,
            **config,
        },
        "outputArtifacts": [{"name": f"{name}Out"}],
    }


def pipeline(
    *sources: dict[str, Any], triggers: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    decl: dict[str, Any] = {
        "stages": [
            {"name": "Source", "actions": list(sources or [source()])},
            {"name": "Build", "actions": []},
        ]
    }
    if triggers is not None:
        decl["triggers"] = triggers
    return decl


def trigger(action: str = "Source", **git: Any) -> dict[str, Any]:
    return {
        "providerType": "CodeStarSourceConnection",
        "gitConfiguration": {"sourceActionName": action, **git},
    }


def push(
    ref: str = "refs/heads/main", *, files: Sequence[str] | None = None, after: str | None = COMMIT
) -> GitChange:
    change = changes.push(
        provider="github",
        repository="o/r",
        ref=ref,
        before=OLD,
        after=after,
        files=tuple(files) if files is not None else None,
    )
    assert change is not None
    return change


def pull_request(event: str = "OPEN") -> GitChange:
    return GitChange(
        provider="github",
        repository="o/r",
        kind=ChangeKind.PULL_REQUEST,
        ref="refs/heads/feature/x",
        ref_kind=RefKind.BRANCH,
        name="feature/x",
        before=OLD,
        after=COMMIT,
        event=PullRequestEvent(event),
        source_branch="feature/x",
        destination_branch="main",
        number=5,
    )


class Fake:
    """The router's collaborators: pipelines in a dict, starts and file lookups recorded."""

    def __init__(
        self, pipelines: Mapping[str, dict[str, Any]], files: list[str] | None = None
    ) -> None:
        self.pipelines = dict(pipelines)
        self.files = files
        self.starts: list[dict[str, Any]] = []
        self.file_lookups: list[tuple[str, str | None, str]] = []
        self.router = TriggerRouter(
            list_pipelines=lambda: list(self.pipelines.items()),
            start=self.start,
            changed_files=self.changed_files,
        )

    def start(self, name: str, **kwargs: Any) -> str:
        if name == "broken":
            raise error("PipelineNotFoundException", "gone")
        self.starts.append({"name": name, **kwargs})
        return f"exec-{len(self.starts)}"

    def changed_files(self, action: ActionDecl, old: str | None, new: str) -> list[str] | None:
        self.file_lookups.append((action.name, old, new))
        return self.files

    def route(self, change: GitChange, default: str | None = "Webhook") -> list[str]:
        started = self.router.route(
            change, source_matches=lambda _p, _a: True, default_trigger=default
        )
        return [s.pipeline for s in started]


def test_without_triggers_a_push_to_the_action_branch_starts_with_the_default_type() -> None:
    fake = Fake({"p": pipeline()})
    assert fake.route(push()) == ["p"]
    assert fake.starts == [
        {
            "name": "p",
            "trigger_type": "Webhook",
            "trigger_detail": CONNECTION,
            "source_revisions": [
                {"actionName": "Source", "revisionType": "COMMIT_ID", "revisionValue": COMMIT}
            ],
        }
    ]


@pytest.mark.parametrize(
    ("change", "decl"),
    [
        (push("refs/heads/dev"), pipeline()),  # another branch
        (push("refs/tags/main"), pipeline()),  # a tag, even one named like the branch
        (push(after=None), pipeline()),  # the branch was deleted
        (pull_request(), pipeline()),  # pull requests only through pullRequest triggers
        (push(), pipeline(source(DetectChanges="false"))),  # change detection off
    ],
)
def test_the_default_path_starts_nothing_for(change: GitChange, decl: dict[str, Any]) -> None:
    fake = Fake({"p": decl})
    assert fake.route(change) == []


def test_without_a_default_trigger_untriggered_actions_are_left_to_the_caller() -> None:
    fake = Fake({"p": pipeline()})
    assert fake.route(push(), default=None) == []


def test_github_version_1_branch_key_counts_as_the_branch() -> None:
    action = source()
    action["configuration"] = {"Owner": "o", "Repo": "r", "Branch": "main"}
    fake = Fake({"p": pipeline(action)})
    assert fake.route(push()) == ["p"]


def test_a_trigger_replaces_the_default_branch() -> None:
    decl = pipeline(triggers=[trigger(push=[{"branches": {"includes": ["release/*"]}}])])
    fake = Fake({"p": decl})
    assert fake.route(push("refs/heads/main")) == [], "BranchName no longer starts it"
    assert fake.route(push("refs/heads/release/2")) == ["p"]
    started = fake.starts[0]
    assert started["trigger_type"] == "WebhookV2"
    assert started["trigger_detail"] == (
        f"push to branch release/2 of o/r at {COMMIT}: matched push filter 1 of Source "
        "(branch 'release/2' matches 'release/*')"
    )
    assert started["source_revisions"][0]["revisionValue"] == COMMIT


def test_tag_triggers_pin_the_tagged_commit() -> None:
    fake = Fake({"p": pipeline(triggers=[trigger(push=[{"tags": {"includes": ["v*"]}}])])})
    assert fake.route(push("refs/tags/v1.0")) == ["p"]
    assert fake.starts[0]["source_revisions"][0]["revisionValue"] == COMMIT


def test_pull_request_triggers_run_the_head_commit() -> None:
    decl = pipeline(
        triggers=[trigger(pullRequest=[{"events": ["OPEN"], "branches": {"includes": ["main"]}}])]
    )
    fake = Fake({"p": decl})
    assert fake.route(pull_request("UPDATED")) == []
    assert fake.route(pull_request("OPEN")) == ["p"]
    started = fake.starts[0]
    assert started["trigger_type"] == "WebhookV2"
    assert "pull request #5 OPEN from feature/x into main" in started["trigger_detail"]
    assert started["source_revisions"][0]["revisionValue"] == COMMIT


def test_file_paths_come_from_the_payload_or_else_from_changed_files() -> None:
    decl = pipeline(
        triggers=[
            trigger(
                push=[{"branches": {"includes": ["main"]}, "filePaths": {"includes": ["api/**"]}}]
            )
        ]
    )
    listed = Fake({"p": decl})
    assert listed.route(push(files=["api/a.py"])) == ["p"]
    assert listed.file_lookups == [], "the payload listed the files"

    looked_up = Fake({"p": decl}, files=["web/index.js"])
    assert looked_up.route(push(files=None)) == []
    assert looked_up.file_lookups == [("Source", OLD, COMMIT)]

    unknown = Fake({"p": decl}, files=None)
    assert unknown.route(push(files=None)) == []


def test_only_actions_the_caller_matches_are_considered() -> None:
    decl = pipeline(source("A", branch="main"), source("B", branch="main"))
    fake = Fake({"p": decl})
    started = fake.router.route(
        push(), source_matches=lambda _p, a: a["name"] == "B", default_trigger="Webhook"
    )
    assert [s.actions for s in started] == [("B",)]


def test_one_change_starts_a_pipeline_once_pinning_every_matched_action() -> None:
    decl = pipeline(
        source("A"),
        source("B"),
        triggers=[trigger("B", push=[{"branches": {"includes": ["main"]}}])],
    )
    fake = Fake({"p": decl})
    assert fake.route(push()) == ["p"]
    (started,) = fake.starts
    assert started["trigger_type"] == "WebhookV2", "the filtered trigger names the execution"
    assert [r["actionName"] for r in started["source_revisions"]] == ["A", "B"]


def test_every_concerned_pipeline_starts_and_a_failing_one_does_not_stop_the_others() -> None:
    fake = Fake({"broken": pipeline(), "p1": pipeline(), "p2": pipeline(source(branch="dev"))})
    assert fake.route(push()) == ["p1"]


def test_a_stored_trigger_with_an_invalid_glob_is_skipped() -> None:
    decl = pipeline(triggers=[trigger(push=[{"branches": {"includes": ["[oops"]}}])])
    assert Fake({"p": decl}).route(push()) == []


def test_a_failing_file_lookup_or_an_unreadable_pipeline_does_not_stop_routing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    decl = pipeline(
        triggers=[
            trigger(push=[{"branches": {"includes": ["main"]}, "filePaths": {"includes": ["**"]}}])
        ]
    )
    broken_action = source()
    del broken_action["actionTypeId"]["provider"]
    fake = Fake({"a_files": decl, "b_unreadable": pipeline(broken_action), "c_fine": pipeline()})

    def explode(*_args: Any) -> list[str]:
        raise OSError("git exploded")

    fake.router.changed_files = explode
    assert fake.route(push(files=None)) == ["c_fine"]
    assert "could not list the files" in caplog.text
    assert "b_unreadable: could not read its source actions" in caplog.text
