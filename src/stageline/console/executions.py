"""Execution history (paged), an execution's detail — timeline, variables, artifacts — and the
trend of durations and success rate over the last executions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from stageline.console.charts import Timeline, Trend, execution_span, timeline, trend
from stageline.console.context import PREFIX, ConsoleContext, ms
from stageline.console.live import Gone
from stageline.console.overview import action_details, log_link
from stageline.console.pipelines import SSE_HEADERS
from stageline.console.render import page, render, segment
from stageline.errors import ApiError

PAGE_SIZES = (10, 20, 50, 100)
DEFAULT_PAGE = 20
CHUNK = 256 * 1024


@dataclass(frozen=True, kw_only=True)
class ArtifactLink:
    stage: str
    action: str
    name: str
    url: str
    size: int | None


@dataclass(frozen=True, kw_only=True)
class ActionRun:
    stage: str
    action: str
    status: str
    started_ms: int | None
    duration_ms: int | None
    summary: str | None
    error: str | None
    log_url: str | None
    output_variables: dict[str, str]
    namespace: str | None


@dataclass(frozen=True, kw_only=True)
class ExecutionDetail:
    name: str
    execution: dict[str, Any]
    summary: dict[str, Any] | None
    started_ms: int
    duration_ms: int
    timeline: Timeline
    runs: list[ActionRun]
    artifacts: list[ArtifactLink]
    trend: Trend
    now_ms: int


def _gone(exc: ApiError) -> Exception:
    if exc.code in ("PipelineNotFoundException", "PipelineExecutionNotFoundException"):
        return Gone(exc.message)
    return exc


def recent_summaries(ctx: ConsoleContext, name: str, count: int = 30) -> list[dict[str, Any]]:
    items, _ = ctx.services.runtime.queries.list_executions(
        name, max_results=count, next_token=None, succeeded_in_stage=None
    )
    return items


def history(
    ctx: ConsoleContext, name: str, token: str | None, size: int
) -> tuple[list[dict[str, Any]], str | None, Trend]:
    try:
        items, next_token = ctx.services.runtime.queries.list_executions(
            name, max_results=size, next_token=token, succeeded_in_stage=None
        )
        recent = recent_summaries(ctx, name)
    except ApiError as exc:
        raise _gone(exc) from exc
    return items, next_token, trend(recent, ctx.now_ms())


def execution_detail(ctx: ConsoleContext, name: str, execution_id: str) -> ExecutionDetail:
    queries = ctx.services.runtime.queries
    try:
        execution = queries.execution(name, execution_id)
        details = action_details(ctx, name, execution_id)
        declaration = ctx.services.pipelines.get(name, execution["pipelineVersion"]).declaration
        recent = recent_summaries(ctx, name)
    except ApiError as exc:
        raise _gone(exc) from exc
    now = ctx.now_ms()
    summary = next((s for s in recent if s["pipelineExecutionId"] == execution_id), None)
    if summary is None:
        summary = _find_summary(ctx, name, execution_id)
    basis = summary or {
        "startTime": min((d["startTime"] for d in details), default=None),
        "lastUpdateTime": max((d["lastUpdateTime"] for d in details), default=None),
        "status": execution["status"],
    }
    start, end = execution_span(basis, now)
    stage_order = [s["name"] for s in declaration.get("stages", [])]
    namespaces = {
        (s["name"], a["name"]): a.get("namespace")
        for s in declaration.get("stages", [])
        for a in s.get("actions", [])
    }
    ordered = sorted(details, key=lambda d: (d["startTime"], d["actionExecutionId"]))
    runs = []
    artifacts = []
    for d in ordered:
        started = ms(d["startTime"])
        running = d["status"] == "InProgress"
        ended = now if running else ms(d["lastUpdateTime"])
        result = d["output"].get("executionResult", {})
        runs.append(
            ActionRun(
                stage=d["stageName"],
                action=d["actionName"],
                status=d["status"],
                started_ms=started,
                duration_ms=(ended - started) if started is not None and ended else None,
                summary=result.get("externalExecutionSummary"),
                error=(result.get("errorDetails") or {}).get("message"),
                log_url=log_link(ctx, name, d),
                output_variables=dict(d["output"].get("outputVariables") or {}),
                namespace=namespaces.get((d["stageName"], d["actionName"])),
            )
        )
        for art in d["output"].get("outputArtifacts", []):
            key = (art.get("s3location") or {}).get("key")
            artifacts.append(
                ArtifactLink(
                    stage=d["stageName"],
                    action=d["actionName"],
                    name=art["name"],
                    url=f"{PREFIX}/pipelines/{segment(name)}/executions/{segment(execution_id)}"
                    f"/artifacts/{segment(d['actionExecutionId'])}/{segment(art['name'])}",
                    size=_size(ctx, key),
                )
            )
    return ExecutionDetail(
        name=name,
        execution=execution,
        summary=summary,
        started_ms=start,
        duration_ms=end - start,
        timeline=timeline(stage_order, ordered, start, now),
        runs=runs,
        artifacts=artifacts,
        trend=trend(recent, now),
        now_ms=now,
    )


def _find_summary(ctx: ConsoleContext, name: str, execution_id: str) -> dict[str, Any] | None:
    token: str | None = None
    for _ in range(50):
        items, token = ctx.services.runtime.queries.list_executions(
            name, max_results=100, next_token=token, succeeded_in_stage=None
        )
        for s in items:
            if s["pipelineExecutionId"] == execution_id:
                return s
        if not token:
            return None
    return None


def _size(ctx: ConsoleContext, key: str | None) -> int | None:
    if not key:
        return None
    try:
        return ctx.services.runtime.artifacts.size(key)
    except (OSError, ValueError):
        return None


def artifact_key(
    ctx: ConsoleContext, name: str, execution_id: str, action_execution_id: str, artifact: str
) -> str | None:
    """The store key of an output artifact of one of this execution's actions, if any: only
    artifacts the execution produced can be downloaded, whatever the URL says."""
    try:
        details = action_details(ctx, name, execution_id)
    except ApiError:
        return None
    for d in details:
        if d["actionExecutionId"] != action_execution_id:
            continue
        for art in d["output"].get("outputArtifacts", []):
            if art["name"] == artifact:
                key = (art.get("s3location") or {}).get("key")
                return str(key) if key else None
    return None


def render_detail(ctx: ConsoleContext, name: str, execution_id: str) -> str:
    return render("_execution.html", d=execution_detail(ctx, name, execution_id))


def routes(ctx: ConsoleContext) -> list[BaseRoute]:
    async def list_page(request: Request) -> Response:
        name = request.path_params["name"]
        token = request.query_params.get("token") or None
        try:
            size = int(request.query_params.get("size", DEFAULT_PAGE))
        except ValueError:
            size = DEFAULT_PAGE
        size = size if size in PAGE_SIZES else DEFAULT_PAGE
        try:
            items, next_token, chart = await run_in_threadpool(history, ctx, name, token, size)
        except Gone as exc:
            return page("error.html", status_code=404, title="Not found", message=str(exc))
        except ApiError as exc:  # a token that is not one of ours
            return page("error.html", status_code=400, title="Refused", message=exc.message)
        now = ctx.now_ms()
        return page(
            "history.html",
            title=f"History: {name}",
            name=name,
            items=[(s, execution_span(s, now)) for s in items],
            next_token=next_token,
            first_page=token is None,
            size=size,
            sizes=PAGE_SIZES,
            trend=chart,
            now_ms=now,
        )

    async def detail_page(request: Request) -> Response:
        name = request.path_params["name"]
        execution_id = request.path_params["execution_id"]
        since = ctx.hub.mark(name)
        try:
            d = await run_in_threadpool(execution_detail, ctx, name, execution_id)
        except Gone as exc:
            return page("error.html", status_code=404, title="Not found", message=str(exc))
        return page("execution.html", title=f"Execution {execution_id}", d=d, since=since)

    async def detail_events(request: Request) -> Response:
        name = request.path_params["name"]
        execution_id = request.path_params["execution_id"]
        body = ctx.hub.stream(
            name,
            f"{name}\0execution\0{execution_id}",
            lambda: render_detail(ctx, name, execution_id),
            since=request.query_params.get("since"),
        )
        return StreamingResponse(body, media_type="text/event-stream", headers=SSE_HEADERS)

    async def download(request: Request) -> Response:
        p = request.path_params
        key = await run_in_threadpool(
            artifact_key, ctx, p["name"], p["execution_id"], p["action_id"], p["artifact"]
        )
        store = ctx.services.runtime.artifacts
        if key is None or not await run_in_threadpool(store.exists, key):
            return page(
                "error.html",
                status_code=404,
                title="Not found",
                message=f"execution {p['execution_id']} has no artifact {p['artifact']!r} "
                "from that action (or it is no longer stored)",
            )

        def chunks() -> Iterator[bytes]:
            with store.open(key) as source:
                while block := source.read(CHUNK):
                    yield block

        filename = "".join(c if c.isalnum() or c in "-_." else "_" for c in p["artifact"])
        return StreamingResponse(
            iterate_in_threadpool(chunks()),
            media_type="application/zip",
            headers={
                "Content-Disposition": f'attachment; filename="{filename}.zip"',
                "Content-Length": str(await run_in_threadpool(store.size, key)),
            },
        )

    base = "/pipelines/{name}/executions"
    return [
        Route(base, list_page, methods=["GET"]),
        Route(base + "/{execution_id}", detail_page, methods=["GET"]),
        Route(base + "/{execution_id}/events", detail_events, methods=["GET"]),
        Route(base + "/{execution_id}/artifacts/{action_id}/{artifact}", download, methods=["GET"]),
    ]
