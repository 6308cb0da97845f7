"""Reads of execution state in AWS's wire shapes: GetPipelineState, executions, action executions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from stageline.clock import ms_to_datetime
from stageline.definitions.catalog import ActionTypeKey, ActionTypeSpec
from stageline.engine.core import Engine
from stageline.engine.status import ActionStatus
from stageline.errors import error
from stageline.services import catalog as catalog_service
from stageline.services import paging
from stageline.store import executions as store
from stageline.store import pipelines as pipeline_store
from stageline.store.executions import ActionRow, ExecutionRow

DEFAULT_PAGE = 100
# AWS console hosts: a catalog template that renders to one of these (CodeBuild's
# build page, say) shows nothing for a stageline execution, so the log is linked instead.
_AWS_CONSOLE_HOSTS = (
    "console.aws.amazon.com",
    "console.amazonaws.cn",
    "console.amazonaws-us-gov.com",
)

LogUrl = Callable[[str], str | None]


class Queries:
    """The read side of executions, shaped as AWS's responses.

    ``log_url`` maps an action execution id to where its log can be read, or
    None when it has none (it never ran on one of our agents); the HTTP edge
    provides it, since only it knows the server's address.
    """

    def __init__(self, engine: Engine, *, log_url: LogUrl | None = None) -> None:
        self.engine = engine
        self.ctx = engine.ctx
        self.log_url = log_url

    def _execution_url(
        self, a: ActionRow, spec: ActionTypeSpec | None, configuration: Mapping[str, str]
    ) -> str | None:
        """``externalExecutionUrl``: the provider's own link; else the type's
        ``executionUrlTemplate`` rendered with the external execution id, as AWS
        does; else, for an action that ran on one of our agents, its log. The log
        also stands in for a template that leads to the AWS console."""
        if a.external_execution_url:
            return a.external_execution_url
        rendered = None
        if spec and spec.execution_url_template and a.external_execution_id:
            rendered = _render(
                spec.execution_url_template, configuration, external_id=a.external_execution_id
            )
            if not _is_aws_console(rendered):
                return rendered
        logged = self.log_url(a.id) if self.log_url is not None else None
        return logged or rendered

    def _pipeline(self, conn: Any, name: str) -> pipeline_store.PipelineRow:
        row = pipeline_store.get(conn, name)
        if row is None:
            raise error(
                "PipelineNotFoundException",
                f"Pipeline with name '{name}' does not exist in account '{self.ctx.account_id}'",
            )
        return row

    # --- GetPipelineState ---------------------------------------------------------------

    def pipeline_state(self, name: str) -> dict[str, Any]:
        with self.ctx.db.read() as conn:
            row = self._pipeline(conn, name)
            decl, _raw = self.engine.declaration(conn, name, row.version)
            latest_stage = store.latest_stage_executions(conn, name)
            transitions = store.transitions_of(conn, name)
            active = store.active_executions(conn, name)
            catalog = catalog_service.load(conn)
            states = []
            for index, stage in enumerate(decl.stages):
                state: dict[str, Any] = {"stageName": stage.name}
                inbound = transitions.get((stage.name, "Inbound"))
                state["inboundTransitionState"] = (
                    {
                        "enabled": inbound.enabled,
                        "lastChangedBy": inbound.changed_by,
                        "lastChangedAt": ms_to_datetime(inbound.changed_ms),
                        **({"disabledReason": inbound.reason} if inbound.reason else {}),
                    }
                    if inbound
                    else {"enabled": True}
                )
                waiting = sorted(
                    (o for o in active if o.waiting and o.stage_index == index), key=lambda o: o.seq
                )
                if waiting:
                    entries = [
                        {"pipelineExecutionId": o.id, "status": "InProgress", "type": "STANDARD"}
                        for o in waiting
                    ]
                    state["inboundExecution"] = entries[-1]
                    state["inboundExecutions"] = entries
                found = latest_stage.get(stage.name)
                actions_by_name: dict[str, ActionRow] = {}
                if found:
                    stage_row, _seq = found
                    state["latestExecution"] = {
                        "pipelineExecutionId": stage_row.execution_id,
                        "status": stage_row.status,
                        "type": "STANDARD",
                    }
                    attempts = store.latest_attempts(
                        store.actions_of(conn, stage_row.execution_id, stage.name)
                    )
                    actions_by_name = {a.action_name: a for a in attempts.values()}
                action_states = []
                for action in stage.actions:
                    spec = catalog.get(action.type)
                    entry: dict[str, Any] = {"actionName": action.name}
                    a = actions_by_name.get(action.name)
                    if a is not None:
                        entry["latestExecution"] = _action_execution(a)
                        url = self._execution_url(a, spec, action.configuration)
                        if url:
                            entry["latestExecution"]["externalExecutionUrl"] = url
                        revision = a.output.get("currentRevision")
                        if revision:
                            entry["currentRevision"] = {
                                "revisionId": revision["revisionId"],
                                "revisionChangeId": revision.get("revisionChangeId")
                                or revision["revisionId"],
                                "created": ms_to_datetime(
                                    revision.get("createdMs") or a.updated_ms
                                ),
                            }
                    if spec and spec.entity_url_template:
                        entry["entityUrl"] = _render(spec.entity_url_template, action.configuration)
                    if (
                        spec
                        and spec.revision_url_template
                        and a is not None
                        and a.output.get("currentRevision")
                    ):
                        entry["revisionUrl"] = _render(
                            spec.revision_url_template,
                            action.configuration,
                            revision=a.output["currentRevision"]["revisionId"],
                        )
                    action_states.append(entry)
                state["actionStates"] = action_states
                states.append(state)
            return {
                "pipelineName": name,
                "pipelineVersion": row.version,
                "stageStates": states,
                "created": ms_to_datetime(row.created_ms),
                "updated": ms_to_datetime(row.updated_ms),
            }

    # --- executions -----------------------------------------------------------------------

    def execution(self, name: str, execution_id: str) -> dict[str, Any]:
        with self.ctx.db.read() as conn:
            self._pipeline(conn, name)
            ex = store.get_execution(conn, execution_id)
        if ex is None or ex.pipeline_name != name:
            raise error(
                "PipelineExecutionNotFoundException",
                f"Pipeline execution with id '{execution_id}' does not exist for pipeline '{name}'",
            )
        return {
            "pipelineName": ex.pipeline_name,
            "pipelineVersion": ex.pipeline_version,
            "pipelineExecutionId": ex.id,
            "status": ex.status,
            **({"statusSummary": ex.status_summary} if ex.status_summary else {}),
            "artifactRevisions": [_artifact_revision(r) for r in ex.artifact_revisions],
            "variables": ex.variables,
            "trigger": ex.trigger,
            "executionMode": ex.execution_mode,
            "executionType": "STANDARD",
        }

    def list_executions(
        self,
        name: str,
        *,
        max_results: int | None,
        next_token: str | None,
        succeeded_in_stage: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        before = paging.decode("executions", next_token)
        limit = max_results or DEFAULT_PAGE
        with self.ctx.db.read() as conn:
            self._pipeline(conn, name)
            rows = store.list_executions(
                conn,
                name,
                before_seq=before,
                limit=limit + 1,
                succeeded_in_stage=succeeded_in_stage,
            )
        token = None
        if len(rows) > limit:
            rows = rows[:limit]
            token = paging.encode("executions", rows[-1].seq)
        return [_summary(ex) for ex in rows], token

    def list_action_executions(
        self,
        name: str,
        *,
        execution_id: str | None,
        max_results: int | None,
        next_token: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        after = paging.decode("actions", next_token)
        limit = max_results or DEFAULT_PAGE
        with self.ctx.db.read() as conn:
            self._pipeline(conn, name)
            if execution_id is not None:
                ex = store.get_execution(conn, execution_id)
                if ex is None or ex.pipeline_name != name:
                    raise error(
                        "PipelineExecutionNotFoundException",
                        f"Pipeline execution with id '{execution_id}' does not exist for pipeline '{name}'",
                    )
            rows = store.list_actions(
                conn,
                name,
                execution_id=execution_id,
                after=tuple(after) if after else None,
                limit=limit + 1,
            )
            catalog = catalog_service.load(conn)
        token = None
        if len(rows) > limit:
            rows = rows[:limit]
            token = paging.encode("actions", [rows[-1].started_ms, rows[-1].id])
        details = []
        for a in rows:
            detail = _action_detail(a)
            spec = catalog.get(ActionTypeKey(**a.input["actionTypeId"]))
            for name in spec.secret_names if spec else ():  # secrets never read back
                for config in (
                    detail["input"]["configuration"],
                    detail["input"]["resolvedConfiguration"],
                ):
                    if name in config:
                        config[name] = "****"
            url = self._execution_url(a, spec, a.input.get("configuration", {}))
            if url:
                detail["output"]["executionResult"]["externalExecutionUrl"] = url
            details.append(detail)
        return details, token


def _render(
    template: str, configuration: Any, revision: str | None = None, external_id: str | None = None
) -> str:
    """AWS's URL templates: ``{Config:Key}``, ``{RevisionId}``, ``{ExternalExecutionId}``."""
    out = template
    for key, value in configuration.items():
        out = out.replace("{Config:" + key + "}", value)
    if revision is not None:
        out = out.replace("{RevisionId}", revision)
    if external_id is not None:
        out = out.replace("{ExternalExecutionId}", external_id)
    return out


