"""CodePipeline's EventBridge events, built exactly as AWS sends them (DESIGN.md §3 Events).

Events are written to the outbox in the same transaction as the state change
that causes them; the event bus (a later layer) publishes from there.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from stageline.store.schema import outbox

SOURCE = "aws.codepipeline"
PIPELINE_DETAIL = "CodePipeline Pipeline Execution State Change"
STAGE_DETAIL = "CodePipeline Stage Execution State Change"
ACTION_DETAIL = "CodePipeline Action Execution State Change"


@dataclass(frozen=True, kw_only=True)
class EventContext:
    account_id: str
    region: str
    pipeline_arn: str
    pipeline_name: str
    pipeline_version: int
    execution_id: str


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(
    *,
    detail_type: str,
    source: str,
    account: str,
    region: str,
    resources: list[str],
    detail: dict[str, Any],
    at_ms: int,
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": _time(at_ms),
        "region": region,
        "resources": resources,
        "detail": detail,
    }


class Executor(Protocol):
    """A connection, or a batch that collects rows to insert together."""

    def execute(self, statement: Any, params: Any) -> Any: ...


_INSERT_OUTBOX = outbox.insert()


def write(conn: Executor, event: dict[str, Any], at_ms: int) -> None:
    conn.execute(
        _INSERT_OUTBOX,
        {
            "event_id": event["id"],
            "source": event["source"],
            "detail_type": event["detail-type"],
            "payload": json.dumps(event, separators=(",", ":")),
            "created_ms": at_ms,
            "published_ms": None,
        },
    )


def pipeline_event(
    conn: Executor, ctx: EventContext, state: str, at_ms: int, *, trigger: dict[str, str] | None
) -> None:
    detail: dict[str, Any] = {
        "pipeline": ctx.pipeline_name,
        "execution-id": ctx.execution_id,
        "state": state,
        "version": ctx.pipeline_version,
    }
    if trigger:
        detail["execution-trigger"] = {
            "trigger-type": trigger.get("triggerType"),
            "trigger-detail": trigger.get("triggerDetail", ""),
        }
    write(conn, _env(ctx, PIPELINE_DETAIL, detail, at_ms), at_ms)


def stage_event(conn: Executor, ctx: EventContext, stage: str, state: str, at_ms: int) -> None:
    detail = {
        "pipeline": ctx.pipeline_name,
        "execution-id": ctx.execution_id,
        "stage": stage,
        "state": state,
        "version": ctx.pipeline_version,
    }
    write(conn, _env(ctx, STAGE_DETAIL, detail, at_ms), at_ms)


def action_event(
    conn: Executor,
    ctx: EventContext,
    *,
    stage: str,
    action: str,
    action_execution_id: str,
    state: str,
    region: str,
    type_id: dict[str, str],
    input_artifacts: list[dict[str, Any]],
    output_artifacts: list[dict[str, Any]] | None,
    result: dict[str, Any] | None,
    at_ms: int,
) -> None:
    detail: dict[str, Any] = {
        "pipeline": ctx.pipeline_name,
        "execution-id": ctx.execution_id,
        "action-execution-id": action_execution_id,
        "stage": stage,
        "action": action,
        "state": state,
        "region": region,
        "type": {
            "owner": type_id["owner"],
            "provider": type_id["provider"],
            "category": type_id["category"],
            "version": type_id["version"],
        },
        "version": ctx.pipeline_version,
        "input-artifacts": [_artifact(a) for a in input_artifacts],
    }
    if output_artifacts is not None:
        detail["output-artifacts"] = [_artifact(a) for a in output_artifacts]
    if result:
        detail["execution-result"] = result
    write(conn, _env(ctx, ACTION_DETAIL, detail, at_ms), at_ms)


def _artifact(a: dict[str, Any]) -> dict[str, Any]:
    loc = a.get("s3location") or {}
    return {"name": a["name"], "s3location": {"bucket": loc.get("bucket"), "key": loc.get("key")}}


def _env(ctx: EventContext, detail_type: str, detail: dict[str, Any], at_ms: int) -> dict[str, Any]:
    return envelope(
        detail_type=detail_type,
        source=SOURCE,
        account=ctx.account_id,
        region=ctx.region,
        resources=[ctx.pipeline_arn],
        detail=detail,
        at_ms=at_ms,
    )
