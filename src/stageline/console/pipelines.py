"""The pipelines list and the pipeline view, each with its live stream of fresh renders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from stageline.console.charts import Sparkline, sparkline
from stageline.console.context import PREFIX, ConsoleContext, is_fragment, ms
from stageline.console.live import ALL, Gone
from stageline.console.overview import build_overview
from stageline.console.render import page, render, segment
from stageline.errors import ApiError

SORTS = {
    "name": "Name (A to Z)",
    "-name": "Name (Z to A)",
    "latest": "Latest execution (newest first)",
    "status": "Latest status",
    "type": "Type",
    "mode": "Execution mode",
}
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_STATUS_ORDER = ["Failed", "InProgress", "Stopping", "Stopped", "Superseded", "Succeeded"]


@dataclass(frozen=True, kw_only=True)
class PipelineRow:
    name: str
    pipeline_type: str
    execution_mode: str
    version: int
    latest: dict[str, Any] | None
    latest_start_ms: int | None
    spark: Sparkline

    @property
    def url(self) -> str:
        return f"{PREFIX}/pipelines/{segment(self.name)}"


def pipeline_rows(ctx: ConsoleContext, query: str = "", sort: str = "name") -> list[PipelineRow]:
    """Every pipeline whose name contains ``query`` (any case), sorted by ``sort``."""
    services = ctx.services
    found = []
    token: str | None = None
    while True:
        page_rows, token = services.pipelines.list(next_token=token, max_results=100)
        found.extend(page_rows)
        if not token:
            break
    needle = query.strip().lower()
    now = ctx.now_ms()
    rows = []
    for p in found:
        if needle and needle not in p.name.lower():
            continue
        try:
            recent, _ = services.runtime.queries.list_executions(
                p.name, max_results=12, next_token=None, succeeded_in_stage=None
            )
        except ApiError:  # deleted since it was listed
            continue
        latest = recent[0] if recent else None
        rows.append(
            PipelineRow(
                name=p.name,
                pipeline_type=p.pipeline_type,
                execution_mode=p.execution_mode,
                version=p.version,
                latest=latest,
                latest_start_ms=ms(latest["startTime"]) if latest else None,
                spark=sparkline(recent, now),
            )
        )
    rows.sort(key=lambda r: r.name)
    if sort == "-name":
        rows.reverse()
    elif sort == "latest":
        rows.sort(key=lambda r: -(r.latest_start_ms or 0))
    elif sort == "status":
        rows.sort(key=lambda r: _status_rank(r.latest["status"] if r.latest else None))
    elif sort == "type":
        rows.sort(key=lambda r: r.pipeline_type)
    elif sort == "mode":
        rows.sort(key=lambda r: r.execution_mode)
    return rows


def _status_rank(status: str | None) -> int:
    return _STATUS_ORDER.index(status) if status in _STATUS_ORDER else len(_STATUS_ORDER)


def _list_params(request: Request) -> tuple[str, str]:
    query = request.query_params.get("q", "")[:100]
    sort = request.query_params.get("sort", "name")
    return query, sort if sort in SORTS else "name"


def render_rows(ctx: ConsoleContext, query: str, sort: str) -> str:
    return render(
        "_rows.html", rows=pipeline_rows(ctx, query, sort), now_ms=ctx.now_ms(), query=query
    )


def render_stages(ctx: ConsoleContext, name: str) -> str:
    return render("_stages.html", ov=build_overview(ctx, name))


def routes(ctx: ConsoleContext) -> list[BaseRoute]:
    async def index(request: Request) -> Response:
        query, sort = _list_params(request)
        rows = await run_in_threadpool(pipeline_rows, ctx, query, sort)
        if is_fragment(request):
            return page("_rows.html", rows=rows, now_ms=ctx.now_ms(), query=query)
        return page(
            "list.html",
            title="Pipelines",
            rows=rows,
            query=query,
            sort=sort,
            sorts=SORTS,
            now_ms=ctx.now_ms(),
            since=ctx.hub.mark(ALL),
        )

    async def index_events(request: Request) -> Response:
        query, sort = _list_params(request)
        body = ctx.hub.stream(
            ALL,
            f"{ALL}\0{sort}\0{query}",
            lambda: render_rows(ctx, query, sort),
            since=request.query_params.get("since"),
        )
        return StreamingResponse(body, media_type="text/event-stream", headers=SSE_HEADERS)

    async def pipeline(request: Request) -> Response:
        name = request.path_params["name"]
        since = ctx.hub.mark(name)
        try:
            ov = await run_in_threadpool(build_overview, ctx, name)
        except Gone as exc:
            return page("error.html", status_code=404, title="Not found", message=str(exc))
        return page("pipeline.html", title=name, ov=ov, since=since)

    async def pipeline_events(request: Request) -> Response:
        name = request.path_params["name"]
        body = ctx.hub.stream(
            name,
            f"{name}\0stages",
            lambda: render_stages(ctx, name),
            since=request.query_params.get("since"),
        )
        return StreamingResponse(body, media_type="text/event-stream", headers=SSE_HEADERS)

    return [
        Route("/", index, methods=["GET"]),
        Route("/events", index_events, methods=["GET"]),
        Route("/pipelines/{name}", pipeline, methods=["GET"]),
        Route("/pipelines/{name}/events", pipeline_events, methods=["GET"]),
    ]
