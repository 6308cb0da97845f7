"""Data access for CodeBuild: projects, builds, report groups, reports and their items.

Documents are the AWS wire shapes as JSON text, without the members kept in
columns (dates, status); the service layer puts them back together.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from stageline.store.schema import build_projects, builds, report_groups, report_items, reports


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True, kw_only=True)
class ProjectRow:
    name: str
    arn: str
    document: dict[str, Any]
    build_counter: int
    created_ms: int
    modified_ms: int


@dataclass(frozen=True, kw_only=True)
class BuildRow:
    id: str
    project_name: str
    build_number: int
    status: str
    document: dict[str, Any]
    action_execution_id: str | None
    stop_requested: bool
    started_ms: int
    ended_ms: int | None


@dataclass(frozen=True, kw_only=True)
class ReportRow:
    arn: str
    report_group_arn: str
    build_id: str
    type: str
    status: str
    document: dict[str, Any]
    created_ms: int


# -- projects ---------------------------------------------------------------------------------


def insert_project(
    conn: Connection, *, name: str, arn: str, document: dict[str, Any], now_ms: int
) -> None:
    conn.execute(
        insert(build_projects).values(
            name=name,
            arn=arn,
            document=_dump(document),
            build_counter=0,
            created_ms=now_ms,
            modified_ms=now_ms,
        )
    )


def get_project(conn: Connection, name: str) -> ProjectRow | None:
    row = conn.execute(select(build_projects).where(build_projects.c.name == name)).first()
    return None if row is None else _project(row)


def get_projects(conn: Connection, names: Sequence[str]) -> dict[str, ProjectRow]:
    rows = conn.execute(select(build_projects).where(build_projects.c.name.in_(list(names))))
    return {row.name: _project(row) for row in rows}


def _project(row: Any) -> ProjectRow:
    return ProjectRow(
        name=row.name,
        arn=row.arn,
        document=json.loads(row.document),
        build_counter=row.build_counter,
        created_ms=row.created_ms,
        modified_ms=row.modified_ms,
    )


def update_project(conn: Connection, name: str, document: dict[str, Any], now_ms: int) -> None:
    conn.execute(
        update(build_projects)
        .where(build_projects.c.name == name)
        .values(document=_dump(document), modified_ms=now_ms)
    )


def delete_project(conn: Connection, name: str) -> bool:
    return conn.execute(delete(build_projects).where(build_projects.c.name == name)).rowcount > 0


def list_projects(conn: Connection, *, sort_by: str, descending: bool) -> list[str]:
    column = {
        "NAME": build_projects.c.name,
        "CREATED_TIME": build_projects.c.created_ms,
        "LAST_MODIFIED_TIME": build_projects.c.modified_ms,
    }[sort_by]
    order = column.desc() if descending else column.asc()
    rows = conn.execute(select(build_projects.c.name).order_by(order, build_projects.c.name))
    return [row.name for row in rows]


def next_build_number(conn: Connection, name: str) -> int:
    """Count one more build of the project (inside the caller's write transaction)."""
    conn.execute(
        update(build_projects)
        .where(build_projects.c.name == name)
        .values(build_counter=build_projects.c.build_counter + 1)
    )
    return int(
        conn.execute(
            select(build_projects.c.build_counter).where(build_projects.c.name == name)
        ).scalar_one()
    )


# -- builds -----------------------------------------------------------------------------------


def insert_build(
    conn: Connection,
    *,
    build_id: str,
    project_name: str,
    build_number: int,
    status: str,
    document: dict[str, Any],
    action_execution_id: str | None,
    started_ms: int,
) -> None:
    conn.execute(
        insert(builds).values(
            id=build_id,
            project_name=project_name,
            build_number=build_number,
            status=status,
            document=_dump(document),
            action_execution_id=action_execution_id,
            stop_requested=False,
            started_ms=started_ms,
            ended_ms=None,
        )
    )


def get_builds(conn: Connection, ids: Iterable[str]) -> dict[str, BuildRow]:
    rows = conn.execute(select(builds).where(builds.c.id.in_(list(ids))))
    return {row.id: _build(row) for row in rows}


def _build(row: Any) -> BuildRow:
    return BuildRow(
        id=row.id,
        project_name=row.project_name,
        build_number=row.build_number,
        status=row.status,
        document=json.loads(row.document),
        action_execution_id=row.action_execution_id,
        stop_requested=bool(row.stop_requested),
        started_ms=row.started_ms,
        ended_ms=row.ended_ms,
    )


def update_build(
    conn: Connection,
    build_id: str,
    *,
    document: dict[str, Any],
    status: str | None = None,
    ended_ms: int | None = None,
) -> None:
    values: dict[str, Any] = {"document": _dump(document)}
    if status is not None:
        values["status"] = status
    if ended_ms is not None:
        values["ended_ms"] = ended_ms
    conn.execute(update(builds).where(builds.c.id == build_id).values(**values))


def request_stop(conn: Connection, build_id: str) -> None:
    conn.execute(update(builds).where(builds.c.id == build_id).values(stop_requested=True))


def list_build_ids(conn: Connection, *, project: str | None, descending: bool) -> list[str]:
    query = select(builds.c.id)
    if project is not None:
        query = query.where(builds.c.project_name == project)
    order = (
        (builds.c.started_ms.desc(), builds.c.build_number.desc())
        if descending
        else (builds.c.started_ms.asc(), builds.c.build_number.asc())
    )
    return [row.id for row in conn.execute(query.order_by(*order))]


def unfinished_build_ids(conn: Connection) -> list[str]:
    return [row.id for row in conn.execute(select(builds.c.id).where(builds.c.ended_ms.is_(None)))]


# -- reports ----------------------------------------------------------------------------------


def ensure_report_group(
    conn: Connection, *, arn: str, name: str, project: str, kind: str, now_ms: int
) -> None:
    exists = conn.execute(select(report_groups.c.arn).where(report_groups.c.arn == arn)).first()
    if exists is None:
        conn.execute(
            insert(report_groups).values(
                arn=arn,
                name=name,
                project_name=project,
                type=kind,
                created_ms=now_ms,
                modified_ms=now_ms,
            )
        )


def get_report_groups(conn: Connection, arns: Sequence[str]) -> list[Any]:
    return list(conn.execute(select(report_groups).where(report_groups.c.arn.in_(list(arns)))))


def list_report_group_arns(conn: Connection, *, sort_by: str, descending: bool) -> list[str]:
    column = {
        "NAME": report_groups.c.name,
        "CREATED_TIME": report_groups.c.created_ms,
        "LAST_MODIFIED_TIME": report_groups.c.modified_ms,
    }[sort_by]
    order = column.desc() if descending else column.asc()
    return [r.arn for r in conn.execute(select(report_groups.c.arn).order_by(order))]


def insert_report(
    conn: Connection,
    row: ReportRow,
    items: Sequence[tuple[str | None, dict[str, Any]]],
) -> None:
    conn.execute(
        insert(reports).values(
            arn=row.arn,
            report_group_arn=row.report_group_arn,
            build_id=row.build_id,
            type=row.type,
            status=row.status,
            document=_dump(row.document),
            created_ms=row.created_ms,
        )
    )
    if items:
        conn.execute(
            insert(report_items),
            [
                {"report_arn": row.arn, "seq": n, "status": status, "document": _dump(doc)}
                for n, (status, doc) in enumerate(items)
            ],
        )
    conn.execute(
        update(report_groups)
        .where(report_groups.c.arn == row.report_group_arn)
        .values(modified_ms=row.created_ms)
    )


def get_reports(conn: Connection, arns: Sequence[str]) -> dict[str, ReportRow]:
    rows = conn.execute(select(reports).where(reports.c.arn.in_(list(arns))))
    return {row.arn: _report(row) for row in rows}


def _report(row: Any) -> ReportRow:
    return ReportRow(
        arn=row.arn,
        report_group_arn=row.report_group_arn,
        build_id=row.build_id,
        type=row.type,
        status=row.status,
        document=json.loads(row.document),
        created_ms=row.created_ms,
    )


def list_report_arns(
    conn: Connection, *, group_arn: str | None, status: str | None, descending: bool
) -> list[str]:
    query = select(reports.c.arn)
    if group_arn is not None:
        query = query.where(reports.c.report_group_arn == group_arn)
    if status is not None:
        query = query.where(reports.c.status == status)
    order = reports.c.created_ms.desc() if descending else reports.c.created_ms.asc()
    return [r.arn for r in conn.execute(query.order_by(order, reports.c.arn))]


def report_items_page(
    conn: Connection, report_arn: str, *, start: int, limit: int, status: str | None = None
) -> list[tuple[int, dict[str, Any]]]:
    query = select(report_items.c.seq, report_items.c.document).where(
        report_items.c.report_arn == report_arn, report_items.c.seq >= start
    )
    if status is not None:
        query = query.where(report_items.c.status == status)
    rows = conn.execute(query.order_by(report_items.c.seq).limit(limit))
    return [(row.seq, json.loads(row.document)) for row in rows]
