"""Data access for connections and hosts (tables ``connections`` and ``connection_hosts``).

Rows hold the canonical (``codestar-connections``) ARN as their key; the
``document`` column keeps what has no column of its own (a host's
VpcConfiguration), as JSON text.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection as SqlConnection
from sqlalchemy import delete, func, insert, select, update

from stageline.connections.model import Connection, Host
from stageline.store.schema import connection_hosts, connections


def _host(row: Any) -> Host:
    document = json.loads(row.document or "{}")
    return Host(
        arn=row.arn,
        name=row.name,
        provider_type=row.provider_type,
        provider_endpoint=row.provider_endpoint,
        status=row.status,
        created_ms=row.created_ms,
        vpc_configuration=document.get("VpcConfiguration"),
    )


def _host_document(host: Host) -> str:
    document = {"VpcConfiguration": host.vpc_configuration} if host.vpc_configuration else {}
    return json.dumps(document, separators=(",", ":"))


def insert_host(conn: SqlConnection, host: Host) -> None:
    conn.execute(
        insert(connection_hosts).values(
            arn=host.arn,
            name=host.name,
            provider_type=host.provider_type,
            provider_endpoint=host.provider_endpoint,
            status=host.status,
            document=_host_document(host),
            created_ms=host.created_ms,
        )
    )


def save_host(conn: SqlConnection, host: Host) -> None:
    conn.execute(
        update(connection_hosts)
        .where(connection_hosts.c.arn == host.arn)
        .values(
            provider_endpoint=host.provider_endpoint,
            status=host.status,
            document=_host_document(host),
        )
    )


def get_host(conn: SqlConnection, arn: str) -> Host | None:
    row = conn.execute(select(connection_hosts).where(connection_hosts.c.arn == arn)).first()
    return _host(row) if row else None


def host_named(conn: SqlConnection, name: str) -> Host | None:
    row = conn.execute(select(connection_hosts).where(connection_hosts.c.name == name)).first()
    return _host(row) if row else None


def list_hosts(conn: SqlConnection) -> list[Host]:
    rows = conn.execute(
        select(connection_hosts).order_by(connection_hosts.c.created_ms, connection_hosts.c.arn)
    )
    return [_host(r) for r in rows]


def delete_host(conn: SqlConnection, arn: str) -> None:
    conn.execute(delete(connection_hosts).where(connection_hosts.c.arn == arn))


def _connection(row: Any) -> Connection:
    document = json.loads(row.document or "{}")
    return Connection(
        arn=row.arn,
        name=row.name,
        provider_type=row.provider_type,
        status=row.status,
        owner_account_id=document.get("OwnerAccountId", ""),
        created_ms=row.created_ms,
        host_arn=row.host_arn,
        endpoint=row.endpoint,
        credentials_secret=row.credentials_secret,
        webhook_secret=row.webhook_secret,
    )


def insert_connection(conn: SqlConnection, connection: Connection) -> None:
    conn.execute(
        insert(connections).values(
            arn=connection.arn,
            name=connection.name,
            provider_type=connection.provider_type,
            host_arn=connection.host_arn,
            status=connection.status,
            endpoint=connection.endpoint,
            credentials_secret=connection.credentials_secret,
            webhook_secret=connection.webhook_secret,
            document=json.dumps({"OwnerAccountId": connection.owner_account_id}),
            created_ms=connection.created_ms,
        )
    )


def save_settings(conn: SqlConnection, connection: Connection) -> None:
    conn.execute(
        update(connections)
        .where(connections.c.arn == connection.arn)
        .values(
            endpoint=connection.endpoint,
            credentials_secret=connection.credentials_secret,
            webhook_secret=connection.webhook_secret,
        )
    )


def get_connection(conn: SqlConnection, arn: str) -> Connection | None:
    row = conn.execute(select(connections).where(connections.c.arn == arn)).first()
    return _connection(row) if row else None


def connection_with_id(conn: SqlConnection, connection_id: str) -> Connection | None:
    """The connection whose ARN ends with ``:connection/<connection_id>`` (a webhook URL's id)."""
    row = conn.execute(
        select(connections)
        .where(connections.c.arn.endswith(f":connection/{connection_id}", autoescape=True))
        .order_by(connections.c.created_ms, connections.c.arn)
    ).first()
    return _connection(row) if row else None


def connection_named(conn: SqlConnection, name: str) -> Connection | None:
    row = conn.execute(select(connections).where(connections.c.name == name)).first()
    return _connection(row) if row else None


def list_connections(
    conn: SqlConnection, *, provider_type: str | None = None, host_arn: str | None = None
) -> list[Connection]:
    query = select(connections).order_by(connections.c.created_ms, connections.c.arn)
    if provider_type is not None:
        query = query.where(connections.c.provider_type == provider_type)
    if host_arn is not None:
        query = query.where(connections.c.host_arn == host_arn)
    return [_connection(r) for r in conn.execute(query)]


def count_connections_of_host(conn: SqlConnection, host_arn: str) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(connections).where(connections.c.host_arn == host_arn)
        ).scalar_one()
    )


def delete_connection(conn: SqlConnection, arn: str) -> None:
    conn.execute(delete(connections).where(connections.c.arn == arn))
