"""An action's log in the browser: streamed live, searchable, failure lines marked, and the
summary of the test reports the action produced.

The lines come from the same stream as ``GET /logs/<id>/events`` (the page's
script appends each one as text, never as markup); the console's copy of that
stream also ends when the server shuts down. Test reports are CodeBuild's: an
action whose external execution id is a build shows its build's reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from stageline.api.logs import DEFAULT_WAIT_S, event_stream
from stageline.console.context import ConsoleContext
from stageline.console.pipelines import SSE_HEADERS
from stageline.console.render import page
from stageline.errors import ApiError
from stageline.logs import InvalidLogIdError, validate_log_id

MAX_FAILING_CASES = 50


@dataclass(frozen=True, kw_only=True)
class FailingCase:
    name: str
    message: str | None


@dataclass(frozen=True, kw_only=True)
class TestReportSummary:
    """One test report: counts by status and the failing cases with their messages."""

    __test__ = False

    name: str
    status: str
    total: int
    passed: int
    failed: int
    skipped: int
    other: int
    duration_ns: int | None
    failing: list[FailingCase]


@dataclass(frozen=True, kw_only=True)
class LogPage:
    log_id: str
    pipeline: str | None
    execution_id: str | None
    stage: str | None
    action: str | None
    status: str | None
    parts: list[str]
    reports: list[TestReportSummary]


def find_action(
    ctx: ConsoleContext, pipeline: str | None, execution_id: str | None, log_id: str
) -> dict[str, Any] | None:
    """The action execution the log belongs to, when the link said where to look."""
    if not pipeline or not execution_id:
        return None
    base = log_id.split(".", 1)[0]
    try:
        items, _ = ctx.services.runtime.queries.list_action_executions(
            pipeline, execution_id=execution_id, max_results=1000, next_token=None
        )
    except ApiError:
        return None
    return next((d for d in items if d["actionExecutionId"] == base), None)


def test_reports(ctx: ConsoleContext, detail: dict[str, Any] | None) -> list[TestReportSummary]:
    """The test reports of the build behind a CodeBuild action, if it ran one."""
    if detail is None:
        return []
    type_id = detail["input"]["actionTypeId"]
    build_id = detail["output"].get("executionResult", {}).get("externalExecutionId")
    if type_id.get("provider") != "CodeBuild" or not build_id:
        return []
    builds = ctx.services.builds
    try:
        arns = builds.build(build_id).get("reportArns") or []
        reports = builds.batch_get_reports({"reportArns": arns}).get("reports", []) if arns else []
    except (ApiError, KeyError):
        return []
    out = []
    for report in reports:
        if report.get("type") != "TEST" or "testSummary" not in report:
            continue
        summary = report["testSummary"]
        counts = summary.get("statusCounts", {})
        failing = builds.describe_test_cases(
            {
                "reportArn": report["arn"],
                "filter": {"status": "FAILED"},
                "maxResults": MAX_FAILING_CASES,
            }
        ).get("testCases", [])
        errors = builds.describe_test_cases(
            {"reportArn": report["arn"], "filter": {"status": "ERROR"}, "maxResults": 10}
        ).get("testCases", [])
        passed = counts.get("SUCCEEDED", 0)
        failed = counts.get("FAILED", 0) + counts.get("ERROR", 0)
        skipped = counts.get("SKIPPED", 0)
        out.append(
            TestReportSummary(
                name=report.get("name", ""),
                status=report.get("status", ""),
                total=summary.get("total", 0),
                passed=passed,
                failed=failed,
                skipped=skipped,
                other=summary.get("total", 0) - passed - failed - skipped,
                duration_ns=summary.get("durationInNanoSeconds"),
                failing=[
                    FailingCase(
                        name=".".join(p for p in (c.get("prefix"), c.get("name")) if p),
                        message=c.get("message"),
                    )
                    for c in [*failing, *errors]
                ],
            )
        )
    return out


def log_page(
    ctx: ConsoleContext, log_id: str, pipeline: str | None, execution_id: str | None
) -> LogPage:
    detail = find_action(ctx, pipeline, execution_id, log_id)
    try:
        parts = ctx.services.runtime.logs.parts(log_id)
    except (ValueError, KeyError):
        parts = []
    return LogPage(
        log_id=log_id,
        pipeline=pipeline,
        execution_id=execution_id if detail else None,
        stage=detail["stageName"] if detail else None,
        action=detail["actionName"] if detail else None,
        status=detail["status"] if detail else None,
        parts=parts,
        reports=test_reports(ctx, detail),
    )


def routes(ctx: ConsoleContext) -> list[BaseRoute]:
    def params(request: Request) -> tuple[str, str | None, str | None]:
        return (
            request.path_params["log_id"],
            request.query_params.get("pipeline") or None,
            request.query_params.get("execution") or None,
        )

    async def view(request: Request) -> Response:
        log_id, pipeline, execution_id = params(request)
        try:
            validate_log_id(log_id)
        except InvalidLogIdError as exc:
            return page("error.html", status_code=400, title="Not a log", message=str(exc))
        lp = await run_in_threadpool(log_page, ctx, log_id, pipeline, execution_id)
        return page("log.html", title=f"Log {log_id}", lp=lp)

    async def report(request: Request) -> Response:
        """The test report summary alone, which the log page fetches once the log is complete."""
        log_id, pipeline, execution_id = params(request)
        try:
            validate_log_id(log_id)
        except InvalidLogIdError as exc:
            return page("error.html", status_code=400, title="Not a log", message=str(exc))
        lp = await run_in_threadpool(log_page, ctx, log_id, pipeline, execution_id)
        return page("_report.html", lp=lp)

    async def events(request: Request) -> Response:
        log_id = request.path_params["log_id"]
        try:
            validate_log_id(log_id)
            resume = request.headers.get("last-event-id") or request.query_params.get("offset")
            offset = int(resume or "0")
            if offset < 0:
                raise ValueError("offset must be 0 or more")
        except ValueError as exc:
            return JSONResponse({"message": str(exc)}, status_code=400)
        body = event_stream(ctx.services.runtime.logs, log_id, offset=offset, wait_s=DEFAULT_WAIT_S)
        return StreamingResponse(
            ctx.hub.guard(body), media_type="text/event-stream", headers=SSE_HEADERS
        )

    return [
        Route("/logs/{log_id}", view, methods=["GET"]),
        Route("/logs/{log_id}/report", report, methods=["GET"]),
        Route("/logs/{log_id}/events", events, methods=["GET"]),
    ]
