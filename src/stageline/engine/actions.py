"""Starting one action: resolve its variables and artifacts, then create its job (or wait for approval)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from stageline.artifacts.store import make_key
from stageline.definitions.catalog import ActionTypeKey
from stageline.definitions.model import ActionDecl, PipelineDecl, StageDecl
from stageline.engine.status import ActionStatus, JobStatus
from stageline.engine.transitions import StateWriter
from stageline.engine.variables import UnresolvedVariable, resolve, resolve_all
from stageline.services import catalog as catalog_service
from stageline.services.context import ServiceContext
from stageline.store import executions as store
from stageline.store import jobs as job_store
from stageline.store.executions import ActionRow, ExecutionRow, StageRow

APPROVAL = ActionTypeKey(category="Approval", owner="AWS", provider="Manual", version="1")
DEFAULT_TIMEOUT_MINUTES = 60


@dataclass(frozen=True)
class Started:
    row: ActionRow
    job_created: bool


def produced_state(
    conn: Connection, ex: ExecutionRow
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, str]]]:
    """Artifacts and namespaces produced so far in ``ex``: by the latest successful attempts."""
    artifacts: dict[str, dict[str, Any]] = {}
    namespaces: dict[str, dict[str, str]] = {}
    latest = store.latest_attempts(store.succeeded_actions_of(conn, ex.id))
    for row in sorted(latest.values(), key=lambda a: a.updated_ms):
        for art in row.output.get("outputArtifacts", []):
            artifacts[art["name"]] = art
        namespace = row.input.get("namespace")
        if namespace:
            namespaces[namespace] = dict(row.output.get("outputVariables", {}))
    return artifacts, namespaces


def start(
    conn: Connection,
    writer: StateWriter,
    ctx: ServiceContext,
    ex: ExecutionRow,
    decl: PipelineDecl,
    raw: dict[str, Any],
    stage: StageDecl,
    action: ActionDecl,
    stage_row: StageRow,
) -> Started:
    artifacts, namespaces = produced_state(conn, ex)
    namespaces["codepipeline"] = {"PipelineExecutionId": ex.id}
    namespaces["variables"] = {v["name"]: v["resolvedValue"] for v in ex.variables}
    region = action.region or ctx.region
    bucket = _bucket(raw, region)
    type_id = {
        "category": action.type.category,
        "owner": action.type.owner,
        "provider": action.type.provider,
        "version": action.type.version,
    }
    raw_action = next(
        a
        for s in raw["stages"]
        if s["name"] == stage.name
        for a in s["actions"]
        if a["name"] == action.name
    )
    inputs = [
        {
            "name": name,
            "s3location": artifacts[name]["s3location"],
            "revision": artifacts[name].get("revision"),
        }
        for name in action.input_artifacts
        if name in artifacts
    ]
    input_doc: dict[str, Any] = {
        "actionTypeId": type_id,
        "configuration": dict(action.configuration),
        "region": region,
        "inputArtifacts": inputs,
    }
    if action.role_arn:
        input_doc["roleArn"] = action.role_arn
    if action.namespace:
        input_doc["namespace"] = action.namespace
    base = {
        "id": str(uuid.uuid4()),
        "execution_id": ex.id,
        "pipeline_name": ex.pipeline_name,
        "pipeline_version": ex.pipeline_version,
        "stage_name": stage.name,
        "stage_index": stage_row.stage_index,
        "action_name": action.name,
        "run_order": action.run_order,
        "attempt": stage_row.attempt,
        "started_ms": writer.now,
        "updated_ms": writer.now,
    }
    try:
        resolved = resolve_all(action.configuration, namespaces)
        commands = [resolve(c, namespaces) for c in action.commands]
        environment = {e.name: resolve(e.value, namespaces) for e in action.environment_variables}
    except UnresolvedVariable as exc:
        row = writer.new_action(
            ex,
            **base,
            status=ActionStatus.FAILED,
            input=input_doc,
            output={},
            error_code="ConfigurationError",
            error_message=f"unable to resolve variable {exc.reference}: {exc.reason}",
        )
        return Started(row, job_created=False)
    input_doc["resolvedConfiguration"] = resolved
    missing = [name for name in action.input_artifacts if name not in artifacts]
    if missing:
        row = writer.new_action(
            ex,
            **base,
            status=ActionStatus.FAILED,
            input=input_doc,
            output={},
            error_code="JobFailed",
            error_message=f"input artifact(s) {', '.join(missing)} were not produced in this execution",
        )
        return Started(row, job_created=False)
    raw_outputs = {o["name"]: o for o in raw_action.get("outputArtifacts", [])}
    outputs = [
        {"name": name, "s3location": {"bucket": bucket, "key": make_key(ex.pipeline_name, name)}}
        for name in action.output_artifacts
    ]
    spec = catalog_service.builtin_types().get(action.type)
    if spec is None:
        if "catalog" not in writer.cache:
            writer.cache["catalog"] = catalog_service.load(conn)
        spec = writer.cache["catalog"].get(action.type)
    timeout_minutes = action.timeout_minutes or (
        spec.default_timeout_minutes if spec else DEFAULT_TIMEOUT_MINUTES
    )
    due = writer.now + timeout_minutes * 60_000
    if action.type == APPROVAL:
        row = writer.new_action(
            ex,
            **base,
            status=ActionStatus.IN_PROGRESS,
            input=input_doc,
            output={"outputArtifacts": []},
            token=str(uuid.uuid4()),
            due_ms=due,
            summary=_approval_summary(ex),
        )
        return Started(row, job_created=False)
    row = writer.new_action(
        ex,
        **base,
        status=ActionStatus.IN_PROGRESS,
        input=input_doc,
        output={"outputArtifacts": outputs},
        due_ms=due,
    )
    override = next((o for o in ex.source_overrides if o["actionName"] == action.name), None)
    job_data = {
        "actionTypeId": type_id,
        "actionConfiguration": {"configuration": resolved},
        "pipelineContext": {
            "pipelineName": ex.pipeline_name,
            "stage": {"name": stage.name},
            "action": {"name": action.name, "actionExecutionId": row.id},
            "pipelineArn": ctx.arns.pipeline(ex.pipeline_name),
            "pipelineExecutionId": ex.id,
        },
        "inputArtifacts": [_job_artifact(a) for a in inputs],
        "outputArtifacts": [_job_artifact(a) for a in outputs],
        "artifactCredentials": {
            "accessKeyId": "STAGELINE" + secrets.token_hex(6).upper(),
            "secretAccessKey": secrets.token_urlsafe(30),
            "sessionToken": secrets.token_urlsafe(30),
        },
    }
    encryption = (raw.get("artifactStore") or {}).get("encryptionKey")
    if encryption:
        job_data["encryptionKey"] = encryption
    internal = {
        "commands": commands,
        "outputVariables": list(action.output_variables),
        "environment": environment,
        "outputFiles": {name: list(o.get("files") or []) for name, o in raw_outputs.items()},
        "sourceRevision": override["revisionValue"] if override else None,
        "sourceRevisionType": override["revisionType"] if override else None,
        "timeoutMinutes": timeout_minutes,
        "region": region,
    }
    create_job(conn, writer.now, row, job_data, internal, region=action.region)
    return Started(row, job_created=True)


def create_job(
    conn: Connection,
    now_ms: int,
    row: ActionRow,
    job_data: dict[str, Any],
    internal: dict[str, Any],
    *,
    region: str | None,
    continuation_token: str | None = None,
) -> str:
    data = dict(job_data)
    if continuation_token is not None:
        data["continuationToken"] = continuation_token
    type_id = row.input["actionTypeId"]
    job_id = str(uuid.uuid4())
    job_store.insert_job(
        conn,
        id=job_id,
        action_execution_id=row.id,
        execution_id=row.execution_id,
        pipeline_name=row.pipeline_name,
        category=type_id["category"],
        owner=type_id["owner"],
        provider=type_id["provider"],
        version=type_id["version"],
        region=region,
        status=JobStatus.QUEUED,
        nonce=None,
        worker=None,
        lease_expires_ms=None,
        attempts=0,
        data={"job": data, "stageline": internal},
        client_token=None,
        created_ms=now_ms,
        updated_ms=now_ms,
    )
    return job_id


def _job_artifact(a: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": a["name"],
        "location": {
            "type": "S3",
            "s3Location": {
                "bucketName": a["s3location"]["bucket"],
                "objectKey": a["s3location"]["key"],
            },
        },
    }
    if a.get("revision"):
        out["revision"] = a["revision"]
    return out


def _bucket(raw: dict[str, Any], region: str) -> str:
    store_decl = raw.get("artifactStore") or (raw.get("artifactStores") or {}).get(region) or {}
    return str(store_decl.get("location") or "stageline-artifacts")


def _approval_summary(ex: ExecutionRow) -> str | None:
    """Approvals show the revision they approve (DESIGN.md §4)."""
    if not ex.artifact_revisions:
        return None
    parts = []
    for rev in ex.artifact_revisions:
        text = rev.get("revisionId", "")[:12]
        if rev.get("revisionSummary"):
            text += f" {rev['revisionSummary'].splitlines()[0][:100]}"
        parts.append(f"{rev.get('name')}: {text}")
    return "Approving " + "; ".join(parts)
