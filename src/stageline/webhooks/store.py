"""Data access for CodePipeline webhooks (the ``webhooks`` table of migration 0005).

``definition`` is the WebhookDefinition as given, SecretToken included: the
server needs it in clear to check signatures. Only the service decides what of
it a client may see.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from stageline.store.schema import webhooks


@dataclass(frozen=True, kw_only=True)
class WebhookRow:
    name: str
    arn: str
    token: str
    definition: dict[str, Any]
    registered: bool
    last_triggered_ms: int | None
    error_code: str | None
    error_message: str | None
    created_ms: int


def _row(r: Any) -> WebhookRow:
    return WebhookRow(
        name=r.name,
        arn=r.arn,
        token=r.token,
        definition=json.loads(r.definition),
        registered=bool(r.registered),
        last_triggered_ms=r.last_triggered_ms,
        error_code=r.error_code,
        error_message=r.error_message,
        created_ms=r.created_ms,
    )


def get(conn: Connection, name: str) -> WebhookRow | None:
    r = conn.execute(select(webhooks).where(webhooks.c.name == name)).first()
    return _row(r) if r else None


def by_token(conn: Connection, token: str) -> WebhookRow | None:
    r = conn.execute(select(webhooks).where(webhooks.c.token == token)).first()
    return _row(r) if r else None


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(webhooks)).scalar_one())


def insert_webhook(conn: Connection, row: WebhookRow) -> None:
    conn.execute(
        insert(webhooks).values(
            name=row.name,
            arn=row.arn,
            token=row.token,
            definition=_dump(row.definition),
            registered=row.registered,
            last_triggered_ms=row.last_triggered_ms,
            error_code=row.error_code,
            error_message=row.error_message,
            created_ms=row.created_ms,
        )
    )


def replace_definition(conn: Connection, name: str, definition: dict[str, Any]) -> None:
    """A new definition for an existing webhook; its URL, registration and history stay."""
    conn.execute(
        update(webhooks).where(webhooks.c.name == name).values(definition=_dump(definition))
    )


def delete_webhook(conn: Connection, name: str) -> bool:
    return conn.execute(delete(webhooks).where(webhooks.c.name == name)).rowcount > 0


def list_page(conn: Connection, *, after: str | None, limit: int) -> list[WebhookRow]:
    """Webhooks by name after ``after``; ``limit + 1`` rows tell whether more exist."""
    query = select(webhooks).order_by(webhooks.c.name).limit(limit + 1)
    if after is not None:
        query = query.where(webhooks.c.name > after)
    return [_row(r) for r in conn.execute(query)]


def set_registered(conn: Connection, name: str, registered: bool) -> None:
    conn.execute(update(webhooks).where(webhooks.c.name == name).values(registered=registered))


def record_trigger(conn: Connection, name: str, at_ms: int) -> None:
    """A delivery started the pipeline: lastTriggered moves and any earlier error clears."""
    conn.execute(
        update(webhooks)
        .where(webhooks.c.name == name)
        .values(last_triggered_ms=at_ms, error_code=None, error_message=None)
    )


def record_error(conn: Connection, name: str, code: str, message: str) -> None:
    conn.execute(
        update(webhooks)
        .where(webhooks.c.name == name)
        .values(error_code=code, error_message=message)
    )


def _dump(definition: dict[str, Any]) -> str:
    return json.dumps(definition, separators=(",", ":"))
