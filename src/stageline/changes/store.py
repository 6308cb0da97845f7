"""Data access for the last revision seen of each source action (``source_polls``)."""

from __future__ import annotations

from sqlalchemy import Connection, delete, select, update

from stageline.store.schema import source_polls


def last_revision(conn: Connection, pipeline_name: str, action_name: str) -> str | None:
    return conn.execute(
        select(source_polls.c.revision).where(
            source_polls.c.pipeline_name == pipeline_name,
            source_polls.c.action_name == action_name,
        )
    ).scalar_one_or_none()


def record(
    conn: Connection, pipeline_name: str, action_name: str, revision: str, now_ms: int
) -> None:
    changed = conn.execute(
        update(source_polls)
        .where(
            source_polls.c.pipeline_name == pipeline_name,
            source_polls.c.action_name == action_name,
        )
        .values(revision=revision, polled_ms=now_ms)
    ).rowcount
    if not changed:
        conn.execute(
            source_polls.insert().values(
                pipeline_name=pipeline_name,
                action_name=action_name,
                revision=revision,
                polled_ms=now_ms,
            )
        )


def forget_pipeline(conn: Connection, pipeline_name: str) -> None:
    conn.execute(delete(source_polls).where(source_polls.c.pipeline_name == pipeline_name))
