"""Rendering the console's pages: every user-provided string is escaped, unsafe links are text."""

from __future__ import annotations

import re

import pytest

from stageline.console.overview import ActionCard, Overview, Revision, StageBox, Transition
from stageline.console.render import age, duration, render, safe_url

HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def card(**changes: object) -> ActionCard:
    values: dict[str, object] = {
        "name": "Build",
        "stage": "Build",
        "run_order": 1,
        "category": "Build",
        "provider": "AWS CodeBuild v1",
        "status": "Failed",
        "summary": HOSTILE,
        "error": HOSTILE + " (error)",
        "revision": None,
        "started_ms": 1_000,
        "ended_ms": 3_500,
        "execution_id": "e-1",
        "action_execution_id": "a-1",
        "log_url": "/console/logs/a-1?pipeline=p",
        "external_url": None,
        "pending_approval": False,
    }
    values.update(changes)
    return ActionCard(**values)  # type: ignore[arg-type]


def overview(*cards: ActionCard, reason: str | None = None) -> Overview:
    source = card(
        name="Source",
        stage="Source",
        category="Source",
        status="Succeeded",
        summary=HOSTILE,
        error=None,
        revision=Revision(
            action="Source",
            revision_id="0123456789abcdef",
            summary=HOSTILE,
            url="javascript:alert(3)",
        ),
    )
    return Overview(
        name="p",
        version=3,
        pipeline_type="V2",
        execution_mode="QUEUED",
        stages=[
            StageBox(
                name="Source",
                index=0,
                status="Succeeded",
                execution_id="e-1",
                execution_status="Failed",
                groups=[[source]],
                inbound=None,
                waiting=[],
                retry_refusal="only a failed or stopped stage can be retried; this one is Succeeded",
            ),
            StageBox(
                name="Build",
                index=1,
                status="Failed",
                execution_id="e-1",
                execution_status="Failed",
                groups=[list(cards) or [card()]],
                inbound=Transition(enabled=False, reason=reason, changed_by=HOSTILE, changed_ms=1),
                waiting=["e-2"],
                retry_refusal=None,
            ),
        ],
        recent=[],
        variables=[],
        now_ms=10_000,
    )


def test_the_pipeline_view_escapes_everything_users_wrote() -> None:
    html = render("_stages.html", ov=overview(reason=HOSTILE))
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'onerror="alert' not in html  # the quote is escaped too
    assert "javascript:" not in html  # a revision URL that is not http(s) is not linked
    assert '<code class="commit">0123456789</code>' in html


def test_the_view_offers_retry_for_a_failed_stage_and_explains_stop() -> None:
    html = render("_stages.html", ov=overview())
    assert 'value="FAILED_ACTIONS"' in html and 'value="ALL_ACTIONS"' in html
    assert "no execution is in progress" in html
    assert "1 waiting to enter" in html
    assert "Enable transition" in html


def test_an_approval_waiting_for_an_answer_has_a_review_link() -> None:
    approval = card(
        name="Gate", category="Approval", status="InProgress", pending_approval=True, error=None
    )
    html = render("_stages.html", ov=overview(approval))
    assert re.search(r'href="/console/pipelines/p/review\?stage=Build&amp;action=Gate"', html)


def test_links_to_running_actions_tick_from_their_start() -> None:
    running = card(status="InProgress", ended_ms=None, error=None)
    html = render("_stages.html", ov=overview(running))
    assert 'data-since="1000"' in html
    assert "9.0 s" in html  # now_ms - started_ms


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/x", "https://example.com/x"),
        ("http://127.0.0.1:8787/logs/a/text", "http://127.0.0.1:8787/logs/a/text"),
        ("/console/pipelines/p", "/console/pipelines/p"),
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        ("data:text/html,<b>", None),
        ("//evil.example/x", None),
        ("https://ok.example/\nx", None),
        (None, None),
    ],
)
def test_safe_url(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected


def test_durations_and_ages_read_like_a_person_wrote_them() -> None:
    assert duration(None) == "—"
    assert duration(850) == "850 ms"
    assert duration(2_500) == "2.5 s"
    assert duration(42_000) == "42 s"
    assert duration(184_000) == "3 min 4 s"
    assert duration(2 * 3600_000 + 5 * 60_000) == "2 h 5 min"
    assert age(None) == "never"
    assert age(1_000, now_ms=3_000) == "just now"
    assert age(0, now_ms=5 * 60_000) == "5 min ago"
    assert age(0, now_ms=3 * 86400_000) == "3 d ago"


def test_the_list_escapes_names_and_links_each_pipeline() -> None:
    from stageline.console.charts import sparkline
    from stageline.console.pipelines import PipelineRow

    row = PipelineRow(
        name="a.b@c-d_e",
        pipeline_type="V1",
        execution_mode="SUPERSEDED",
        version=1,
        latest=None,
        latest_start_ms=None,
        spark=sparkline([], 0),
    )
    html = render("_rows.html", rows=[row], now_ms=0, query=HOSTILE)
    assert 'href="/console/pipelines/a.b@c-d_e"' in html
    assert "No executions" in html
    empty = render("_rows.html", rows=[], now_ms=0, query=HOSTILE)
    assert "<script>" not in empty and "&lt;script&gt;" in empty
