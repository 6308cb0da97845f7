"""Data access for parameters and secrets: rows in, rows out, values only as ciphertext.

SQLAlchemy Core over the tables in ``store/schema.py``; the callers
(``parameters.py``, ``manager.py``) own the transactions and the rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from stageline.secrets.model import ParameterType, SecretVersion
from stageline.store.schema import (
    secret_version_stages,
    secret_versions,
    secrets,
    ssm_parameter_versions,
    ssm_parameters,
)

# -- parameters ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ParameterRow:
    name: str
    type: ParameterType
    version: int
    description: str | None
    key_id: str | None
    allowed_pattern: str | None
    tier: str
    data_type: str
    modified_ms: int


def _parameter(r: Any) -> ParameterRow:
    return ParameterRow(
        name=r.name,
        type=ParameterType(r.type),
        version=r.version,
        description=r.description,
        key_id=r.key_id,
        allowed_pattern=r.allowed_pattern,
        tier=r.tier,
        data_type=r.data_type,
        modified_ms=r.modified_ms,
    )


def get_parameter(conn: Connection, name: str, *, for_update: bool = False) -> ParameterRow | None:
    query = select(ssm_parameters).where(ssm_parameters.c.name == name)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    r = conn.execute(query).first()
    return _parameter(r) if r else None


def list_parameters(conn: Connection) -> list[ParameterRow]:
    return [
        _parameter(r) for r in conn.execute(select(ssm_parameters).order_by(ssm_parameters.c.name))
    ]


def save_parameter(conn: Connection, row: ParameterRow, *, new: bool) -> None:
    values = {
        "type": row.type.value,
        "version": row.version,
        "description": row.description,
        "key_id": row.key_id,
        "allowed_pattern": row.allowed_pattern,
        "tier": row.tier,
        "data_type": row.data_type,
        "modified_ms": row.modified_ms,
    }
    if new:
        conn.execute(insert(ssm_parameters).values(name=row.name, **values))
    else:
        conn.execute(
            update(ssm_parameters).where(ssm_parameters.c.name == row.name).values(**values)
        )


def add_parameter_version(
    conn: Connection, row: ParameterRow, ciphertext: str, *, keep: int
) -> None:
    """Store ``row.version``'s value; only the newest ``keep`` versions stay, as on AWS."""
    conn.execute(
        insert(ssm_parameter_versions).values(
            name=row.name,
            version=row.version,
            type=row.type.value,
            ciphertext=ciphertext,
            modified_ms=row.modified_ms,
        )
    )
    conn.execute(
        delete(ssm_parameter_versions).where(
            ssm_parameter_versions.c.name == row.name,
            ssm_parameter_versions.c.version <= row.version - keep,
        )
    )


@dataclass(frozen=True, kw_only=True)
class ParameterValueRow:
    version: int
    type: ParameterType
    ciphertext: str
    modified_ms: int


def parameter_version(conn: Connection, name: str, version: int) -> ParameterValueRow | None:
    r = conn.execute(
        select(ssm_parameter_versions).where(
            ssm_parameter_versions.c.name == name, ssm_parameter_versions.c.version == version
        )
    ).first()
    if r is None:
        return None
    return ParameterValueRow(
        version=r.version,
        type=ParameterType(r.type),
        ciphertext=r.ciphertext,
        modified_ms=r.modified_ms,
    )


def delete_parameter(conn: Connection, name: str) -> bool:
    conn.execute(delete(ssm_parameter_versions).where(ssm_parameter_versions.c.name == name))
    return conn.execute(delete(ssm_parameters).where(ssm_parameters.c.name == name)).rowcount > 0


# -- secrets ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SecretRow:
    arn: str
    name: str
    description: str | None
    tags: tuple[tuple[str, str], ...]
    created_ms: int
    changed_ms: int
    deleted_ms: int | None
    purge_ms: int | None


def _secret(r: Any) -> SecretRow:
    return SecretRow(
        arn=r.arn,
        name=r.name,
        description=r.description,
        tags=tuple((k, v) for k, v in json.loads(r.tags)),
        created_ms=r.created_ms,
        changed_ms=r.changed_ms,
        deleted_ms=r.deleted_ms,
        purge_ms=r.purge_ms,
    )


def find_secret(
    conn: Connection, *, name: str | None = None, arn: str | None = None, for_update: bool = False
) -> SecretRow | None:
    query = select(secrets)
    query = (
        query.where(secrets.c.name == name)
        if name is not None
        else query.where(secrets.c.arn == arn)
    )
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    r = conn.execute(query).first()
    return _secret(r) if r else None


def list_secrets(conn: Connection) -> list[SecretRow]:
    return [
        _secret(r)
        for r in conn.execute(select(secrets).order_by(secrets.c.created_ms, secrets.c.name))
    ]


