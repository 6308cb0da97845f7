"""Data access for pipelines and their kept versions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from stageline.store.schema import pipeline_versions, pipelines


@dataclass(frozen=True, kw_only=True)
class PipelineRow:
    name: str
    arn: str
    version: int
    pipeline_type: str
    execution_mode: str
    created_ms: int
    updated_ms: int


@dataclass(frozen=True, kw_only=True)
class StoredVersion:
    pipeline: PipelineRow
    version: int
    declaration: dict[str, Any]
    created_ms: int


def _row(r: Any) -> PipelineRow:
    return PipelineRow(
        name=r.name,
        arn=r.arn,
        version=r.version,
        pipeline_type=r.pipeline_type,
        execution_mode=r.execution_mode,
        created_ms=r.created_ms,
        updated_ms=r.updated_ms,
    )


_GET = select(pipelines).where(pipelines.c.name == bindparam("b_name"))
_GET_FOR_UPDATE = _GET.with_for_update()


def get(conn: Connection, name: str, *, for_update: bool = False) -> PipelineRow | None:
    query = _GET_FOR_UPDATE if for_update and conn.dialect.name == "postgresql" else _GET
    r = conn.execute(query, {"b_name": name}).first()
    return _row(r) if r else None


def get_version(
    conn: Connection, name: str, version: int | None = None, *, for_update: bool = False
) -> StoredVersion | None:
    """The declaration of ``version`` (the current one when None), in one query.

    ``for_update`` locks the pipeline row on PostgreSQL so that concurrent updates
    queue; SQLite's write transactions are already serialised (BEGIN IMMEDIATE).
    """
    if for_update and get(conn, name, for_update=True) is None:
        # Lock first, then read: on PostgreSQL a joined SELECT ... FOR UPDATE that waited for
        # the lock would re-check only the locked table and miss the version written meanwhile.
        return None
    wanted = pipeline_versions.c.version == (pipelines.c.version if version is None else version)
    query = (
        select(
            pipelines, pipeline_versions.c.declaration, pipeline_versions.c.created_ms.label("v_ms")
        )
        .join(pipeline_versions, pipeline_versions.c.pipeline_name == pipelines.c.name)
        .where(pipelines.c.name == name, wanted)
    )
    r = conn.execute(query).first()
    if r is None:
        return None
    row = _row(r)
    return StoredVersion(
        pipeline=row,
        version=row.version if version is None else version,
        declaration=json.loads(r.declaration),
        created_ms=r.v_ms,
    )


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(pipelines)).scalar_one())


def insert_pipeline(conn: Connection, row: PipelineRow, declaration: dict[str, Any]) -> None:
    conn.execute(
        insert(pipelines).values(
            name=row.name,
            arn=row.arn,
            version=row.version,
            pipeline_type=row.pipeline_type,
            execution_mode=row.execution_mode,
            created_ms=row.created_ms,
            updated_ms=row.updated_ms,
        )
    )
    _insert_version(conn, row.name, row.version, declaration, row.created_ms)


def add_version(
    conn: Connection, row: PipelineRow, declaration: dict[str, Any], now_ms: int
) -> PipelineRow:
    new = PipelineRow(
        name=row.name,
        arn=row.arn,
        version=row.version + 1,
        pipeline_type=declaration.get("pipelineType", "V1"),
        execution_mode=declaration.get("executionMode", "SUPERSEDED"),
        created_ms=row.created_ms,
        updated_ms=now_ms,
    )
    result = conn.execute(
        update(pipelines)
        .where(pipelines.c.name == row.name, pipelines.c.version == row.version)
        .values(
            version=new.version,
            pipeline_type=new.pipeline_type,
            execution_mode=new.execution_mode,
            updated_ms=now_ms,
        )
    )
    if result.rowcount != 1:
        raise ConcurrentUpdate(row.name)
    _insert_version(conn, row.name, new.version, declaration, now_ms)
    return new


class ConcurrentUpdate(Exception):
    """Another writer changed the pipeline between our read and our write."""


def _insert_version(
    conn: Connection, name: str, version: int, declaration: dict[str, Any], now_ms: int
) -> None:
    conn.execute(
        insert(pipeline_versions).values(
            pipeline_name=name,
            version=version,
            declaration=json.dumps(declaration, separators=(",", ":")),
            created_ms=now_ms,
        )
    )


def delete_pipeline(conn: Connection, name: str) -> bool:
    conn.execute(delete(pipeline_versions).where(pipeline_versions.c.pipeline_name == name))
    return conn.execute(delete(pipelines).where(pipelines.c.name == name)).rowcount > 0


def list_page(conn: Connection, *, after: str | None, limit: int) -> list[PipelineRow]:
    """Pipelines ordered by name, starting after ``after``; ``limit + 1`` rows tell if more exist."""
    query = select(pipelines).order_by(pipelines.c.name).limit(limit + 1)
    if after is not None:
        query = query.where(pipelines.c.name > after)
    return [_row(r) for r in conn.execute(query)]


def current_declarations(conn: Connection) -> list[tuple[str, dict[str, Any]]]:
    """Every pipeline's name and current declaration, by name, in one query (for the poller
    and the trigger router, which look through every pipeline)."""
    query = (
        select(pipelines.c.name, pipeline_versions.c.declaration)
        .join(
            pipeline_versions,
            (pipeline_versions.c.pipeline_name == pipelines.c.name)
            & (pipeline_versions.c.version == pipelines.c.version),
        )
        .order_by(pipelines.c.name)
    )
    return [(r.name, json.loads(r.declaration)) for r in conn.execute(query)]
