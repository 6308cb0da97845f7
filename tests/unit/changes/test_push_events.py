"""The CodeCommit events a push emits, exactly as AWS documents them."""

from __future__ import annotations

import json

from stageline import events as event_patterns
from stageline.changes.managed_rules import rule_name
from stageline.changes.push_events import repository_event
from stageline.repos import RefUpdate, Repository

REPO = Repository(
    name="myRepo",
    repository_id="12345678-1234-5678-abcd-12345678abcd",
    arn="arn:aws:codecommit:us-east-1:123456789012:myRepo",
    account_id="123456789012",
    description=None,
    created_ms=0,
    last_modified_ms=0,
)
SEED_RULE = {
    "source": ["aws.codecommit"],
    "detail-type": ["CodeCommit Repository State Change"],
    "resources": ["arn:aws:codecommit:us-east-1:123456789012:myRepo"],
    "detail": {
        "event": ["referenceCreated", "referenceUpdated"],
        "referenceType": ["branch"],
        "referenceName": ["main"],
    },
}


def _event(ref: str, old: str | None, new: str | None) -> dict:  # type: ignore[type-arg]
    event = repository_event(
        REPO, RefUpdate(ref=ref, old=old, new=new), region="us-east-1", at_ms=1766658223000
    )
    assert event is not None
    return event


def test_a_tag_created_reads_as_the_seed_event() -> None:
    event = _event("refs/tags/myTag", None, "3e5983")
    assert {k: v for k, v in event.items() if k != "id"} == {
        "version": "0",
        "detail-type": "CodeCommit Repository State Change",
        "source": "aws.codecommit",
        "account": "123456789012",
        "time": "2025-12-25T10:23:43Z",
        "region": "us-east-1",
        "resources": ["arn:aws:codecommit:us-east-1:123456789012:myRepo"],
        "detail": {
            "event": "referenceCreated",
            "repositoryName": "myRepo",
            "repositoryId": "12345678-1234-5678-abcd-12345678abcd",
            "referenceType": "tag",
            "referenceName": "myTag",
            "referenceFullName": "refs/tags/myTag",
            "commitId": "3e5983",
        },
    }


def test_updates_and_deletes_carry_the_old_commit() -> None:
    updated = _event("refs/heads/main", "aaa", "bbb")["detail"]
    assert (updated["event"], updated["commitId"], updated["oldCommitId"]) == (
        "referenceUpdated",
        "bbb",
        "aaa",
    )
    deleted = _event("refs/heads/main", "aaa", None)["detail"]
    assert deleted["event"] == "referenceDeleted"
    assert deleted["oldCommitId"] == "aaa"
    assert "commitId" not in deleted


def test_the_seed_rule_matches_pushes_to_main_only() -> None:
    def matches(event: dict) -> bool:  # type: ignore[type-arg]
        return event_patterns.test_event_pattern(json.dumps(event), json.dumps(SEED_RULE))

    assert matches(_event("refs/heads/main", "a", "b"))
    assert matches(_event("refs/heads/main", None, "b"))
    assert not matches(_event("refs/heads/main", "a", None))
    assert not matches(_event("refs/heads/dev", "a", "b"))
    assert not matches(_event("refs/tags/main", None, "b"))


def test_other_refs_emit_nothing() -> None:
    assert (
        repository_event(
            REPO, RefUpdate(ref="refs/notes/x", old=None, new="a"), region="us-east-1", at_ms=0
        )
        is None
    )


def test_managed_rule_names_fit_eventbridge() -> None:
    assert rule_name("my-pipeline", "Source") == "stageline-my-pipeline-Source"
    long = rule_name("p" * 100, "Source action")
    assert len(long) == 64
    assert long != rule_name("p" * 100, "Other action")
    assert set(rule_name("a b/c", "x")) <= set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_"
    )
