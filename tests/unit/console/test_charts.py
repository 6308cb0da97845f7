"""The geometry of the console's charts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from stageline.console.charts import execution_span, sparkline, timeline, trend


def at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def summary(status: str, start: int, end: int) -> dict[str, Any]:
    return {"status": status, "startTime": at(start), "lastUpdateTime": at(end)}


def test_a_running_execution_lasts_until_now() -> None:
    assert execution_span(summary("InProgress", 1_000, 1_500), now_ms=9_000) == (1_000, 9_000)
    assert execution_span(summary("Failed", 1_000, 1_500), now_ms=9_000) == (1_000, 1_500)


def test_the_sparkline_draws_oldest_first_with_height_by_duration() -> None:
    newest_first = [
        summary("Failed", 10_000, 11_000),
        summary("Succeeded", 5_000, 9_000),
        summary("InProgress", 1_000, 1_000),
    ]
    s = sparkline(newest_first, now_ms=3_000)
    assert [b.css for b in s.bars] == ["running", "ok", "failed"]
    assert s.bars[1].height == 22.0  # the longest fills the height (less the margin)
    assert s.bars[2].height == 5.5
    assert [b.x for b in s.bars] == [0, 8, 16]
    assert s.description == "last 3 executions: 1 of 2 finished ones succeeded"
    assert sparkline([], 0).description == "no executions yet"


def detail(stage: str, action: str, status: str, start: int, end: int) -> dict[str, Any]:
    return {
        "stageName": stage,
        "actionName": action,
        "status": status,
        "startTime": at(start),
        "lastUpdateTime": at(end),
    }


def test_the_timeline_shows_parallel_actions_overlapping_and_waiting_as_gaps() -> None:
    details = [
        detail("Deploy", "Ship", "Succeeded", 6_000, 8_000),
        detail("Build", "Unit", "Succeeded", 1_000, 3_000),
        detail("Build", "Lint", "Succeeded", 1_000, 2_000),
        detail("Source", "Source", "Succeeded", 0, 1_000),
    ]
    t = timeline(["Source", "Build", "Deploy"], details, start_ms=0, now_ms=99_000)
    assert [r.key for r in t.rows] == [
        "Source",
        "Source/Source",
        "Build",
        "Build/Lint",
        "Build/Unit",
        "Deploy",
        "Deploy/Ship",
    ]
    rows = {r.key: r for r in t.rows}
    assert t.total_ms == 8_000
    assert rows["Build/Lint"].x == rows["Build/Unit"].x == 125.0
    assert rows["Build"].width == 250.0
    # Build ended at 3 s, Deploy started at 6 s: the wait shows as a gap.
    assert rows["Deploy"].x - (rows["Build"].x + rows["Build"].width) == 375.0
    assert t.ticks[-1] == (1000.0, 8_000)


def test_a_running_action_reaches_now_and_marks_its_stage_running() -> None:
    details = [detail("Build", "Unit", "InProgress", 1_000, 1_000)]
    t = timeline(["Build"], details, start_ms=0, now_ms=4_000)
    assert t.rows[0].status == "InProgress" and t.rows[0].running
    assert t.rows[1].x + t.rows[1].width == 1000.0


def test_the_trend_rates_finished_executions_over_a_window() -> None:
    newest_first = [
        summary("Succeeded", 40_000, 41_000),
        summary("Failed", 30_000, 34_000),
        summary("Succeeded", 20_000, 22_000),
        summary("Stopped", 10_000, 11_000),
    ]
    t = trend(newest_first, now_ms=50_000, window=2)
    assert t.count == 4
    assert t.success_rate == 0.5
    assert t.median_ms == 2_000
    ys = [float(p.split(",")[1]) for p in t.rate_points.split()]
    top, bottom = 8.0, 152.0
    assert ys == [bottom, (top + bottom) / 2, (top + bottom) / 2, (top + bottom) / 2]
    assert trend([], 0).success_rate is None
