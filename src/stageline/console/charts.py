"""The geometry of the console's charts, drawn as inline SVG by the templates.

Three charts, all computed here as plain numbers so they can be tested without
a browser: the list page's sparkline (recent executions' durations, coloured by
outcome), an execution's timeline (a Gantt chart of its stages and actions:
parallel work overlaps, waiting shows as gaps), and the trend of durations
and success rate over the last executions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stageline.console.context import ms
from stageline.console.render import duration, status_class

FINISHED_OK = ("Succeeded",)
FINISHED_BAD = ("Failed", "Stopped", "Cancelled")


def execution_span(summary: dict[str, Any], now_ms: int) -> tuple[int, int]:
    """An execution's start and end (now, while it runs) in epoch milliseconds."""
    start = ms(summary["startTime"]) or now_ms
    if summary["status"] in ("InProgress", "Stopping"):
        return start, max(start, now_ms)
    return start, max(start, ms(summary.get("lastUpdateTime")) or start)


# --- sparkline --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    label: str


@dataclass(frozen=True, kw_only=True)
class Sparkline:
    width: int
    height: int
    bars: list[Bar]
    description: str


def sparkline(
    summaries: list[dict[str, Any]], now_ms: int, *, count: int = 12, height: int = 24
) -> Sparkline:
    """Bars for the last ``count`` executions, oldest first; height is duration."""
    recent = list(reversed(summaries[:count]))
    spans = [execution_span(s, now_ms) for s in recent]
    durations = [end - start for start, end in spans]
    longest = max(durations, default=0) or 1
    bar_w, gap = 6, 2
    bars = []
    for i, (s, d) in enumerate(zip(recent, durations, strict=True)):
        h = max(2.0, (height - 2) * d / longest)
        bars.append(
            Bar(
                x=i * (bar_w + gap),
                y=height - h,
                width=bar_w,
                height=round(h, 1),
                css=status_class(s["status"]),
                label=f"{s['status']}, {duration(d)}",
            )
        )
    ok = sum(1 for s in recent if s["status"] in FINISHED_OK)
    finished = sum(1 for s in recent if s["status"] in FINISHED_OK + FINISHED_BAD)
    description = (
        f"last {len(recent)} executions: {ok} of {finished} finished ones succeeded"
        if recent
        else "no executions yet"
    )
    return Sparkline(
        width=max(1, len(recent) * (bar_w + gap) - gap),
        height=height,
        bars=bars,
        description=description,
    )


# --- timeline ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TimelineRow:
    key: str  # "Stage" for a stage's row, "Stage/Action" for an action's
    label: str
    stage: bool
    status: str
    css: str
    x: float  # 0..1000
    width: float
    started_ms: int
    ended_ms: int
    running: bool


@dataclass(frozen=True, kw_only=True)
class Timeline:
    rows: list[TimelineRow]
    start_ms: int
    total_ms: int
    ticks: list[tuple[float, int]]  # (x in 0..1000, offset in ms)


SCALE = 1000.0


def timeline(
    stage_order: list[str], details: list[dict[str, Any]], start_ms: int, now_ms: int
) -> Timeline:
    """Rows for each stage that ran (its span) followed by its action executions (retries
    included), positioned on one time axis from the execution's start."""
    spans: list[tuple[dict[str, Any], int, int, bool]] = []
    for d in details:
        begin = ms(d["startTime"]) or start_ms
        running = d["status"] == "InProgress"
        end = now_ms if running else (ms(d["lastUpdateTime"]) or begin)
        spans.append((d, begin, max(begin, end), running))
    end_ms = max([start_ms + 1, *(e for _, _, e, _ in spans)])
    total = end_ms - start_ms

    def x(t: int) -> float:
        return round((t - start_ms) / total * SCALE, 2)

    rows: list[TimelineRow] = []
    order = {name: i for i, name in enumerate(stage_order)}
    by_stage: dict[str, list[tuple[dict[str, Any], int, int, bool]]] = {}
    for span in spans:
        by_stage.setdefault(span[0]["stageName"], []).append(span)
    for stage in sorted(by_stage, key=lambda s: order.get(s, len(order))):
        items = sorted(by_stage[stage], key=lambda s: (s[1], s[0]["actionName"]))
        begin = min(s[1] for s in items)
        end = max(s[2] for s in items)
        statuses = [s[0]["status"] for s in items]
        stage_status = (
            "InProgress"
            if "InProgress" in statuses
            else next((st for st in ("Failed", "Abandoned") if st in statuses), "Succeeded")
        )
        rows.append(
            TimelineRow(
                key=stage,
                label=stage,
                stage=True,
                status=stage_status,
                css=status_class(stage_status),
                x=x(begin),
                width=max(2.0, x(end) - x(begin)),
                started_ms=begin,
                ended_ms=end,
                running=stage_status == "InProgress",
            )
        )
        for d, b, e, running in items:
            rows.append(
                TimelineRow(
                    key=f"{stage}/{d['actionName']}",
                    label=d["actionName"],
                    stage=False,
                    status=d["status"],
                    css=status_class(d["status"]),
                    x=x(b),
                    width=max(2.0, x(e) - x(b)),
                    started_ms=b,
                    ended_ms=e,
                    running=running,
                )
            )
    ticks = [(round(SCALE * i / 4, 2), total * i // 4) for i in range(5)]
    return Timeline(rows=rows, start_ms=start_ms, total_ms=total, ticks=ticks)


# --- trend -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Trend:
    width: int
    height: int
    bars: list[Bar]
    rate_points: str  # an SVG polyline's points: the success rate of the last `window`
    success_rate: float | None
    median_ms: int | None
    count: int


def trend(
    summaries: list[dict[str, Any]], now_ms: int, *, count: int = 30, window: int = 5
) -> Trend:
    """Duration bars for the last ``count`` executions (oldest first) and the success rate of
    finished executions over a sliding ``window``, drawn as a line from 0 % to 100 %."""
    recent = list(reversed(summaries[:count]))
    width, height, pad = 600, 160, 8
    durations = [end - start for start, end in (execution_span(s, now_ms) for s in recent)]
    longest = max(durations, default=0) or 1
    slot = (width - 2 * pad) / max(1, len(recent))
    bars = []
    points = []
    outcomes: list[bool] = []
    for i, (s, d) in enumerate(zip(recent, durations, strict=True)):
        h = max(2.0, (height - 2 * pad) * d / longest)
        bars.append(
            Bar(
                x=round(pad + i * slot + slot * 0.15, 2),
                y=round(height - pad - h, 2),
                width=round(slot * 0.7, 2),
                height=round(h, 2),
                css=status_class(s["status"]),
                label=f"{s['status']}, {duration(d)}",
            )
        )
        if s["status"] in FINISHED_OK + FINISHED_BAD:
            outcomes.append(s["status"] in FINISHED_OK)
        last = outcomes[-window:]
        if last:
            rate = sum(last) / len(last)
            cx = pad + i * slot + slot / 2
            cy = height - pad - rate * (height - 2 * pad)
            points.append(f"{cx:.1f},{cy:.1f}")
    finished = len(outcomes)
    ordered = sorted(durations)
    return Trend(
        width=width,
        height=height,
        bars=bars,
        rate_points=" ".join(points),
        success_rate=(sum(outcomes) / finished) if finished else None,
        median_ms=ordered[len(ordered) // 2] if ordered else None,
        count=len(recent),
    )