def _is_aws_console(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in _AWS_CONSOLE_HOSTS)


def _error(a: ActionRow) -> dict[str, str] | None:
    if a.status in (ActionStatus.FAILED, ActionStatus.ABANDONED) and a.error_message:
        return {"code": a.error_code or "JobFailed", "message": a.error_message[:5000]}
    return None


def _action_execution(a: ActionRow) -> dict[str, Any]:
    out: dict[str, Any] = {
        "actionExecutionId": a.id,
        "status": a.status,
        "lastStatusChange": ms_to_datetime(a.updated_ms),
    }
    optional = {
        "summary": a.summary,
        "lastUpdatedBy": a.updated_by,
        "externalExecutionId": a.external_execution_id,
        "externalExecutionUrl": a.external_execution_url,
        "percentComplete": a.percent_complete,
        "errorDetails": _error(a),
    }
    if a.status == ActionStatus.IN_PROGRESS and a.token:
        optional["token"] = a.token
    out.update({k: v for k, v in optional.items() if v is not None})
    return out


def _artifact_detail(a: dict[str, Any]) -> dict[str, Any]:
    return {"name": a["name"], "s3location": a.get("s3location", {})}


def _action_detail(a: ActionRow) -> dict[str, Any]:
    inp = a.input
    result = {
        k: v
        for k, v in {
            "externalExecutionId": a.external_execution_id,
            "externalExecutionSummary": a.summary,
            "externalExecutionUrl": a.external_execution_url,
            "errorDetails": _error(a),
        }.items()
        if v is not None
    }
    output: dict[str, Any] = {
        "outputArtifacts": [_artifact_detail(o) for o in a.output.get("outputArtifacts", [])]
        if a.status == ActionStatus.SUCCEEDED
        else [],
        "executionResult": result,
    }
    if a.output.get("outputVariables"):
        output["outputVariables"] = a.output["outputVariables"]
    input_doc = {
        "actionTypeId": inp["actionTypeId"],
        "configuration": inp.get("configuration", {}),
        "resolvedConfiguration": inp.get("resolvedConfiguration", {}),
        "region": inp.get("region"),
        "inputArtifacts": [_artifact_detail(i) for i in inp.get("inputArtifacts", [])],
    }
    for key in ("roleArn", "namespace"):
        if inp.get(key):
            input_doc[key] = inp[key]
    detail = {
        "pipelineExecutionId": a.execution_id,
        "actionExecutionId": a.id,
        "pipelineVersion": a.pipeline_version,
        "stageName": a.stage_name,
        "actionName": a.action_name,
        "startTime": ms_to_datetime(a.started_ms),
        "lastUpdateTime": ms_to_datetime(a.updated_ms),
        "status": a.status,
        "input": input_doc,
        "output": output,
    }
    if a.updated_by:
        detail["updatedBy"] = a.updated_by
    return detail


def _artifact_revision(r: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in r.items() if k not in ("actionName", "created") and v is not None}
    if r.get("created"):
        out["created"] = ms_to_datetime(r["created"])
    return out


def _summary(ex: ExecutionRow) -> dict[str, Any]:
    out: dict[str, Any] = {
        "pipelineExecutionId": ex.id,
        "status": ex.status,
        "startTime": ms_to_datetime(ex.started_ms),
        "lastUpdateTime": ms_to_datetime(ex.updated_ms),
        "sourceRevisions": [
            {
                k: v
                for k, v in {
                    "actionName": r.get("actionName"),
                    "revisionId": r.get("revisionId"),
                    "revisionSummary": r.get("revisionSummary"),
                    "revisionUrl": r.get("revisionUrl"),
                }.items()
                if v is not None
            }
            for r in ex.artifact_revisions
        ],
        "trigger": ex.trigger,
        "executionMode": ex.execution_mode,
        "executionType": "STANDARD",
    }
    if ex.status_summary:
        out["statusSummary"] = ex.status_summary
    if ex.stop_reason is not None or ex.stop_mode is not None:
        out["stopTrigger"] = {"reason": ex.stop_reason or ""}
    return out