def insert_secret(conn: Connection, row: SecretRow) -> None:
    conn.execute(
        insert(secrets).values(
            arn=row.arn,
            name=row.name,
            description=row.description,
            tags=json.dumps([list(t) for t in row.tags]),
            created_ms=row.created_ms,
            changed_ms=row.changed_ms,
            deleted_ms=row.deleted_ms,
            purge_ms=row.purge_ms,
        )
    )


def update_secret(conn: Connection, arn: str, **values: Any) -> None:
    if "tags" in values:
        values["tags"] = json.dumps([list(t) for t in values["tags"]])
    conn.execute(update(secrets).where(secrets.c.arn == arn).values(**values))


def delete_secret(conn: Connection, arn: str) -> None:
    conn.execute(delete(secret_version_stages).where(secret_version_stages.c.secret_arn == arn))
    conn.execute(delete(secret_versions).where(secret_versions.c.secret_arn == arn))
    conn.execute(delete(secrets).where(secrets.c.arn == arn))


def purge_expired(conn: Connection, now_ms: int) -> None:
    """Delete the secrets whose recovery window has ended."""
    expired = conn.execute(
        select(secrets.c.arn).where(secrets.c.purge_ms.is_not(None), secrets.c.purge_ms <= now_ms)
    ).scalars()
    for arn in list(expired):
        delete_secret(conn, arn)


def secret_versions_of(conn: Connection, arns: list[str]) -> dict[str, list[SecretVersion]]:
    """Each secret's versions with their staging labels, newest first."""
    if not arns:
        return {}
    stages: dict[tuple[str, str], list[str]] = {}
    for r in conn.execute(
        select(secret_version_stages)
        .where(secret_version_stages.c.secret_arn.in_(arns))
        .order_by(secret_version_stages.c.stage)
    ):
        stages.setdefault((r.secret_arn, r.version_id), []).append(r.stage)
    out: dict[str, list[SecretVersion]] = {arn: [] for arn in arns}
    for r in conn.execute(
        select(
            secret_versions.c.secret_arn, secret_versions.c.version_id, secret_versions.c.created_ms
        )
        .where(secret_versions.c.secret_arn.in_(arns))
        .order_by(secret_versions.c.secret_arn, secret_versions.c.seq.desc())
    ):
        out[r.secret_arn].append(
            SecretVersion(
                version_id=r.version_id,
                stages=tuple(stages.get((r.secret_arn, r.version_id), ())),
                created_ms=r.created_ms,
            )
        )
    return out


def version_ciphertext(conn: Connection, arn: str, version_id: str) -> str | None:
    return conn.execute(
        select(secret_versions.c.ciphertext).where(
            secret_versions.c.secret_arn == arn, secret_versions.c.version_id == version_id
        )
    ).scalar_one_or_none()


def add_secret_version(
    conn: Connection, arn: str, version_id: str, ciphertext: str, now_ms: int
) -> None:
    seq = conn.execute(
        select(func.coalesce(func.max(secret_versions.c.seq), 0)).where(
            secret_versions.c.secret_arn == arn
        )
    ).scalar_one()
    conn.execute(
        insert(secret_versions).values(
            secret_arn=arn,
            version_id=version_id,
            seq=seq + 1,
            ciphertext=ciphertext,
            created_ms=now_ms,
        )
    )


def stage_owners(conn: Connection, arn: str) -> dict[str, str]:
    """stage -> version id, for one secret."""
    rows = conn.execute(
        select(secret_version_stages.c.stage, secret_version_stages.c.version_id).where(
            secret_version_stages.c.secret_arn == arn
        )
    )
    return {r.stage: r.version_id for r in rows}


def move_stage(conn: Connection, arn: str, stage: str, version_id: str) -> None:
    conn.execute(
        delete(secret_version_stages).where(
            secret_version_stages.c.secret_arn == arn, secret_version_stages.c.stage == stage
        )
    )
    conn.execute(
        insert(secret_version_stages).values(secret_arn=arn, stage=stage, version_id=version_id)
    )


def prune_secret_versions(conn: Connection, arn: str, *, keep: int) -> None:
    """Drop the oldest versions without a staging label once there are more than ``keep``."""
    labelled = set(stage_owners(conn, arn).values())
    ids = conn.execute(
        select(secret_versions.c.version_id)
        .where(secret_versions.c.secret_arn == arn)
        .order_by(secret_versions.c.seq.desc())
    ).scalars()
    surplus = [v for v in list(ids)[keep:] if v not in labelled]
    if surplus:
        conn.execute(
            delete(secret_versions).where(
                secret_versions.c.secret_arn == arn, secret_versions.c.version_id.in_(surplus)
            )
        )


# -- both ------------------------------------------------------------------------------------


def some_ciphertext(conn: Connection) -> str | None:
    """Any one stored ciphertext (to check the key at start), or None when nothing is stored."""
    for column in (ssm_parameter_versions.c.ciphertext, secret_versions.c.ciphertext):
        found = conn.execute(select(column).limit(1)).scalar_one_or_none()
        if found is not None:
            return str(found)
    return None
