"""The engine's write operations: start, stop, retry, approve, transitions, job results, timeouts.

Each is one transaction through :class:`stageline.engine.core.Engine` and ends
with the pipeline advanced as far as it can go.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from stageline.definitions.model import PipelineDecl
from stageline.engine import actions as action_starts
from stageline.engine.core import Engine, new_id
from stageline.engine.status import (
    ActionStatus,
    ExecutionStatus,
    JobStatus,
    StageStatus,
    TriggerType,
)
from stageline.engine.transitions import StateWriter
from stageline.errors import error
from stageline.store import executions as store
from stageline.store import jobs as job_store
from stageline.store import pipelines as pipeline_store
from stageline.store.executions import ActionRow, ExecutionRow, TransitionRow

MAX_VARIABLE_VALUE = 1000
SOURCE_REVISION_TYPES = ("COMMIT_ID", "IMAGE_DIGEST", "S3_OBJECT_VERSION_ID", "S3_OBJECT_KEY")


class Operations:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.ctx = engine.ctx

    # --- starting -------------------------------------------------------------------------

    def start(
        self,
        name: str,
        *,
        trigger_type: str = TriggerType.START_PIPELINE_EXECUTION,
        trigger_detail: str | None = None,
        variables: list[dict[str, str]] | None = None,
        client_token: str | None = None,
        source_revisions: list[dict[str, str]] | None = None,
    ) -> str:
        with self.engine.transaction(name) as (conn, writer):
            return self.start_in(
                conn,
                writer,
                name,
                trigger_type=trigger_type,
                trigger_detail=trigger_detail,
                variables=variables,
                client_token=client_token,
                source_revisions=source_revisions,
            )

    def start_in(
        self,
        conn: Connection,
        writer: StateWriter,
        name: str,
        *,
        trigger_type: str,
        trigger_detail: str | None = None,
        variables: list[dict[str, str]] | None = None,
        client_token: str | None = None,
        source_revisions: list[dict[str, str]] | None = None,
    ) -> str:
        """Start an execution inside an existing transaction (CreatePipeline uses this)."""
        if client_token:
            existing = store.find_by_token(conn, name, client_token)
            if existing is not None:
                return existing.id
        row = pipeline_store.get(conn, name)
        assert row is not None
        decl, _raw = self.engine.declaration(conn, name, row.version)
        resolved = _resolve_variables(decl, variables or [])
        overrides = _check_source_revisions(decl, source_revisions or [])
        execution_id = new_id()
        writer.new_execution(
            id=execution_id,
            pipeline_name=name,
            pipeline_version=row.version,
            seq=store.next_seq(conn, name),
            status=ExecutionStatus.IN_PROGRESS,
            status_summary=None,
            execution_mode=decl.execution_mode.value,
            trigger_type=trigger_type,
            trigger_detail=trigger_detail,
            variables=resolved,
            source_overrides=overrides,
            artifact_revisions=[],
            client_request_token=client_token,
            stop_mode=None,
            stop_reason=None,
            stage_index=0,
            waiting=True,
            waiting_since_ms=writer.now,
            started_ms=writer.now,
            updated_ms=writer.now,
            ended_ms=None,
        )
        ex = store.get_execution(conn, execution_id)
        assert ex is not None
        self.engine._supersede_waiting(conn, writer, ex, 0)
        return execution_id

    # --- stopping -------------------------------------------------------------------------

    def stop(self, name: str, execution_id: str, *, abandon: bool, reason: str | None) -> str:
        with self.engine.transaction(name) as (conn, writer):
            ex = _execution(conn, name, execution_id, self.ctx.account_id)
            if ex.status == ExecutionStatus.STOPPING and not abandon:
                raise error(
                    "DuplicatedStopRequestException",
                    f"execution {execution_id} is already stopping; to stop at once, stop it again with abandon",
                )
            if not ExecutionStatus(ex.status).active:
                raise error(
                    "PipelineExecutionNotStoppableException",
                    f"execution {execution_id} is {ex.status}; only InProgress executions can be stopped",
                )
            ex = writer.execution(
                ex,
                ExecutionStatus.STOPPING,
                stop_mode="abandon" if abandon else "stop",
                stop_reason=reason,
                status_summary=reason,
            )
            if abandon:
                for action in _running_actions(conn, ex):
                    self._abandon(conn, writer, ex, action, reason)
        return execution_id

    def _abandon(
        self,
        conn: Connection,
        writer: StateWriter,
        ex: ExecutionRow,
        action: ActionRow,
        reason: str | None,
    ) -> None:
        for job in job_store.for_action(conn, action.id):
            if JobStatus(job.status).open:
                writer.jobs_cancelled = True
                job_store.set_status(
                    conn,
                    job.id,
                    JobStatus.FAILED,
                    writer.now,
                    expect=tuple(s.value for s in JobStatus if s.open),
                )
        writer.action(
            ex,
            action,
            ActionStatus.ABANDONED,
            error_code="Abandoned",
            error_message=f"abandoned by StopPipelineExecution{': ' + reason if reason else ''}",
        )

    # --- retrying -------------------------------------------------------------------------

    def retry(self, name: str, stage_name: str, execution_id: str, mode: str) -> str:
        with self.engine.transaction(name) as (conn, writer):
            ex = _execution(conn, name, execution_id, self.ctx.account_id)
            decl, _raw = self.engine.declaration(conn, name, ex.pipeline_version)
            stage = decl.stage(stage_name)
            if stage is None:
                raise error(
                    "StageNotFoundException",
                    f"pipeline '{name}' (version {ex.pipeline_version}) has no stage '{stage_name}'",
                )
            latest = store.latest_stage_executions(conn, name).get(stage_name)
            if latest is None or latest[0].execution_id != execution_id:
                raise error(
                    "NotLatestPipelineExecutionException",
                    f"execution {execution_id} is not the latest execution in stage '{stage_name}'; "
                    "only the latest execution in a stage can be retried",
                )
            stage_row = latest[0]
            if (
                stage_row.status not in (StageStatus.FAILED, StageStatus.STOPPED)
                or ExecutionStatus(ex.status).active
            ):
                raise error(
                    "StageNotRetryableException",
                    f"stage '{stage_name}' of execution {execution_id} is {stage_row.status}; only a failed "
                    "or stopped stage of a finished execution can be retried",
                )
            occupied = [
                o
                for o in store.active_executions(conn, name)
                if o.stage_index == stage_row.stage_index
                and not o.waiting
                and ex.execution_mode != "PARALLEL"
            ]
            if occupied:
                raise error(
                    "ConflictException",
                    f"stage '{stage_name}' is in use by execution {occupied[0].id}; retry when it has finished",
                    status=409,
                )
            attempt = stage_row.attempt + 1
            floor = attempt if mode == "ALL_ACTIONS" else stage_row.floor
            ex = writer.execution(
                ex,
                ExecutionStatus.IN_PROGRESS,
                stage_index=stage_row.stage_index,
                waiting=False,
                status_summary=None,
                stop_mode=None,
                stop_reason=None,
                ended_ms=None,
            )
            writer.stage(
                ex,
                stage_row,
                StageStatus.IN_PROGRESS,
                attempt=attempt,
                floor=floor,
                entered_ms=writer.now,
            )
        return execution_id

    # --- approvals ------------------------------------------------------------------------

    def put_approval(
        self,
        name: str,
        stage_name: str,
        action_name: str,
        token: str,
        status: str,
        summary: str,
        by: str,
    ) -> int:
        with self.engine.transaction(name) as (conn, writer):
            row = pipeline_store.get(conn, name)
            assert row is not None
            decl, _raw = self.engine.declaration(conn, name, row.version)
            stage = decl.stage(stage_name)
            if stage is None:
                raise error(
                    "StageNotFoundException", f"pipeline '{name}' has no stage '{stage_name}'"
                )
            if not any(a.name == action_name for a in stage.actions):
                raise error(
                    "ActionNotFoundException",
                    f"stage '{stage_name}' of pipeline '{name}' has no action '{action_name}'",
                )
            action = store.find_action_by_token(conn, name, stage_name, action_name, token)
            if action is None:
                raise error(
                    "InvalidApprovalTokenException",
                    f"the approval token is not valid for action '{action_name}' of stage '{stage_name}'; "
                    "read the current token with GetPipelineState",
                )
            if action.status != ActionStatus.IN_PROGRESS:
                raise error(
                    "ApprovalAlreadyCompletedException",
                    f"this approval was already answered: the action is {action.status}",
                )
            ex = store.get_execution(conn, action.execution_id)
            assert ex is not None
            if status == "Approved":
                writer.action(
                    ex, action, ActionStatus.SUCCEEDED, summary=summary, updated_by=by, due_ms=None
                )
            else:
                writer.action(
                    ex,
                    action,
                    ActionStatus.FAILED,
                    summary=summary,
                    updated_by=by,
                    due_ms=None,
                    error_code="Rejected",
                    error_message=f"Rejected by {by}: {summary}",
                )
            return writer.now

    # --- transitions ----------------------------------------------------------------------

    def set_transition(
        self,
        name: str,
        stage_name: str,
        transition_type: str,
        *,
        enabled: bool,
        reason: str | None,
        by: str,
    ) -> None:
        with self.engine.transaction(name) as (conn, writer):
            row = pipeline_store.get(conn, name)
            assert row is not None
            decl, _raw = self.engine.declaration(conn, name, row.version)
            if decl.stage(stage_name) is None:
                names = ", ".join(s.name for s in decl.stages)
                raise error(
                    "StageNotFoundException",
                    f"pipeline '{name}' has no stage '{stage_name}'; stages: {names}",
                )
            store.set_transition(
                conn,
                TransitionRow(
                    pipeline_name=name,
                    stage_name=stage_name,
                    transition_type=transition_type,
                    enabled=enabled,
                    reason=None if enabled else reason,
                    changed_by=by,
                    changed_ms=writer.now,
                ),
            )

    # --- job results ----------------------------------------------------------------------

    def job_finished(
        self,
        job_id: str,
        *,
        succeeded: bool,
        summary: str | None = None,
        error_code: str | None = None,
        message: str | None = None,
        output_variables: dict[str, str] | None = None,
        external_execution_id: str | None = None,
        external_execution_url: str | None = None,
        percent_complete: int | None = None,
        revision: dict[str, Any] | None = None,
        artifact_revisions: dict[str, str] | None = None,
        continuation_token: str | None = None,
        job_status: str | None = None,
        expect: tuple[str, ...] = ("Dispatched", "InProgress"),
        pipeline_name: str | None = None,
    ) -> bool:
        """Record a job's result; False when the job is no longer open (e.g. abandoned).

        ``pipeline_name``, when the caller knows it, saves looking the job up twice.
        """
        if pipeline_name is None:
            with self.engine.ctx.db.read() as conn:
                found = job_store.get(conn, job_id)
            if found is None:
                raise error("JobNotFoundException", f"no job with id {job_id}")
            pipeline_name = found.pipeline_name
        with self.engine.transaction(pipeline_name) as (conn, writer):
            job = job_store.get(conn, job_id)
            if job is None:
                raise error("JobNotFoundException", f"no job with id {job_id}")
            final = job_status or (JobStatus.SUCCEEDED if succeeded else JobStatus.FAILED)
            if not job_store.set_status(conn, job_id, final, writer.now, expect=expect):
                return False
            action = store.get_action(conn, job.action_execution_id)
            ex = store.get_execution(conn, job.execution_id)
            if action is None or ex is None or action.status != ActionStatus.IN_PROGRESS:
                return False
            details: dict[str, Any] = {
                k: v
                for k, v in {
                    "summary": summary,
                    "external_execution_id": external_execution_id,
                    "external_execution_url": external_execution_url,
                    "percent_complete": percent_complete,
                }.items()
                if v is not None
            }
            if succeeded and continuation_token:
                writer.action(ex, action, **details)
                action_starts.create_job(
                    conn,
                    writer.now,
                    action,
                    job.data["job"],
                    job.data["stageline"],
                    region=job.region,
                    continuation_token=continuation_token,
                )
                writer.jobs_created = True
                return True
            if succeeded:
                output = dict(action.output)
                output["outputVariables"] = dict(output_variables or {})
                revisions = artifact_revisions or {}
                for art in output.get("outputArtifacts", []):
                    if art["name"] in revisions:
                        art["revision"] = revisions[art["name"]]
                if revision:
                    output["currentRevision"] = revision
                    self._record_revision(writer, ex, action, output, revision)
                writer.action(
                    ex, action, ActionStatus.SUCCEEDED, output=output, due_ms=None, **details
                )
            else:
                writer.action(
                    ex,
                    action,
                    ActionStatus.FAILED,
                    due_ms=None,
                    error_code=error_code or "JobFailed",
                    error_message=message or "the job failed",
                    **details,
                )
        return True

    def _record_revision(
        self,
        writer: StateWriter,
        ex: ExecutionRow,
        action: ActionRow,
        output: dict[str, Any],
        revision: dict[str, Any],
    ) -> None:
        fresh = store.get_execution(writer.conn, ex.id) or ex
        revisions = [
            r for r in fresh.artifact_revisions if r.get("actionName") != action.action_name
        ]
        for art in output.get("outputArtifacts", []):
            revisions.append(
                {
                    "name": art["name"],
                    "actionName": action.action_name,
                    "revisionId": revision.get("revisionId"),
                    "revisionChangeIdentifier": revision.get(
                        "revisionChangeId", revision.get("revisionId")
                    ),
                    "revisionSummary": revision.get("summary"),
                    "created": revision.get("created"),
                    "revisionUrl": revision.get("url"),
                }
            )
        writer.execution(fresh, artifact_revisions=revisions)

    # --- time -----------------------------------------------------------------------------

    def expire_actions(self, now_ms: int) -> int:
        """Fail actions past their timeout (approvals after 7 days by default)."""
        with self.ctx.db.read() as conn:
            due = store.due_actions(conn, now_ms)
        count = 0
        for action in due:
            with self.engine.transaction(action.pipeline_name) as (conn, writer):
                current = store.get_action(conn, action.id)
                ex = store.get_execution(conn, action.execution_id)
                if current is None or ex is None or current.status != ActionStatus.IN_PROGRESS:
                    continue
                if current.due_ms is None or current.due_ms > now_ms:
                    continue
                minutes = round((current.due_ms - current.started_ms) / 60_000)
                for job in job_store.for_action(conn, current.id):
                    if JobStatus(job.status).open:
                        job_store.set_status(conn, job.id, JobStatus.TIMED_OUT, writer.now)
                        writer.jobs_cancelled = True
                writer.action(
                    ex,
                    current,
                    ActionStatus.FAILED,
                    error_code="TimedOut",
                    due_ms=None,
                    error_message=f"the action timed out after {_duration(minutes)} (timeoutInMinutes {minutes})",
                )
                count += 1
        return count


def _duration(minutes: int) -> str:
    if minutes % 1440 == 0:
        days = minutes // 1440
        return f"{days} day{'s' if days != 1 else ''}"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _execution(conn: Connection, name: str, execution_id: str, account_id: str) -> ExecutionRow:
    ex = store.get_execution(conn, execution_id)
    if ex is None or ex.pipeline_name != name:
        raise error(
            "PipelineExecutionNotFoundException",
            f"Pipeline execution with id '{execution_id}' does not exist for pipeline '{name}' "
            f"in account '{account_id}'",
        )
    return ex


def _running_actions(conn: Connection, ex: ExecutionRow) -> list[ActionRow]:
    return [a for a in store.actions_of(conn, ex.id) if a.status == ActionStatus.IN_PROGRESS]


def _resolve_variables(decl: PipelineDecl, given: list[dict[str, str]]) -> list[dict[str, str]]:
    declared = {v.name: v for v in decl.variables}
    values: dict[str, str] = {}
    for item in given:
        if item["name"] not in declared:
            known = ", ".join(declared) or "none (variables need a V2 pipeline that declares them)"
            raise error(
                "ValidationException",
                f"variable '{item['name']}' is not declared by pipeline '{decl.name}'; declared: {known}",
            )
        if len(item["value"]) > MAX_VARIABLE_VALUE:
            raise error(
                "ValidationException",
                f"value of variable '{item['name']}' is over {MAX_VARIABLE_VALUE} characters",
            )
        values[item["name"]] = item["value"]
    out = []
    for name, variable in declared.items():
        if name in values:
            out.append({"name": name, "resolvedValue": values[name]})
        elif variable.default_value is not None:
            out.append({"name": name, "resolvedValue": variable.default_value})
        else:
            raise error(
                "ValidationException",
                f"variable '{name}' has no default value; pass it with variables=[{{name: '{name}', value: ...}}]",
            )
    return out


def _check_source_revisions(
    decl: PipelineDecl, given: list[dict[str, str]]
) -> list[dict[str, str]]:
    """Each override names a source action and a revision type its provider takes (AWS's
    SourceRevisionType: a commit for git sources, a version id or key for S3, a digest for
    ECR); an S3 object key only where AllowOverrideForS3ObjectKey is true."""
    from stageline.changes import sources as source_kinds

    actions = {a.name: a for a in source_kinds.source_actions(decl)}
    seen: set[str] = set()
    for item in given:
        action = actions.get(item["actionName"])
        if action is None:
            raise error(
                "ValidationException",
                f"sourceRevisions names '{item['actionName']}', which is not a source action of this pipeline; "
                f"source actions: {', '.join(sorted(actions))}",
            )
        if action.name in seen:
            raise error(
                "ValidationException",
                f"sourceRevisions names source action '{action.name}' twice; give one revision per action",
            )
        seen.add(action.name)
        allowed = source_kinds.REVISION_TYPES.get(action.type)
        kind = item["revisionType"]
        if allowed is not None and kind not in allowed:
            raise error(
                "ValidationException",
                f"sourceRevisions for '{action.name}' ({action.type.provider}) has revisionType "
                f"{kind}; that action takes {' or '.join(allowed)}",
            )
        if (
            kind == source_kinds.S3_OBJECT_KEY
            and str(action.configuration.get("AllowOverrideForS3ObjectKey", "")).lower() != "true"
        ):
            raise error(
                "ValidationException",
                f"sourceRevisions for '{action.name}' overrides the S3 object key, which needs "
                "AllowOverrideForS3ObjectKey set to true in that action's configuration",
            )
    return given
