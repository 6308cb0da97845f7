"""Data access for event rules and their targets, including the rules kept for pipelines.

Plain functions over a caller's connection, so a change and the rows it implies are one
transaction; deliveries and the outbox are in :mod:`stageline.events.deliveries`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from stageline.store.schema import event_rules, event_targets

DEFAULT_BUS = "default"
MANAGED_BY_CODEPIPELINE = "codepipeline.amazonaws.com"
ENABLED = "ENABLED"
DISABLED = "DISABLED"


def _dump(document: Mapping[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def rule_arn(region: str, account_id: str, name: str) -> str:
    """A rule on the default bus, as AWS names it (other buses put the bus name first)."""
    return f"arn:aws:events:{region}:{account_id}:rule/{name}"


@dataclass(frozen=True, kw_only=True)
class RuleRow:
    name: str
    arn: str
    event_pattern: str | None
    schedule_expression: str | None
    state: str
    description: str | None
    role_arn: str | None
    managed_by: str | None
    pipeline_name: str | None
    created_ms: int
    modified_ms: int
    event_bus_name: str = DEFAULT_BUS

    @property
    def enabled(self) -> bool:
        # ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS is enabled too.
        return self.state != DISABLED


@dataclass(frozen=True, kw_only=True)
class TargetRow:
    rule_name: str
    target_id: str
    arn: str
    text: str  # the Target document as stored (JSON), the key of compiled-input caches
    position: int
    created_ms: int

    @property
    def document(self) -> dict[str, Any]:
        return dict(json.loads(self.text))


# -- rules ------------------------------------------------------------------------------------


def _rule(row: Any) -> RuleRow:
    return RuleRow(
        name=row.name,
        arn=row.arn,
        event_pattern=row.event_pattern,
        schedule_expression=row.schedule_expression,
        state=row.state,
        description=row.description,
        role_arn=row.role_arn,
        managed_by=row.managed_by,
        pipeline_name=row.pipeline_name,
        created_ms=row.created_ms,
        modified_ms=row.modified_ms,
        event_bus_name=row.event_bus_name,
    )


def get_rule(conn: Connection, name: str, bus: str = DEFAULT_BUS) -> RuleRow | None:
    row = conn.execute(
        select(event_rules).where(event_rules.c.event_bus_name == bus, event_rules.c.name == name)
    ).first()
    return None if row is None else _rule(row)


def lock_rule(conn: Connection, name: str, bus: str = DEFAULT_BUS) -> RuleRow | None:
    """The rule, locked until the transaction ends (PostgreSQL), so replicas take turns."""
    row = conn.execute(
        select(event_rules)
        .where(event_rules.c.event_bus_name == bus, event_rules.c.name == name)
        .with_for_update()
    ).first()
    return None if row is None else _rule(row)


def list_rules(
    conn: Connection, bus: str = DEFAULT_BUS, *, prefix: str | None = None
) -> list[RuleRow]:
    query = select(event_rules).where(event_rules.c.event_bus_name == bus)
    if prefix:
        query = query.where(event_rules.c.name.startswith(prefix, autoescape=True))
    return [_rule(row) for row in conn.execute(query.order_by(event_rules.c.name))]


def count_rules(conn: Connection, bus: str = DEFAULT_BUS) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(event_rules).where(event_rules.c.event_bus_name == bus)
        ).scalar_one()
    )


def put_rule(
    conn: Connection,
    *,
    name: str,
    arn: str,
    event_pattern: str | None,
    schedule_expression: str | None,
    state: str,
    description: str | None,
    role_arn: str | None,
    now_ms: int,
    managed_by: str | None = None,
    pipeline_name: str | None = None,
    bus: str = DEFAULT_BUS,
) -> bool:
    """Create the rule or replace its definition (keeping when it was created); True if new."""
    values = {
        "arn": arn,
        "event_pattern": event_pattern,
        "schedule_expression": schedule_expression,
        "state": state,
        "description": description,
        "role_arn": role_arn,
        "managed_by": managed_by,
        "pipeline_name": pipeline_name,
        "modified_ms": now_ms,
    }
    changed = conn.execute(
        update(event_rules)
        .where(event_rules.c.event_bus_name == bus, event_rules.c.name == name)
        .values(**values)
    ).rowcount
    if changed:
        return False
    conn.execute(
        insert(event_rules).values(event_bus_name=bus, name=name, created_ms=now_ms, **values)
    )
    return True


def set_state(conn: Connection, name: str, state: str, now_ms: int, bus: str = DEFAULT_BUS) -> bool:
    return (
        conn.execute(
            update(event_rules)
            .where(event_rules.c.event_bus_name == bus, event_rules.c.name == name)
            .values(state=state, modified_ms=now_ms)
        ).rowcount
        > 0
    )


def delete_rule(conn: Connection, name: str, bus: str = DEFAULT_BUS) -> bool:
    """Delete the rule and any targets it still has; deliveries already made are kept."""
    conn.execute(
        delete(event_targets).where(
            event_targets.c.event_bus_name == bus, event_targets.c.rule_name == name
        )
    )
    return (
        conn.execute(
            delete(event_rules).where(
                event_rules.c.event_bus_name == bus, event_rules.c.name == name
            )
        ).rowcount
        > 0
    )


def put_managed_rule(
    conn: Connection,
    *,
    name: str,
    event_pattern: str,
    description: str | None,
    pipeline_name: str,
    target_id: str,
    target_arn: str,
    now_ms: int,
    arn: str | None = None,
) -> None:
    """Create or replace a rule stageline keeps for a pipeline, with the pipeline as its one target.

    The rule's ARN takes the region and account of ``target_arn`` (the pipeline's ARN)
    unless ``arn`` is given. It is marked ``ManagedBy codepipeline.amazonaws.com``, as the
    rules CodePipeline creates on AWS, so users cannot change it without ``Force``.
    """
    if arn is None:
        parts = target_arn.split(":")
        region, account = (parts[3], parts[4]) if len(parts) > 5 else ("", "")
        arn = rule_arn(region, account, name)
    put_rule(
        conn,
        name=name,
        arn=arn,
        event_pattern=event_pattern,
        schedule_expression=None,
        state=ENABLED,
        description=description,
        role_arn=None,
        now_ms=now_ms,
        managed_by=MANAGED_BY_CODEPIPELINE,
        pipeline_name=pipeline_name,
    )
    conn.execute(
        delete(event_targets).where(
            event_targets.c.event_bus_name == DEFAULT_BUS,
            event_targets.c.rule_name == name,
            event_targets.c.target_id != target_id,
        )
    )
    put_target(
        conn,
        rule=name,
        target_id=target_id,
        arn=target_arn,
        document={"Id": target_id, "Arn": target_arn},
        now_ms=now_ms,
    )


def delete_pipeline_rules(conn: Connection, pipeline_name: str, keep: set[str]) -> list[str]:
    """Delete the rules (and their targets) kept for ``pipeline_name`` not named in ``keep``."""
    names = [
        row.name
        for row in conn.execute(
            select(event_rules.c.name).where(
                event_rules.c.pipeline_name == pipeline_name,
                event_rules.c.managed_by.is_not(None),
            )
        )
        if row.name not in keep
    ]
    for name in names:
        delete_rule(conn, name)
    return names


# -- targets ----------------------------------------------------------------------------------


def _target(row: Any) -> TargetRow:
    return TargetRow(
        rule_name=row.rule_name,
        target_id=row.target_id,
        arn=row.arn,
        text=row.document,
        position=row.position,
        created_ms=row.created_ms,
    )


def list_targets(conn: Connection, rule: str, bus: str = DEFAULT_BUS) -> list[TargetRow]:
    rows = conn.execute(
        select(event_targets)
        .where(event_targets.c.event_bus_name == bus, event_targets.c.rule_name == rule)
        .order_by(event_targets.c.position)
    )
    return [_target(row) for row in rows]


def targets_of(
    conn: Connection, rules: Iterable[str], bus: str = DEFAULT_BUS
) -> dict[str, list[TargetRow]]:
    """The targets of several rules at once, in the order they were added."""
    names = list(rules)
    out: dict[str, list[TargetRow]] = {name: [] for name in names}
    if not names:
        return out
    rows = conn.execute(
        select(event_targets)
        .where(event_targets.c.event_bus_name == bus, event_targets.c.rule_name.in_(names))
        .order_by(event_targets.c.rule_name, event_targets.c.position)
    )
    for row in rows:
        out[row.rule_name].append(_target(row))
    return out


def put_target(
    conn: Connection,
    *,
    rule: str,
    target_id: str,
    arn: str,
    document: Mapping[str, Any],
    now_ms: int,
    bus: str = DEFAULT_BUS,
) -> None:
    """Add a target, or replace the one with the same Id in place (its position is kept)."""
    key = and_(
        event_targets.c.event_bus_name == bus,
        event_targets.c.rule_name == rule,
        event_targets.c.target_id == target_id,
    )
    if conn.execute(
        update(event_targets).where(key).values(arn=arn, document=_dump(document))
    ).rowcount:
        return
    position = conn.execute(
        select(func.coalesce(func.max(event_targets.c.position), 0)).where(
            event_targets.c.event_bus_name == bus, event_targets.c.rule_name == rule
        )
    ).scalar_one()
    conn.execute(
        insert(event_targets).values(
            event_bus_name=bus,
            rule_name=rule,
            target_id=target_id,
            arn=arn,
            document=_dump(document),
            position=int(position) + 1,
            created_ms=now_ms,
        )
    )


def remove_targets(conn: Connection, rule: str, ids: Sequence[str], bus: str = DEFAULT_BUS) -> int:
    return conn.execute(
        delete(event_targets).where(
            event_targets.c.event_bus_name == bus,
            event_targets.c.rule_name == rule,
            event_targets.c.target_id.in_(list(ids)),
        )
    ).rowcount


def rule_names_by_target(conn: Connection, arn: str, bus: str = DEFAULT_BUS) -> list[str]:
    rows = conn.execute(
        select(event_targets.c.rule_name)
        .where(event_targets.c.event_bus_name == bus, event_targets.c.arn == arn)
        .distinct()
        .order_by(event_targets.c.rule_name)
    )
    return [row.rule_name for row in rows]
