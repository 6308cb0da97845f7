"""The pipeline view's model: each stage's latest execution, its actions by runOrder, and what
a user may do there — with the reason when CodePipeline would refuse it.

Everything is read through the API's read side (``GetPipeline``,
``GetPipelineState``, ``ListPipelineExecutions``, ``ListActionExecutions``)
so the console shows exactly what a client of the API sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stageline.console.context import PREFIX, ConsoleContext, ms
from stageline.console.live import Gone
from stageline.console.render import segment
from stageline.errors import ApiError

ACTIVE = ("InProgress", "Stopping")
RETRYABLE = ("Failed", "Stopped")
RECENT = 25


@dataclass(frozen=True, kw_only=True)
class Revision:
    """A source revision: a commit (id, message, link) or an object version."""

    action: str
    revision_id: str
    summary: str
    url: str | None


@dataclass(frozen=True, kw_only=True)
class ActionCard:
    name: str
    stage: str
    run_order: int
    category: str
    provider: str
    status: str | None
    summary: str | None
    error: str | None
    revision: Revision | None
    started_ms: int | None
    ended_ms: int | None
    execution_id: str | None
    action_execution_id: str | None
    log_url: str | None
    external_url: str | None
    pending_approval: bool

    @property
    def running(self) -> bool:
        return self.status == "InProgress"

    def duration_ms(self, now_ms: int) -> int | None:
        if self.started_ms is None:
            return None
        return (self.ended_ms if self.ended_ms is not None else now_ms) - self.started_ms


@dataclass(frozen=True, kw_only=True)
class Transition:
    enabled: bool
    reason: str | None
    changed_by: str | None
    changed_ms: int | None


@dataclass(frozen=True, kw_only=True)
class StageBox:
    name: str
    index: int
    status: str | None
    execution_id: str | None
    execution_status: str | None
    groups: list[list[ActionCard]]
    inbound: Transition | None  # None for the first stage: nothing enters it from a stage
    waiting: list[str]
    retry_refusal: str | None


@dataclass(frozen=True, kw_only=True)
class Overview:
    name: str
    version: int
    pipeline_type: str
    execution_mode: str
    stages: list[StageBox]
    recent: list[dict[str, Any]]
    variables: list[dict[str, Any]]
    now_ms: int
    active: list[dict[str, Any]] = field(default_factory=list)

    @property
    def stop_refusal(self) -> str | None:
        if self.active:
            return None
        return "no execution is in progress; only InProgress executions can be stopped"

    @property
    def url(self) -> str:
        return f"{PREFIX}/pipelines/{segment(self.name)}"


def provider_label(type_id: dict[str, str]) -> str:
    return f"{type_id['owner']} {type_id['provider']} v{type_id['version']}"


def log_link(ctx: ConsoleContext, pipeline: str, detail: dict[str, Any] | None) -> str | None:
    """The console's log page for an action that ran on one of our agents."""
    if detail is None:
        return None
    action_id = detail["actionExecutionId"]
    category = detail["input"]["actionTypeId"]["category"]
    if category == "Approval":
        return None
    try:
        started = ctx.services.runtime.logs.exists(action_id)
    except ValueError:
        return None
    if not started and detail["status"] != "InProgress":
        return None
    return (
        f"{PREFIX}/logs/{segment(action_id)}?pipeline={segment(pipeline)}"
        f"&execution={segment(detail['pipelineExecutionId'])}"
    )


