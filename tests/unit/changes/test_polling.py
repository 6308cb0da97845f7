"""Polling, in process with a fake probe: one execution per new revision, never two."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stageline.changes.polling import Poller
from stageline.changes.starts import start_recorded
from stageline.definitions.model import ActionDecl
from tests.support.declarations import action, pipeline
from tests.support.harness import Harness, fake_build


class FakeProbe:
    """The revision each (action) would take now; raise with ``broken``."""

    def __init__(self) -> None:
        self.revision: str | None = None
        self.broken = False
        self.asked: list[str] = []

    def __call__(self, action_decl: ActionDecl) -> str | None:
        self.asked.append(action_decl.name)
        if self.broken:
            raise OSError("repository unreachable")
        return self.revision


@pytest.fixture
def h(tmp_path: Path, database_url: str) -> Iterator[Harness]:
    harness = Harness(tmp_path, database_url)
    yield harness
    harness.close()


def _codecommit(
    name: str = "Source", output: str = "SourceOut", **config: str
) -> dict[str, object]:
    return action(
        name,
        "Source",
        "CodeCommit",
        config={"RepositoryName": "app", "BranchName": "main", **config},
        outputs=(output,),
    )


def _triggers(h: Harness, name: str) -> list[tuple[str, list[dict[str, str]]]]:
    items, _ = h.rt.queries.list_executions(
        name, max_results=100, next_token=None, succeeded_in_stage=None
    )
    out = []
    for item in reversed(items):
        with h.services.ctx.db.read() as conn:
            from stageline.store import executions as store

            row = store.get_execution(conn, item["pipelineExecutionId"])
        assert row is not None
        out.append((item["trigger"]["triggerType"], row.source_overrides))
    return out


def test_a_new_revision_starts_one_execution_with_it_pinned(h: Harness) -> None:
    h.create(pipeline("p", ("Source", [_codecommit()]), ("Build", [fake_build("B")])))
    probe = FakeProbe()
    poller = Poller(h.rt.operations, probe, interval_s=60)

    probe.revision = "a" * 40
    assert poller.tick() == 0, "the first sighting is the baseline: CreatePipeline took it"
    assert poller.tick() == 0
    probe.revision = "b" * 40
    assert poller.tick() == 1
    assert poller.tick() == 0
    # A second replica polling the same revision starts nothing more.
    assert Poller(h.rt.operations, probe, interval_s=60).tick() == 0
    assert _triggers(h, "p") == [
        ("CreatePipeline", []),
        (
            "PollForSourceChanges",
            [{"actionName": "Source", "revisionType": "COMMIT_ID", "revisionValue": "b" * 40}],
        ),
    ]


def test_the_first_commit_of_an_empty_repository_starts_the_pipeline(h: Harness) -> None:
    h.create(pipeline("p", ("Source", [_codecommit()]), ("Build", [fake_build("B")])))
    probe = FakeProbe()
    poller = Poller(h.rt.operations, probe, interval_s=60)
    assert poller.tick() == 0  # nothing there yet
    probe.revision = "c" * 40
    assert poller.tick() == 1


def test_unreachable_sources_and_unpolled_actions_start_nothing(h: Harness) -> None:
    h.create(
        pipeline(
            "p",
            (
                "Source",
                [_codecommit(), _codecommit("Quiet", "QuietOut", PollForSourceChanges="false")],
            ),
            ("Build", [fake_build("B", inputs=("SourceOut",))]),
        )
    )
    probe = FakeProbe()
    poller = Poller(h.rt.operations, probe, interval_s=60)
    probe.revision = "a" * 40
    poller.tick()
    assert set(probe.asked) == {"Source"}, "PollForSourceChanges false is not polled"
    probe.broken = True
    probe.revision = "d" * 40
    assert poller.tick() == 0
    probe.broken = False
    assert poller.tick() == 1


def test_a_commit_a_webhook_started_is_not_started_again_by_polling(h: Harness) -> None:
    h.create(pipeline("p", ("Source", [_codecommit()]), ("Build", [fake_build("B")])))
    probe = FakeProbe()
    poller = Poller(h.rt.operations, probe, interval_s=60)
    probe.revision = "a" * 40
    assert poller.tick() == 0

    pinned = [{"actionName": "Source", "revisionType": "COMMIT_ID", "revisionValue": "d" * 40}]
    start_recorded(h.rt.operations, "p", trigger_type="WebhookV2", source_revisions=pinned)
    probe.revision = "d" * 40
    assert poller.tick() == 0, "the webhook's start already took this commit"
    assert [t for t, _ in _triggers(h, "p")] == ["CreatePipeline", "WebhookV2"]
