"""Data access for the outbox and for deliveries (and so the dead-letter queue).

Plain functions over a caller's connection, so publishing an event and the deliveries it
implies are one transaction. ``FOR UPDATE SKIP LOCKED`` is what lets several server
replicas share one PostgreSQL: each takes rows the others are not holding. SQLite has one
writer at a time (``BEGIN IMMEDIATE``) and SQLAlchemy leaves the clause out there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, update

from stageline.events.store import DEFAULT_BUS
from stageline.store.schema import event_deliveries, event_targets, outbox

PENDING = "PENDING"
DELIVERED = "DELIVERED"
FAILED = "FAILED"


@dataclass(frozen=True, kw_only=True)
class DeliveryRow:
    id: int
    event_id: str
    rule_name: str
    target_id: str
    target_arn: str
    input: str
    event_ms: int
    attempts: int
    status: str
    next_attempt_ms: int | None
    last_error: str | None
    created_ms: int
    updated_ms: int
    ended_ms: int | None


@dataclass(frozen=True, kw_only=True)
class OutboxRow:
    id: int
    event_id: str
    payload: str
    created_ms: int


# -- the outbox -------------------------------------------------------------------------------


def unpublished(conn: Connection, limit: int) -> list[OutboxRow]:
    """The oldest events not yet matched against the rules, locked for this transaction."""
    rows = conn.execute(
        select(outbox.c.id, outbox.c.event_id, outbox.c.payload, outbox.c.created_ms)
        .where(outbox.c.published_ms.is_(None))
        .order_by(outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [
        OutboxRow(id=r.id, event_id=r.event_id, payload=r.payload, created_ms=r.created_ms)
        for r in rows
    ]


def mark_published(conn: Connection, ids: Sequence[int], now_ms: int) -> None:
    conn.execute(update(outbox).where(outbox.c.id.in_(list(ids))).values(published_ms=now_ms))


def outbox_has(conn: Connection, event_id: str) -> bool:
    found = conn.execute(select(outbox.c.id).where(outbox.c.event_id == event_id)).first()
    return found is not None


# -- deliveries -------------------------------------------------------------------------------


def _delivery(row: Any) -> DeliveryRow:
    return DeliveryRow(
        id=row.id,
        event_id=row.event_id,
        rule_name=row.rule_name,
        target_id=row.target_id,
        target_arn=row.target_arn,
        input=row.input,
        event_ms=row.event_ms,
        attempts=row.attempts,
        status=row.status,
        next_attempt_ms=row.next_attempt_ms,
        last_error=row.last_error,
        created_ms=row.created_ms,
        updated_ms=row.updated_ms,
        ended_ms=row.ended_ms,
    )


def insert_deliveries(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert deliveries (dicts of event_deliveries' columns; the bus name defaults)."""
    if rows:
        conn.execute(
            insert(event_deliveries), [{"event_bus_name": DEFAULT_BUS, **row} for row in rows]
        )


def due(conn: Connection, now_ms: int, limit: int) -> list[tuple[DeliveryRow, str | None]]:
    """Pending deliveries whose time has come, oldest first, each with its target's document
    (None when the target has been removed since), locked against other replicas."""
    d, t = event_deliveries, event_targets
    query = (
        select(d, t.c.document.label("target_document"))
        .select_from(
            d.outerjoin(
                t,
                and_(
                    t.c.event_bus_name == d.c.event_bus_name,
                    t.c.rule_name == d.c.rule_name,
                    t.c.target_id == d.c.target_id,
                ),
            )
        )
        .where(d.c.status == PENDING, d.c.next_attempt_ms <= now_ms)
        .order_by(d.c.next_attempt_ms, d.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=d)
    )
    return [(_delivery(row), row.target_document) for row in conn.execute(query)]


def claim(conn: Connection, ids: Sequence[int], *, now_ms: int, lease_until_ms: int) -> int:
    """Lease due deliveries to this process: their next attempt moves to the lease's end, so
    nobody else takes them meanwhile, and the attempt is counted before it is made (a
    delivery that crashes the server still runs out of attempts)."""
    return conn.execute(
        update(event_deliveries)
        .where(
            event_deliveries.c.id.in_(list(ids)),
            event_deliveries.c.status == PENDING,
            event_deliveries.c.next_attempt_ms <= now_ms,
        )
        .values(
            next_attempt_ms=lease_until_ms,
            attempts=event_deliveries.c.attempts + 1,
            updated_ms=now_ms,
        )
    ).rowcount


