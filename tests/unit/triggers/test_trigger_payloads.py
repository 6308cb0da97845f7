"""GitHub, GitLab and Bitbucket Cloud deliveries read into one GitChange each, and broken ones
refused with a reason instead of a traceback."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest

from stageline.triggers.changes import (
    ChangeKind,
    GitChange,
    PayloadError,
    PullRequestEvent,
    RefKind,
)
from stageline.triggers.payloads import load_document, parse
from tests.unit.triggers import samples
from tests.unit.triggers.samples import AFTER, BASE, BEFORE, TAG_OBJECT, ZERO


def one(headers: dict[str, str], doc: Any) -> GitChange:
    found = parse(headers, doc)
    assert len(found) == 1, found
    return found[0]


GITHUB_PUSH = {"X-GitHub-Event": "push"}
GITHUB_PR = {"X-GitHub-Event": "pull_request"}
GITLAB_PUSH = {"X-Gitlab-Event": "Push Hook"}
BITBUCKET_PUSH = {"X-Event-Key": "repo:push"}


def test_a_github_branch_push() -> None:
    files = {"added": ["docs/new.md"], "modified": ["src/app.py"], "removed": ["old.txt"]}
    change = one(GITHUB_PUSH, samples.github_push(files=files))
    assert change.provider == "github"
    assert change.repository == "octo-org/hello-world"
    assert change.kind is ChangeKind.PUSH
    assert (change.ref, change.ref_kind, change.name) == ("refs/heads/main", RefKind.BRANCH, "main")
    assert (change.before, change.after, change.deleted) == (BEFORE, AFTER, False)
    assert change.files == ("docs/new.md", "old.txt", "src/app.py")
    assert change.describe() == "push to branch main of octo-org/hello-world"


def test_a_github_tag_push_runs_the_tagged_commit() -> None:
    doc = samples.github_push("refs/tags/v1.2.0", after=TAG_OBJECT)
    doc["head_commit"]["id"] = AFTER
    change = one(GITHUB_PUSH, doc)
    assert (change.ref_kind, change.name, change.after) == (RefKind.TAG, "v1.2.0", AFTER)


def test_a_new_branch_and_a_deleted_branch() -> None:
    created = one(GITHUB_PUSH, samples.github_push("refs/heads/feature/x", before=ZERO, commits=0))
    assert created.before is None and created.after == AFTER
    assert created.files is None, "no commits listed: the files are not known"
    deleted = one(GITHUB_PUSH, samples.github_push("refs/heads/old", after=ZERO))
    assert deleted.deleted and deleted.after is None


def test_github_form_encoded_delivery() -> None:
    raw = json.dumps(samples.github_push()).encode()
    body = urlencode({"payload": raw.decode()}).encode()
    doc = load_document(body, "application/x-www-form-urlencoded")
    assert one(GITHUB_PUSH, doc).after == AFTER


@pytest.mark.parametrize(
    ("action", "merged", "event"),
    [
        ("opened", False, PullRequestEvent.OPEN),
        ("reopened", False, PullRequestEvent.OPEN),
        ("synchronize", False, PullRequestEvent.UPDATED),
        ("closed", True, PullRequestEvent.CLOSED),
        ("closed", False, PullRequestEvent.CLOSED),
    ],
)
def test_github_pull_request_events(action: str, merged: bool, event: PullRequestEvent) -> None:
    change = one(GITHUB_PR, samples.github_pull_request(action, merged=merged))
    assert change.kind is ChangeKind.PULL_REQUEST and change.event is event
    assert (change.source_branch, change.destination_branch) == ("feature/login", "main")
    assert (change.head_commit, change.before, change.number) == (AFTER, BASE, 42)
    assert change.merged is merged
    assert change.files is None


def test_github_events_that_change_no_code_are_no_change() -> None:
    assert parse(GITHUB_PR, samples.github_pull_request("labeled")) == []
    assert parse({"X-GitHub-Event": "ping"}, {"zen": "Keep it logically awesome."}) == []
    assert parse({"X-GitHub-Event": "issues"}, {"action": "opened"}) == []


def test_a_gitlab_push_and_tag_push() -> None:
    change = one(GITLAB_PUSH, samples.gitlab_push(files={"added": ["a.txt"], "modified": ["b"]}))
    assert (change.provider, change.repository) == ("gitlab", "group/sub/project")
    assert change.files == ("a.txt", "b") and change.after == AFTER
    tag = one({"X-Gitlab-Event": "Tag Push Hook"}, samples.gitlab_push("refs/tags/v2"))
    assert (tag.ref_kind, tag.name, tag.after) == (RefKind.TAG, "v2", AFTER)
    removed = one(GITLAB_PUSH, samples.gitlab_push(after=ZERO))
    assert removed.deleted


def test_a_gitlab_push_with_more_commits_than_listed_has_unknown_files() -> None:
    assert one(GITLAB_PUSH, samples.gitlab_push(total=40)).files is None


@pytest.mark.parametrize(
    ("action", "oldrev", "event"),
    [
        ("open", None, PullRequestEvent.OPEN),
        ("reopen", None, PullRequestEvent.OPEN),
        ("update", BEFORE, PullRequestEvent.UPDATED),
        ("merge", None, PullRequestEvent.CLOSED),
        ("close", None, PullRequestEvent.CLOSED),
    ],
)
def test_gitlab_merge_request_events(
    action: str, oldrev: str | None, event: PullRequestEvent
) -> None:
    change = one(
        {"X-Gitlab-Event": "Merge Request Hook"},
        samples.gitlab_merge_request(action, oldrev=oldrev),
    )
    assert change.event is event and change.destination_branch == "main"
    assert change.head_commit == AFTER and change.number == 7
    assert change.merged is (action == "merge")


def test_a_gitlab_update_without_new_commits_is_no_change() -> None:
    headers = {"X-Gitlab-Event": "Merge Request Hook"}
    assert parse(headers, samples.gitlab_merge_request("update")) == []
    assert parse(headers, samples.gitlab_merge_request("approved")) == []


def test_a_bitbucket_push_can_carry_several_refs() -> None:
    doc = samples.bitbucket_push(
        samples.bitbucket_change(
            samples.bitbucket_ref("branch", "main", AFTER),
            samples.bitbucket_ref("branch", "main", BEFORE),
        ),
        samples.bitbucket_change(samples.bitbucket_ref("tag", "v3", AFTER)),
        samples.bitbucket_change(None, samples.bitbucket_ref("branch", "gone", BEFORE)),
    )
    main, tag, gone = parse(BITBUCKET_PUSH, doc)
    assert (main.repository, main.name, main.before, main.after) == (
        "team/widget",
        "main",
        BEFORE,
        AFTER,
    )
    assert main.files is None, "Bitbucket lists no files"
    assert (tag.ref, tag.before) == ("refs/tags/v3", None)
    assert gone.deleted and gone.name == "gone"


@pytest.mark.parametrize(
    ("key", "event", "merged"),
    [
        ("pullrequest:created", PullRequestEvent.OPEN, False),
        ("pullrequest:updated", PullRequestEvent.UPDATED, False),
        ("pullrequest:fulfilled", PullRequestEvent.CLOSED, True),
        ("pullrequest:rejected", PullRequestEvent.CLOSED, False),
    ],
)
def test_bitbucket_pull_request_events(key: str, event: PullRequestEvent, merged: bool) -> None:
    change = one({"X-Event-Key": key}, samples.bitbucket_pull_request())
    assert change.event is event and change.merged is merged
    assert (change.source_branch, change.destination_branch) == ("feature/login", "main")
    assert change.head_commit == AFTER[:12], "Bitbucket sends short commit ids"


def _broken(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, last = path.split(".")
    target = doc
    for part in parents:
        target = target[part]
    target[last] = value
    return doc


@pytest.mark.parametrize(
    ("headers", "doc", "message"),
    [
        ({}, {}, "unknown sender"),
        (GITHUB_PUSH, [1, 2], "must be a JSON object"),
        (GITHUB_PUSH, _broken(samples.github_push(), "ref", 7), "'ref' must be a non-empty string"),
        (GITHUB_PUSH, _broken(samples.github_push(), "ref", "refs/notes/x"), "neither a branch"),
        (GITHUB_PUSH, _broken(samples.github_push(), "after", "zzz"), "'after' must be a commit"),
        (
            GITHUB_PUSH,
            _broken(samples.github_push(), "repository", "octo"),
            "'repository.full_name' is missing",
        ),
        (
            GITHUB_PUSH,
            _broken(samples.github_push(), "commits", [{"added": "a.txt"}]),
            "'commits[0].added' must be a list of paths",
        ),
        (
            GITHUB_PUSH,
            _broken(samples.github_push(), "ref", "refs/heads/a\nb"),
            "not a plausible git name",
        ),
        (
            GITHUB_PR,
            _broken(samples.github_pull_request(), "pull_request.head", None),
            "'pull_request.head.ref' is missing",
        ),
        (BITBUCKET_PUSH, {"repository": {"full_name": "t/w"}}, "'push.changes' is missing"),
        (
            {"X-Gitlab-Event": "Merge Request Hook"},
            {"object_attributes": "x"},
            "'object_attributes' is missing",
        ),
    ],
)
def test_malformed_payloads_are_refused_with_the_reason(
    headers: dict[str, str], doc: Any, message: str
) -> None:
    with pytest.raises(PayloadError, match=re.escape(message)):
        parse(headers, doc)


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"{not json", None, "not valid JSON"),
        (b"\xff\xfe", None, "not UTF-8"),
        (b"[" * 100_000, None, "not valid JSON"),
        (b"other=1", "application/x-www-form-urlencoded", "'payload' field"),
    ],
)
def test_bodies_that_are_not_json_are_refused(
    body: bytes, content_type: str | None, message: str
) -> None:
    with pytest.raises(PayloadError, match=message):
        load_document(body, content_type)