def latest_attempts(details: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The newest action execution of each (stage, action): a retry supersedes earlier runs."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for d in sorted(details, key=lambda d: (d["startTime"], d["actionExecutionId"])):
        latest[(d["stageName"], d["actionName"])] = d
    return latest


def action_details(ctx: ConsoleContext, name: str, execution_id: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        items, token = ctx.services.runtime.queries.list_action_executions(
            name, execution_id=execution_id, max_results=1000, next_token=token
        )
        out.extend(items)
        if not token:
            return out


def source_revisions(summary: dict[str, Any] | None) -> list[Revision]:
    if not summary:
        return []
    return [
        Revision(
            action=r.get("actionName", ""),
            revision_id=r.get("revisionId", ""),
            summary=r.get("revisionSummary", ""),
            url=r.get("revisionUrl"),
        )
        for r in summary.get("sourceRevisions", [])
    ]


def build_overview(ctx: ConsoleContext, name: str) -> Overview:
    """Everything the pipeline view shows; raises :class:`Gone` for a pipeline that is not there."""
    queries = ctx.services.runtime.queries
    try:
        declaration = ctx.services.pipelines.get(name).declaration
        state = queries.pipeline_state(name)
        recent, _ = queries.list_executions(
            name, max_results=RECENT, next_token=None, succeeded_in_stage=None
        )
    except ApiError as exc:
        if exc.code == "PipelineNotFoundException":
            raise Gone(exc.message) from exc
        raise
    now = ctx.now_ms()
    summaries = {s["pipelineExecutionId"]: s for s in recent}
    details: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
    for stage_state in state["stageStates"]:
        ex_id = stage_state.get("latestExecution", {}).get("pipelineExecutionId")
        if ex_id and ex_id not in details:
            details[ex_id] = latest_attempts(action_details(ctx, name, ex_id))
            if ex_id not in summaries:
                summaries[ex_id] = queries.execution(name, ex_id)
    declared = {s["name"]: s for s in declaration.get("stages", [])}
    stages = []
    for index, stage_state in enumerate(state["stageStates"]):
        stage_name = stage_state["stageName"]
        latest = stage_state.get("latestExecution") or {}
        ex_id = latest.get("pipelineExecutionId")
        summary = summaries.get(ex_id) if ex_id else None
        revisions = {r.action: r for r in source_revisions(summary)}
        stage_details = details.get(ex_id, {}) if ex_id else {}
        states = {a["actionName"]: a for a in stage_state.get("actionStates", [])}
        cards = [
            _card(
                ctx,
                name,
                stage_name,
                action,
                states.get(action["name"], {}),
                stage_details.get((stage_name, action["name"])),
                revisions,
            )
            for action in declared.get(stage_name, {}).get("actions", [])
        ]
        groups: dict[int, list[ActionCard]] = {}
        for card in cards:
            groups.setdefault(card.run_order, []).append(card)
        inbound = stage_state.get("inboundTransitionState") or {"enabled": True}
        stages.append(
            StageBox(
                name=stage_name,
                index=index,
                status=latest.get("status"),
                execution_id=ex_id,
                execution_status=summary.get("status") if summary else None,
                groups=[groups[k] for k in sorted(groups)],
                inbound=None
                if index == 0
                else Transition(
                    enabled=bool(inbound.get("enabled", True)),
                    reason=inbound.get("disabledReason"),
                    changed_by=inbound.get("lastChangedBy"),
                    changed_ms=ms(inbound.get("lastChangedAt")),
                ),
                waiting=[
                    e["pipelineExecutionId"] for e in stage_state.get("inboundExecutions", [])
                ],
                retry_refusal=_retry_refusal(latest.get("status"), summary),
            )
        )
    return Overview(
        name=name,
        version=int(declaration.get("version", 1)),
        pipeline_type=declaration.get("pipelineType", "V1"),
        execution_mode=declaration.get("executionMode", "SUPERSEDED"),
        stages=stages,
        recent=recent,
        variables=list(declaration.get("variables") or []),
        now_ms=now,
        active=[s for s in recent if s["status"] in ACTIVE],
    )


def _retry_refusal(stage_status: str | None, summary: dict[str, Any] | None) -> str | None:
    """Why RetryStageExecution would refuse this stage's latest execution (AWS's rules)."""
    if stage_status is None or summary is None:
        return "this stage has not run yet"
    if stage_status not in RETRYABLE:
        return f"only a failed or stopped stage can be retried; this one is {stage_status}"
    if summary["status"] in ACTIVE:
        return (
            f"its execution is still {summary['status']}; a stage can be retried once its "
            "execution has finished"
        )
    return None


def _card(
    ctx: ConsoleContext,
    pipeline: str,
    stage: str,
    action: dict[str, Any],
    state: dict[str, Any],
    detail: dict[str, Any] | None,
    revisions: dict[str, Revision],
) -> ActionCard:
    type_id = action["actionTypeId"]
    latest = state.get("latestExecution") or {}
    status = latest.get("status")
    revision = revisions.get(action["name"]) if type_id["category"] == "Source" else None
    if revision is None and state.get("currentRevision") and type_id["category"] == "Source":
        revision = Revision(
            action=action["name"],
            revision_id=state["currentRevision"]["revisionId"],
            summary="",
            url=None,
        )
    error = (latest.get("errorDetails") or {}).get("message")
    external = latest.get("externalExecutionUrl")
    if external and "/logs/" in external:
        external = None  # the log, which the console shows itself
    started = ms(detail["startTime"]) if detail else None
    ended = ms(detail["lastUpdateTime"]) if detail and detail["status"] != "InProgress" else None
    return ActionCard(
        name=action["name"],
        stage=stage,
        run_order=int(action.get("runOrder", 1)),
        category=type_id["category"],
        provider=provider_label(type_id),
        status=status,
        summary=latest.get("summary"),
        error=error,
        revision=revision,
        started_ms=started,
        ended_ms=ended,
        execution_id=detail["pipelineExecutionId"] if detail else None,
        action_execution_id=latest.get("actionExecutionId"),
        log_url=log_link(ctx, pipeline, detail),
        external_url=external,
        pending_approval=type_id["category"] == "Approval"
        and status == "InProgress"
        and bool(latest.get("token")),
    )
