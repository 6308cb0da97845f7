"""Data access for resource tags (pipelines, custom action types, webhooks)."""

from __future__ import annotations

from sqlalchemy import Connection, delete, func, insert, select

from stageline.store.schema import tags


def list_tags(conn: Connection, arn: str) -> list[tuple[str, str]]:
    rows = conn.execute(
        select(tags.c.key, tags.c.value).where(tags.c.resource_arn == arn).order_by(tags.c.position)
    )
    return [(r.key, r.value) for r in rows]


def put_tags(conn: Connection, arn: str, items: list[tuple[str, str]]) -> None:
    """Add or overwrite tags; a new key goes after the existing ones."""
    existing = dict(list_tags(conn, arn))
    position = conn.execute(
        select(func.coalesce(func.max(tags.c.position), 0)).where(tags.c.resource_arn == arn)
    ).scalar_one()
    for key, value in items:
        if key in existing:
            conn.execute(
                tags.update()
                .where(tags.c.resource_arn == arn, tags.c.key == key)
                .values(value=value)
            )
        else:
            position += 1
            conn.execute(
                insert(tags).values(resource_arn=arn, key=key, value=value, position=position)
            )
        existing[key] = value


def remove_tags(conn: Connection, arn: str, keys: list[str]) -> None:
    if keys:
        conn.execute(delete(tags).where(tags.c.resource_arn == arn, tags.c.key.in_(keys)))


def remove_all(conn: Connection, arn: str) -> None:
    conn.execute(delete(tags).where(tags.c.resource_arn == arn))
