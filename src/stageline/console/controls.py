"""What a user does on the pipeline view: release, stop, retry, approve, toggle transitions.

Each action has a dialog (a GET that the script shows in a ``<dialog>``, or a
page of its own without script) and a POST that makes the same CodePipeline
request a client would — ``StartPipelineExecution``, ``StopPipelineExecution``,
``RetryStageExecution``, ``PutApprovalResult``, ``Disable/EnableStageTransition``
— through :class:`~stageline.console.calls.ApiCalls`, so the API's validation
and error messages apply unchanged. The engine's notification then updates
every open view.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MultiDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from stageline.console.calls import message_of
from stageline.console.context import (
    PREFIX,
    ConsoleContext,
    done,
    is_fragment,
    missing,
    refused,
)
from stageline.console.forms import FormError, read_form
from stageline.console.live import Gone
from stageline.console.overview import ActionCard, Revision, build_overview, source_revisions
from stageline.console.render import page, segment
from stageline.errors import ApiError


@dataclass(frozen=True, kw_only=True)
class Approval:
    """A pending manual approval as the reviewer sees it."""

    stage: str
    action: str
    token: str
    execution_id: str
    custom_data: str | None
    entity_link: str | None
    revisions: list[Revision]


def find_card(ctx: ConsoleContext, name: str, stage: str, action: str) -> ActionCard | None:
    for box in build_overview(ctx, name).stages:
        if box.name == stage:
            for group in box.groups:
                for card in group:
                    if card.name == action:
                        return card
    return None


def pending_approval(ctx: ConsoleContext, name: str, stage: str, action: str) -> Approval | str:
    """The approval waiting at ``stage``/``action``, or why there is none to review."""
    card = find_card(ctx, name, stage, action)
    if card is None:
        return f"pipeline '{name}' has no action '{action}' in stage '{stage}'"
    if card.category != "Approval":
        return f"'{stage}/{action}' is not a manual approval"
    state = ctx.services.runtime.queries.pipeline_state(name)
    token = None
    for s in state["stageStates"]:
        if s["stageName"] == stage:
            for a in s["actionStates"]:
                if a["actionName"] == action:
                    token = (a.get("latestExecution") or {}).get("token")
    if not card.pending_approval or not token or card.execution_id is None:
        status = card.status or "not started"
        return f"this approval is not waiting for an answer (it is {status})"
    declaration = ctx.services.pipelines.get(name).declaration
    config: dict[str, str] = {}
    for s in declaration["stages"]:
        for a in s["actions"] if s["name"] == stage else ():
            if a["name"] == action:
                config = a.get("configuration") or {}
    summary = _summary(ctx, name, card.execution_id)
    return Approval(
        stage=stage,
        action=action,
        token=token,
        execution_id=card.execution_id,
        custom_data=config.get("CustomData"),
        entity_link=config.get("ExternalEntityLink"),
        revisions=source_revisions(summary),
    )


def _summary(ctx: ConsoleContext, name: str, execution_id: str) -> dict[str, Any] | None:
    token: str | None = None
    queries = ctx.services.runtime.queries
    for _ in range(20):  # the execution being approved is almost always on the first page
        items, token = queries.list_executions(
            name, max_results=100, next_token=token, succeeded_in_stage=None
        )
        for s in items:
            if s["pipelineExecutionId"] == execution_id:
                return s
        if not token:
            break
    return None


Handler = Callable[[Request], Awaitable[Response]]


def routes(ctx: ConsoleContext) -> list[BaseRoute]:
    def view_url(name: str) -> str:
        return f"{PREFIX}/pipelines/{segment(name)}"

    def dialog(template: str, request: Request, **context: Any) -> Response:
        return page(template, fragment=is_fragment(request), **context)

    async def overview_or_404(request: Request) -> Any:
        try:
            return await run_in_threadpool(build_overview, ctx, request.path_params["name"])
        except Gone as exc:
            return missing(request, str(exc))

    # --- dialogs --------------------------------------------------------------------------

    async def release_dialog(request: Request) -> Response:
        ov = await overview_or_404(request)
        if isinstance(ov, Response):
            return ov
        return dialog("release.html", request, title=f"Release change: {ov.name}", ov=ov)

    async def stop_dialog(request: Request) -> Response:
        ov = await overview_or_404(request)
        if isinstance(ov, Response):
            return ov
        return dialog("stop.html", request, title=f"Stop execution: {ov.name}", ov=ov)

    async def review_dialog(request: Request) -> Response:
        name = request.path_params["name"]
        stage = request.query_params.get("stage", "")
        action = request.query_params.get("action", "")
        try:
            found = await run_in_threadpool(pending_approval, ctx, name, stage, action)
        except (Gone, ApiError) as exc:
            return missing(request, str(exc))
        return dialog(
            "review.html",
            request,
            title=f"Review: {stage}/{action}",
            name=name,
            approval=found if isinstance(found, Approval) else None,
            why=found if isinstance(found, str) else None,
            back=view_url(name),
        )

    async def transition_dialog(request: Request) -> Response:
        name = request.path_params["name"]
        return dialog(
            "transition.html",
            request,
            title=f"Disable transition: {request.query_params.get('stage', '')}",
            name=name,
            stage=request.query_params.get("stage", ""),
            back=view_url(name),
        )

    # --- posts ----------------------------------------------------------------------------

    def post(call: Callable[[str, MultiDict], str]) -> Handler:
        """A POST that reads the form, makes one API call in a thread, and reports back."""

        async def handler(request: Request) -> Response:
            name = request.path_params["name"]
            back = view_url(name)
            try:
                form = await read_form(request)
                message = await run_in_threadpool(call, name, form)
            except FormError as exc:
                return refused(request, str(exc), back)
            except ApiError as exc:
                return refused(request, message_of(exc), back, status_code=exc.status)
            return done(request, message, back)

        return handler

    def release(name: str, form: MultiDict) -> str:
        variables = [
            {"name": key.removeprefix("variable."), "value": value}
            for key, value in form.multi_items()
            if key.startswith("variable.") and value != ""
        ]
        params: dict[str, Any] = {"name": name}
        if variables:
            params["variables"] = variables
        result = ctx.api.call("StartPipelineExecution", params)
        return f"Started execution {result['pipelineExecutionId']}"

    def stop(name: str, form: MultiDict) -> str:
        abandon = form.get("mode") == "abandon"
        params: dict[str, Any] = {
            "pipelineName": name,
            "pipelineExecutionId": form.get("execution", ""),
            "abandon": abandon,
        }
        if form.get("reason"):
            params["reason"] = form["reason"]
        ctx.api.call("StopPipelineExecution", params)
        verb = "Abandoning" if abandon else "Stopping"
        return f"{verb} execution {params['pipelineExecutionId']}"

    def retry(name: str, form: MultiDict) -> str:
        mode = form.get("mode", "FAILED_ACTIONS")
        ctx.api.call(
            "RetryStageExecution",
            {
                "pipelineName": name,
                "stageName": form.get("stage", ""),
                "pipelineExecutionId": form.get("execution", ""),
                "retryMode": mode,
            },
        )
        what = "failed actions" if mode == "FAILED_ACTIONS" else "all actions"
        return f"Retrying the {what} of stage {form.get('stage', '')}"

    def approve(name: str, form: MultiDict) -> str:
        status = form.get("status", "")
        ctx.api.call(
            "PutApprovalResult",
            {
                "pipelineName": name,
                "stageName": form.get("stage", ""),
                "actionName": form.get("action", ""),
                "token": form.get("token", ""),
                "result": {"status": status, "summary": form.get("summary", "")},
            },
        )
        return f"{status}: {form.get('stage', '')}/{form.get('action', '')}"

    def transition(name: str, form: MultiDict) -> str:
        stage = form.get("stage", "")
        enable = form.get("enabled") == "true"
        params: dict[str, Any] = {
            "pipelineName": name,
            "stageName": stage,
            "transitionType": "Inbound",
        }
        if enable:
            ctx.api.call("EnableStageTransition", params)
            return f"Transition into {stage} enabled"
        ctx.api.call("DisableStageTransition", {**params, "reason": form.get("reason", "")})
        return f"Transition into {stage} disabled"

    return [
        Route("/pipelines/{name}/release", release_dialog, methods=["GET"]),
        Route("/pipelines/{name}/release", post(release), methods=["POST"]),
        Route("/pipelines/{name}/stop", stop_dialog, methods=["GET"]),
        Route("/pipelines/{name}/stop", post(stop), methods=["POST"]),
        Route("/pipelines/{name}/retry", post(retry), methods=["POST"]),
        Route("/pipelines/{name}/review", review_dialog, methods=["GET"]),
        Route("/pipelines/{name}/approval", post(approve), methods=["POST"]),
        Route("/pipelines/{name}/transition", transition_dialog, methods=["GET"]),
        Route("/pipelines/{name}/transition", post(transition), methods=["POST"]),
    ]
