"""Data access for executions: pipeline, stage and action executions and stage transitions.

Plain reads and writes only; which status follows which is the engine's business.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, select, update

from stageline.store.schema import (
    action_executions,
    history,
    pipeline_executions,
    stage_executions,
    stage_transitions,
)

ACTIVE = ("InProgress", "Stopping")
_JSON_EXECUTION = ("variables", "source_overrides", "artifact_revisions")
_JSON_ACTION = ("input", "output")


@dataclass(frozen=True, kw_only=True)
class ExecutionRow:
    id: str
    pipeline_name: str
    pipeline_version: int
    seq: int
    status: str
    status_summary: str | None
    execution_mode: str
    trigger_type: str
    trigger_detail: str | None
    variables: list[dict[str, str]]
    source_overrides: list[dict[str, str]]
    artifact_revisions: list[dict[str, Any]]
    client_request_token: str | None
    stop_mode: str | None
    stop_reason: str | None
    stage_index: int | None
    waiting: bool
    waiting_since_ms: int | None
    started_ms: int
    updated_ms: int
    ended_ms: int | None

    @property
    def trigger(self) -> dict[str, str]:
        out = {"triggerType": self.trigger_type}
        if self.trigger_detail:
            out["triggerDetail"] = self.trigger_detail
        return out


@dataclass(frozen=True, kw_only=True)
class StageRow:
    execution_id: str
    pipeline_name: str
    stage_name: str
    stage_index: int
    status: str
    # Attempts of this stage (1 + retries); actions of attempts below ``floor`` no longer
    # count (an ALL_ACTIONS retry raises the floor, a FAILED_ACTIONS retry keeps it).
    attempt: int
    floor: int
    entered_ms: int
    updated_ms: int


@dataclass(frozen=True, kw_only=True)
class ActionRow:
    id: str
    execution_id: str
    pipeline_name: str
    pipeline_version: int
    stage_name: str
    stage_index: int
    action_name: str
    run_order: int
    attempt: int
    status: str
    input: dict[str, Any]
    output: dict[str, Any]
    summary: str | None
    external_execution_id: str | None
    external_execution_url: str | None
    percent_complete: int | None
    error_code: str | None
    error_message: str | None
    token: str | None
    updated_by: str | None
    started_ms: int
    updated_ms: int
    due_ms: int | None


@dataclass(frozen=True, kw_only=True)
class TransitionRow:
    pipeline_name: str
    stage_name: str
    transition_type: str
    enabled: bool
    reason: str | None
    changed_by: str | None
    changed_ms: int


def _decode(mapping: Any, json_fields: tuple[str, ...]) -> dict[str, Any]:
    data = dict(mapping)
    for name in json_fields:
        data[name] = json.loads(data[name]) if data[name] else ([] if name != "output" else {})
    return data


def _encode(values: dict[str, Any], json_fields: tuple[str, ...]) -> dict[str, Any]:
    out = dict(values)
    for name in json_fields:
        if name in out and not isinstance(out[name], str):
            out[name] = json.dumps(out[name], separators=(",", ":"))
    return out


# --- pipeline executions ----------------------------------------------------------------


def execution_from(mapping: Any) -> ExecutionRow:
    data = _decode(mapping, _JSON_EXECUTION)
    data["waiting"] = bool(data["waiting"])
    return ExecutionRow(**data)


# Hot-path statements are built once with bind parameters: SQLAlchemy then reuses their
# compiled form instead of computing a cache key over literal values on every call.
_INSERT_EXECUTION = pipeline_executions.insert()
_UPDATE_EXECUTION = update(pipeline_executions).where(pipeline_executions.c.id == bindparam("b_id"))
_GET_EXECUTION = select(pipeline_executions).where(pipeline_executions.c.id == bindparam("b_id"))
_ACTIVE_EXECUTIONS = (
    select(pipeline_executions)
    .where(
        pipeline_executions.c.pipeline_name == bindparam("b_name"),
        pipeline_executions.c.status.in_(ACTIVE),
    )
    .order_by(pipeline_executions.c.seq)
)


_WAITING_EXECUTIONS = (
    select(pipeline_executions)
    .where(
        pipeline_executions.c.pipeline_name == bindparam("b_name"),
        pipeline_executions.c.status.in_(ACTIVE),
        pipeline_executions.c.waiting.is_(True),
    )
    .order_by(pipeline_executions.c.seq)
)


def waiting_executions(conn: Connection, pipeline_name: str) -> list[ExecutionRow]:
    """Active executions of a pipeline waiting at a stage entrance, oldest first."""
    return [
        execution_from(r)
        for r in conn.execute(_WAITING_EXECUTIONS, {"b_name": pipeline_name}).mappings()
    ]


def insert_execution(conn: Connection, **values: Any) -> None:
    conn.execute(_INSERT_EXECUTION, _encode(values, _JSON_EXECUTION))


def update_execution(conn: Connection, execution_id: str, **values: Any) -> None:
    conn.execute(_UPDATE_EXECUTION, {"b_id": execution_id, **_encode(values, _JSON_EXECUTION)})


def get_execution(conn: Connection, execution_id: str) -> ExecutionRow | None:
    r = conn.execute(_GET_EXECUTION, {"b_id": execution_id}).mappings().first()
    return execution_from(r) if r else None


def active_executions(conn: Connection, pipeline_name: str) -> list[ExecutionRow]:
    rows = conn.execute(_ACTIVE_EXECUTIONS, {"b_name": pipeline_name}).mappings()
    return [execution_from(r) for r in rows]


def pipelines_with_active_executions(conn: Connection) -> list[str]:
    rows = conn.execute(
        select(pipeline_executions.c.pipeline_name)
        .where(pipeline_executions.c.status.in_(ACTIVE))
        .distinct()
    )
    return [r[0] for r in rows]


def next_seq(conn: Connection, pipeline_name: str) -> int:
    current = conn.execute(
        select(func.max(pipeline_executions.c.seq)).where(
            pipeline_executions.c.pipeline_name == pipeline_name
        )
    ).scalar_one()
    return int(current or 0) + 1


def find_by_token(conn: Connection, pipeline_name: str, token: str) -> ExecutionRow | None:
    r = (
        conn.execute(
            select(pipeline_executions).where(
                pipeline_executions.c.pipeline_name == pipeline_name,
                pipeline_executions.c.client_request_token == token,
            )
        )
        .mappings()
        .first()
    )
    return execution_from(r) if r else None


def list_executions(
    conn: Connection,
    pipeline_name: str,
    *,
    before_seq: int | None,
    limit: int,
    succeeded_in_stage: str | None = None,
) -> list[ExecutionRow]:
    query = (
        select(pipeline_executions)
        .where(pipeline_executions.c.pipeline_name == pipeline_name)
        .order_by(pipeline_executions.c.seq.desc())
        .limit(limit)
    )
    if before_seq is not None:
        query = query.where(pipeline_executions.c.seq < before_seq)
    if succeeded_in_stage is not None:
        query = query.where(
            pipeline_executions.c.id.in_(
                select(stage_executions.c.execution_id).where(
                    stage_executions.c.pipeline_name == pipeline_name,
                    stage_executions.c.stage_name == succeeded_in_stage,
                    stage_executions.c.status == "Succeeded",
                )
            )
        )
    return [execution_from(r) for r in conn.execute(query).mappings()]


def delete_pipeline_executions(conn: Connection, pipeline_name: str) -> None:
    for table in (action_executions, stage_executions, pipeline_executions, history):
        conn.execute(table.delete().where(table.c.pipeline_name == pipeline_name))
    conn.execute(
        stage_transitions.delete().where(stage_transitions.c.pipeline_name == pipeline_name)
    )


# --- stage executions -------------------------------------------------------------------


def stage_from(mapping: Any) -> StageRow:
    return StageRow(**dict(mapping))


_GET_STAGE = select(stage_executions).where(
    stage_executions.c.execution_id == bindparam("b_ex"),
    stage_executions.c.stage_name == bindparam("b_stage"),
)
_UPDATE_STAGE = update(stage_executions).where(
    stage_executions.c.execution_id == bindparam("b_ex"),
    stage_executions.c.stage_name == bindparam("b_stage"),
)
_INSERT_STAGE = stage_executions.insert()


def get_stage(conn: Connection, execution_id: str, stage_name: str) -> StageRow | None:
    r = conn.execute(_GET_STAGE, {"b_ex": execution_id, "b_stage": stage_name}).mappings().first()
    return stage_from(r) if r else None


def upsert_stage(conn: Connection, row: StageRow) -> None:
    values = {k: getattr(row, k) for k in StageRow.__dataclass_fields__}
    changes = {k: v for k, v in values.items() if k not in ("execution_id", "stage_name")}
    updated = conn.execute(
        _UPDATE_STAGE, {"b_ex": row.execution_id, "b_stage": row.stage_name, **changes}
    )
    if updated.rowcount == 0:
        conn.execute(_INSERT_STAGE, values)


def stages_of(conn: Connection, execution_id: str) -> list[StageRow]:
    rows = conn.execute(
        select(stage_executions)
        .where(stage_executions.c.execution_id == execution_id)
        .order_by(stage_executions.c.stage_index)
    ).mappings()
    return [stage_from(r) for r in rows]


def latest_stage_executions(
    conn: Connection, pipeline_name: str
) -> dict[str, tuple[StageRow, int]]:
    """Per stage name, the stage execution that entered last (and its execution's seq)."""
    rows = conn.execute(
        select(stage_executions, pipeline_executions.c.seq)
        .join(pipeline_executions, pipeline_executions.c.id == stage_executions.c.execution_id)
        .where(stage_executions.c.pipeline_name == pipeline_name)
        .order_by(stage_executions.c.entered_ms, pipeline_executions.c.seq)
    ).mappings()
    out: dict[str, tuple[StageRow, int]] = {}
    for r in rows:
        data = dict(r)
        seq = data.pop("seq")
        out[data["stage_name"]] = (StageRow(**data), seq)
    return out


# --- action executions ------------------------------------------------------------------


def action_from(mapping: Any) -> ActionRow:
    return ActionRow(**_decode(mapping, _JSON_ACTION))


_INSERT_ACTION = action_executions.insert()
_UPDATE_ACTION = update(action_executions).where(action_executions.c.id == bindparam("b_id"))
_GET_ACTION = select(action_executions).where(action_executions.c.id == bindparam("b_id"))
_ACTIONS_OF = (
    select(action_executions)
    .where(action_executions.c.execution_id == bindparam("b_ex"))
    .order_by(action_executions.c.started_ms, action_executions.c.attempt)
)
_ACTIONS_OF_STAGE = (
    select(action_executions)
    .where(
        action_executions.c.execution_id == bindparam("b_ex"),
        action_executions.c.stage_name == bindparam("b_stage"),
    )
    .order_by(action_executions.c.started_ms, action_executions.c.attempt)
)


@dataclass(frozen=True, kw_only=True)
class ActionBrief:
    """The columns the engine needs to step a stage, without decoding input and output."""

    id: str
    action_name: str
    attempt: int
    status: str
    error_message: str | None
    started_ms: int


_BRIEFS_OF_STAGE = (
    select(
        action_executions.c.id,
        action_executions.c.action_name,
        action_executions.c.attempt,
        action_executions.c.status,
        action_executions.c.error_message,
        action_executions.c.started_ms,
    )
    .where(
        action_executions.c.execution_id == bindparam("b_ex"),
        action_executions.c.stage_name == bindparam("b_stage"),
    )
    .order_by(action_executions.c.started_ms, action_executions.c.attempt)
)


def briefs_of_stage(conn: Connection, execution_id: str, stage_name: str) -> list[ActionBrief]:
    rows = conn.execute(_BRIEFS_OF_STAGE, {"b_ex": execution_id, "b_stage": stage_name}).mappings()
    return [ActionBrief(**dict(r)) for r in rows]


_SUCCEEDED_OF = (
    select(action_executions)
    .where(
        action_executions.c.execution_id == bindparam("b_ex"),
        action_executions.c.status == "Succeeded",
    )
    .order_by(action_executions.c.started_ms, action_executions.c.attempt)
)


def succeeded_actions_of(conn: Connection, execution_id: str) -> list[ActionRow]:
    """Succeeded attempts of an execution's actions: what has produced artifacts and variables."""
    return [action_from(r) for r in conn.execute(_SUCCEEDED_OF, {"b_ex": execution_id}).mappings()]


def insert_action(conn: Connection, **values: Any) -> None:
    conn.execute(_INSERT_ACTION, _encode(values, _JSON_ACTION))


def update_action(conn: Connection, action_id: str, **values: Any) -> None:
    conn.execute(_UPDATE_ACTION, {"b_id": action_id, **_encode(values, _JSON_ACTION)})


def get_action(conn: Connection, action_id: str) -> ActionRow | None:
    r = conn.execute(_GET_ACTION, {"b_id": action_id}).mappings().first()
    return action_from(r) if r else None


def actions_of(
    conn: Connection, execution_id: str, stage_name: str | None = None
) -> list[ActionRow]:
    """All attempts of the execution's actions (of one stage), oldest first."""
    if stage_name is None:
        rows = conn.execute(_ACTIONS_OF, {"b_ex": execution_id}).mappings()
    else:
        rows = conn.execute(
            _ACTIONS_OF_STAGE, {"b_ex": execution_id, "b_stage": stage_name}
        ).mappings()
    return [action_from(r) for r in rows]


def latest_attempts(actions: list[ActionRow]) -> dict[tuple[str, str], ActionRow]:
    out: dict[tuple[str, str], ActionRow] = {}
    for a in actions:
        key = (a.stage_name, a.action_name)
        if key not in out or a.attempt >= out[key].attempt:
            out[key] = a
    return out


def find_action_by_token(
    conn: Connection, pipeline_name: str, stage: str, action: str, token: str
) -> ActionRow | None:
    r = (
        conn.execute(
            select(action_executions).where(
                and_(
                    action_executions.c.pipeline_name == pipeline_name,
                    action_executions.c.stage_name == stage,
                    action_executions.c.action_name == action,
                    action_executions.c.token == token,
                )
            )
        )
        .mappings()
        .first()
    )
    return action_from(r) if r else None


def due_actions(conn: Connection, now_ms: int, limit: int = 100) -> list[ActionRow]:
    rows = conn.execute(
        select(action_executions)
        .where(action_executions.c.status == "InProgress", action_executions.c.due_ms <= now_ms)
        .order_by(action_executions.c.due_ms)
        .limit(limit)
    ).mappings()
    return [action_from(r) for r in rows]


def list_actions(
    conn: Connection,
    pipeline_name: str,
    *,
    execution_id: str | None,
    after: tuple[int, str] | None,
    limit: int,
) -> list[ActionRow]:
    query = (
        select(action_executions)
        .where(action_executions.c.pipeline_name == pipeline_name)
        .order_by(action_executions.c.started_ms.desc(), action_executions.c.id.desc())
        .limit(limit)
    )
    if execution_id is not None:
        query = query.where(action_executions.c.execution_id == execution_id)
    if after is not None:
        started, ident = after
        query = query.where(
            (action_executions.c.started_ms < started)
            | ((action_executions.c.started_ms == started) & (action_executions.c.id < ident))
        )
    return [action_from(r) for r in conn.execute(query).mappings()]


# --- transitions and history ------------------------------------------------------------


def transitions_of(conn: Connection, pipeline_name: str) -> dict[tuple[str, str], TransitionRow]:
    rows = conn.execute(
        select(stage_transitions).where(stage_transitions.c.pipeline_name == pipeline_name)
    ).mappings()
    out = {}
    for r in rows:
        row = TransitionRow(**{**dict(r), "enabled": bool(r["enabled"])})
        out[(row.stage_name, row.transition_type)] = row
    return out


def set_transition(conn: Connection, row: TransitionRow) -> None:
    values = {k: getattr(row, k) for k in TransitionRow.__dataclass_fields__}
    where = (
        (stage_transitions.c.pipeline_name == row.pipeline_name)
        & (stage_transitions.c.stage_name == row.stage_name)
        & (stage_transitions.c.transition_type == row.transition_type)
    )
    if conn.execute(update(stage_transitions).where(where).values(**values)).rowcount == 0:
        conn.execute(insert(stage_transitions).values(**values))


_INSERT_HISTORY = history.insert()


def record(
    conn: Any,
    *,
    pipeline_name: str,
    execution_id: str | None,
    entity: str,
    entity_id: str,
    from_status: str | None,
    to_status: str,
    at_ms: int,
    detail: str | None = None,
) -> None:
    conn.execute(
        _INSERT_HISTORY,
        {
            "pipeline_name": pipeline_name,
            "execution_id": execution_id,
            "entity": entity,
            "entity_id": entity_id,
            "from_status": from_status,
            "to_status": to_status,
            "detail": detail,
            "at_ms": at_ms,
        },
    )


def history_of(conn: Connection, execution_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(history).where(history.c.execution_id == execution_id).order_by(history.c.id)
    ).mappings()
    return [dict(r) for r in rows]