def held(conn: Connection, ids: Sequence[int], lease_until_ms: int) -> list[int]:
    """Which of ``ids`` carry this lease (after :func:`claim`): the ones this process holds."""
    rows = conn.execute(
        select(event_deliveries.c.id).where(
            event_deliveries.c.id.in_(list(ids)),
            event_deliveries.c.status == PENDING,
            event_deliveries.c.next_attempt_ms == lease_until_ms,
        )
    )
    return [row.id for row in rows]


def _leased(delivery_id: int, lease_until_ms: int) -> Any:
    # The lease is the claim's token: a result counts only while the claim is still ours.
    return and_(
        event_deliveries.c.id == delivery_id,
        event_deliveries.c.status == PENDING,
        event_deliveries.c.next_attempt_ms == lease_until_ms,
    )


def finish(
    conn: Connection,
    delivery_id: int,
    *,
    lease_until_ms: int | None,
    status: str,
    now_ms: int,
    error: str | None = None,
    next_attempt_ms: int | None = None,
) -> bool:
    """Record an attempt's outcome: DELIVERED, FAILED (dead-lettered) or PENDING again later.

    With ``lease_until_ms`` the row changes only if this process still holds the claim.
    """
    values: dict[str, Any] = {"status": status, "updated_ms": now_ms}
    if error is not None:
        values["last_error"] = error[:4000]
    if status == PENDING:
        values["next_attempt_ms"] = next_attempt_ms
    else:
        values["next_attempt_ms"] = None
        values["ended_ms"] = now_ms
    where = (
        _leased(delivery_id, lease_until_ms)
        if lease_until_ms is not None
        else and_(event_deliveries.c.id == delivery_id, event_deliveries.c.status == PENDING)
    )
    return conn.execute(update(event_deliveries).where(where).values(**values)).rowcount > 0


def get_deliveries(conn: Connection, ids: Sequence[int]) -> list[DeliveryRow]:
    rows = conn.execute(
        select(event_deliveries)
        .where(event_deliveries.c.id.in_(list(ids)))
        .order_by(event_deliveries.c.id)
    )
    return [_delivery(row) for row in rows]


def deliveries(
    conn: Connection, *, status: str | None = None, rule: str | None = None, limit: int = 1000
) -> list[DeliveryRow]:
    """Deliveries, oldest first, optionally of one status and one rule (tests, the DLQ)."""
    query = select(event_deliveries)
    if status is not None:
        query = query.where(event_deliveries.c.status == status)
    if rule is not None:
        query = query.where(event_deliveries.c.rule_name == rule)
    return [
        _delivery(row) for row in conn.execute(query.order_by(event_deliveries.c.id).limit(limit))
    ]


def dead_letters(
    conn: Connection, *, rule: str | None = None, limit: int = 100
) -> list[tuple[DeliveryRow, str | None]]:
    """FAILED deliveries, oldest first, each with its target's document if it still exists."""
    d, t = event_deliveries, event_targets
    query = (
        select(d, t.c.document.label("target_document"))
        .select_from(
            d.outerjoin(
                t,
                and_(
                    t.c.event_bus_name == d.c.event_bus_name,
                    t.c.rule_name == d.c.rule_name,
                    t.c.target_id == d.c.target_id,
                ),
            )
        )
        .where(d.c.status == FAILED)
    )
    if rule is not None:
        query = query.where(d.c.rule_name == rule)
    rows = conn.execute(query.order_by(d.c.id).limit(limit))
    return [(_delivery(row), row.target_document) for row in rows]


def redrive(conn: Connection, ids: Sequence[int] | None, now_ms: int) -> list[int]:
    """Move dead-lettered deliveries (all, or those of ``ids``) back to PENDING, due now, with
    their attempts reset and a fresh age (``created_ms``); the ids moved, in order."""
    where = [event_deliveries.c.status == FAILED]
    if ids is not None:
        where.append(event_deliveries.c.id.in_(list(ids)))
    moved = [
        row.id
        for row in conn.execute(
            select(event_deliveries.c.id)
            .where(*where)
            .order_by(event_deliveries.c.id)
            .with_for_update(skip_locked=True)
        )
    ]
    if moved:
        conn.execute(
            update(event_deliveries)
            .where(event_deliveries.c.id.in_(moved), event_deliveries.c.status == FAILED)
            .values(
                status=PENDING,
                attempts=0,
                next_attempt_ms=now_ms,
                created_ms=now_ms,
                updated_ms=now_ms,
                ended_ms=None,
            )
        )
    return moved


def purge_delivered(conn: Connection, before_ms: int) -> int:
    """Forget deliveries that succeeded before ``before_ms``; the DLQ is never purged."""
    return conn.execute(
        delete(event_deliveries).where(
            event_deliveries.c.status == DELIVERED, event_deliveries.c.ended_ms < before_ms
        )
    ).rowcount
