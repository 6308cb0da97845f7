"""Data access for jobs, including the atomic claim that hands a job to exactly one worker.

The claim is the one dialect-specific query of the job protocol: PostgreSQL uses
``FOR UPDATE SKIP LOCKED`` so concurrent pollers skip each other's rows; SQLite
serialises write transactions (BEGIN IMMEDIATE), and the UPDATE repeats the
status condition so a row can only move from Queued once.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from stageline.definitions.catalog import ActionTypeKey
from stageline.store.schema import jobs

OPEN = ("Created", "Queued", "Dispatched", "InProgress")


@dataclass(frozen=True, kw_only=True)
class JobRow:
    id: str
    action_execution_id: str
    execution_id: str
    pipeline_name: str
    category: str
    owner: str
    provider: str
    version: str
    region: str | None
    status: str
    nonce: str | None
    worker: str | None
    lease_expires_ms: int | None
    attempts: int
    data: dict[str, Any]
    client_token: str | None
    created_ms: int
    updated_ms: int

    @property
    def type_key(self) -> ActionTypeKey:
        return ActionTypeKey(
            category=self.category, owner=self.owner, provider=self.provider, version=self.version
        )


def _row(mapping: Any) -> JobRow:
    data = dict(mapping)
    data["data"] = json.loads(data["data"])
    return JobRow(**data)


_INSERT = jobs.insert()
_GET = select(jobs).where(jobs.c.id == bindparam("b_id"))


def insert_job(conn: Connection, **values: Any) -> None:
    values = dict(values)
    values["data"] = json.dumps(values["data"], separators=(",", ":"))
    conn.execute(_INSERT, values)


def get(conn: Connection, job_id: str) -> JobRow | None:
    r = conn.execute(_GET, {"b_id": job_id}).mappings().first()
    return _row(r) if r else None


def for_action(conn: Connection, action_execution_id: str) -> list[JobRow]:
    rows = conn.execute(
        select(jobs)
        .where(jobs.c.action_execution_id == action_execution_id)
        .order_by(jobs.c.created_ms)
    ).mappings()
    return [_row(r) for r in rows]


def set_status(
    conn: Connection,
    job_id: str,
    status: str,
    now_ms: int,
    *,
    expect: tuple[str, ...] | None = None,
    **values: Any,
) -> bool:
    query = update(jobs).where(jobs.c.id == job_id)
    if expect is not None:
        query = query.where(jobs.c.status.in_(expect))
    return conn.execute(query.values(status=status, updated_ms=now_ms, **values)).rowcount == 1


def claim(
    conn: Connection,
    type_key: ActionTypeKey,
    *,
    worker: str,
    limit: int,
    lease_ms: int,
    now_ms: int,
    regions: tuple[str | None, ...] | None = None,
    status: str = "Dispatched",
    match: Callable[[dict[str, Any]], bool] | None = None,
) -> list[JobRow]:
    """Move up to ``limit`` queued jobs of one type to Dispatched with a fresh nonce and lease.

    ``match`` filters candidates on their data (PollForJobs' queryParam); it is applied
    to a larger window of the queue so that filtered-out jobs do not starve the rest.
    """
    window = limit if match is None else max(limit * 20, 100)
    query = (
        select(jobs.c.id, jobs.c.data)
        .where(
            jobs.c.status == "Queued",
            jobs.c.category == type_key.category,
            jobs.c.owner == type_key.owner,
            jobs.c.provider == type_key.provider,
            jobs.c.version == type_key.version,
        )
        .order_by(jobs.c.created_ms, jobs.c.id)
        .limit(window)
    )
    if regions is not None:
        named = [r for r in regions if r]
        condition: Any = jobs.c.region.in_(named) if named else None
        if None in regions:
            condition = (
                jobs.c.region.is_(None)
                if condition is None
                else (condition | jobs.c.region.is_(None))
            )
        if condition is not None:
            query = query.where(condition)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = [r[0] for r in conn.execute(query) if match is None or match(json.loads(r[1]))][:limit]
    claimed: list[JobRow] = []
    for job_id in ids:
        nonce = secrets.token_hex(16)
        moved = conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.status == "Queued")
            .values(
                status=status,
                nonce=nonce,
                worker=worker,
                lease_expires_ms=now_ms + lease_ms,
                attempts=jobs.c.attempts + 1,
                updated_ms=now_ms,
            )
        ).rowcount
        if moved == 1:
            job = get(conn, job_id)
            assert job is not None
            claimed.append(job)
    return claimed


def renew(conn: Connection, job_id: str, lease_ms: int, now_ms: int) -> None:
    conn.execute(
        update(jobs)
        .where(jobs.c.id == job_id)
        .values(lease_expires_ms=now_ms + lease_ms, updated_ms=now_ms)
    )


_HAS_QUEUED = (
    select(jobs.c.id)
    .where(
        jobs.c.status == "Queued",
        jobs.c.category == bindparam("b_category"),
        jobs.c.owner == bindparam("b_owner"),
        jobs.c.provider == bindparam("b_provider"),
        jobs.c.version == bindparam("b_version"),
    )
    .limit(1)
)


def has_queued(conn: Connection, type_key: ActionTypeKey) -> bool:
    """Whether any job of this type waits (a cheap read before a claim's write)."""
    params = {
        "b_category": type_key.category,
        "b_owner": type_key.owner,
        "b_provider": type_key.provider,
        "b_version": type_key.version,
    }
    return conn.execute(_HAS_QUEUED, params).first() is not None


def end_lease(conn: Connection, job_id: str) -> None:
    """Make a job's lease already over (its worker is known to be gone)."""
    conn.execute(update(jobs).where(jobs.c.id == job_id).values(lease_expires_ms=0))


def expired_leases(conn: Connection, now_ms: int, limit: int = 100) -> list[JobRow]:
    rows = conn.execute(
        select(jobs)
        .where(jobs.c.status.in_(("Dispatched", "InProgress")), jobs.c.lease_expires_ms < now_ms)
        .order_by(jobs.c.lease_expires_ms)
        .limit(limit)
    ).mappings()
    return [_row(r) for r in rows]


def queued_types(conn: Connection) -> list[ActionTypeKey]:
    rows = conn.execute(
        select(jobs.c.category, jobs.c.owner, jobs.c.provider, jobs.c.version)
        .where(jobs.c.status == "Queued")
        .distinct()
    )
    return [ActionTypeKey(category=r[0], owner=r[1], provider=r[2], version=r[3]) for r in rows]


def delete_for_pipeline(conn: Connection, pipeline_name: str) -> None:
    conn.execute(jobs.delete().where(jobs.c.pipeline_name == pipeline_name))
