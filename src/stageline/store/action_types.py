"""Data access for custom action types (stored as AWS ActionType wire documents)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from stageline.definitions.catalog import ActionTypeKey
from stageline.store.schema import custom_action_types as table


@dataclass(frozen=True, kw_only=True)
class StoredActionType:
    key: ActionTypeKey
    declaration: dict[str, Any]
    deleted: bool
    created_ms: int
    updated_ms: int


def _where(key: ActionTypeKey) -> Any:
    return (
        (table.c.category == key.category)
        & (table.c.owner == key.owner)
        & (table.c.provider == key.provider)
        & (table.c.version == key.version)
    )


def _stored(r: Any) -> StoredActionType:
    return StoredActionType(
        key=ActionTypeKey(
            category=r.category, owner=r.owner, provider=r.provider, version=r.version
        ),
        declaration=json.loads(r.declaration),
        deleted=bool(r.deleted),
        created_ms=r.created_ms,
        updated_ms=r.updated_ms,
    )


def get(conn: Connection, key: ActionTypeKey) -> StoredActionType | None:
    r = conn.execute(select(table).where(_where(key))).first()
    return _stored(r) if r else None


def list_all(conn: Connection, *, include_deleted: bool = False) -> list[StoredActionType]:
    query = select(table).order_by(table.c.category, table.c.provider, table.c.version)
    if not include_deleted:
        query = query.where(table.c.deleted.is_(False))
    return [_stored(r) for r in conn.execute(query)]


def insert_type(
    conn: Connection, key: ActionTypeKey, declaration: dict[str, Any], now_ms: int
) -> None:
    conn.execute(
        insert(table).values(
            category=key.category,
            owner=key.owner,
            provider=key.provider,
            version=key.version,
            declaration=json.dumps(declaration),
            deleted=False,
            created_ms=now_ms,
            updated_ms=now_ms,
        )
    )


def replace(conn: Connection, key: ActionTypeKey, declaration: dict[str, Any], now_ms: int) -> None:
    conn.execute(
        update(table)
        .where(_where(key))
        .values(declaration=json.dumps(declaration), updated_ms=now_ms)
    )


def mark_deleted(conn: Connection, key: ActionTypeKey, now_ms: int) -> bool:
    result = conn.execute(
        update(table)
        .where(_where(key), table.c.deleted.is_(False))
        .values(deleted=True, updated_ms=now_ms)
    )
    return result.rowcount > 0


def restore(conn: Connection, key: ActionTypeKey, now_ms: int) -> None:
    """Undo a deletion (AWS restores a deleted custom type re-created identically)."""
    conn.execute(update(table).where(_where(key)).values(deleted=False, updated_ms=now_ms))
