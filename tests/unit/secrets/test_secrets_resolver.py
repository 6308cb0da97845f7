"""What a build gets for env.parameter-store and env.secrets-manager, and the errors when it cannot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from stageline.secrets import SecretStore
from stageline.secrets.model import ParameterType
from stageline.services.context import ServiceContext
from stageline.store import migrate
from stageline.store.db import Database
from stageline.store.schema import secret_versions, ssm_parameter_versions
from tests.unit.secrets.conftest import ACCOUNT, REGION

CREDS = json.dumps({"username": "admin", "password": "pa55word", "port": 5432})
SECRET_TABLES = {
    "ssm_parameters",
    "ssm_parameter_versions",
    "secrets",
    "secret_versions",
    "secret_version_stages",
}


def error_of(store: SecretStore, source: str, reference: str) -> str:
    with pytest.raises(Exception) as info:
        store.resolver(source, reference)  # type: ignore[arg-type]
    return str(info.value)


def test_parameters_resolve_by_name_version_or_arn_securestring_decrypted(
    store: SecretStore,
) -> None:
    store.parameters.put("/app/db/password", "first", type=ParameterType.SECURE_STRING)
    store.parameters.put("/app/db/password", "second", overwrite=True)
    store.parameters.put("region", "eu-west-1", type=ParameterType.STRING)
    resolve = store.resolver
    assert resolve("parameter-store", "/app/db/password") == "second"
    assert resolve("parameter-store", "/app/db/password:1") == "first"
    assert resolve("parameter-store", "region") == "eu-west-1"
    arn = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/db/password"
    assert resolve("parameter-store", arn) == "second"
    assert "does not exist" in error_of(store, "parameter-store", arn.replace(ACCOUNT, "9" * 12))


def test_secrets_resolve_with_json_key_stage_and_version(store: SecretStore) -> None:
    secret, first = store.secrets.create("db/creds", value=CREDS)
    store.secrets.put_value("db/creds", json.dumps({"username": "admin", "password": "n3w"}))
    resolve = store.resolver
    assert json.loads(resolve("secrets-manager", "db/creds"))["password"] == "n3w"
    assert resolve("secrets-manager", "db/creds:password") == "n3w"
    assert resolve("secrets-manager", "db/creds:password:AWSPREVIOUS") == "pa55word"
    assert resolve("secrets-manager", f"db/creds:password::{first}") == "pa55word"
    assert resolve("secrets-manager", f"{secret.arn}:username") == "admin"
    assert resolve("secrets-manager", "db/creds:port:AWSPREVIOUS") == "5432"


def test_errors_name_the_secret_and_the_fix_never_the_value(store: SecretStore) -> None:
    store.secrets.create("db/creds", value=CREDS)
    store.secrets.create("plain", value="not json at all")
    store.secrets.create("empty")
    missing = error_of(store, "secrets-manager", "nope:password")
    assert "secret 'nope' does not exist" in missing
    assert "`stageline secret put nope`" in missing
    no_key = error_of(store, "secrets-manager", "db/creds:pasword")
    assert "has no JSON key 'pasword'" in no_key and "password, port, username" in no_key
    assert "does not hold a JSON object" in error_of(store, "secrets-manager", "plain:key")
    assert "no version with the staging label 'AWSPENDING'" in error_of(
        store, "secrets-manager", "db/creds::AWSPENDING"
    )
    assert "has no value yet" in error_of(store, "secrets-manager", "empty")
    assert "no version 'v-1'" in error_of(store, "secrets-manager", "db/creds:::v-1")
    missing_parameter = error_of(store, "parameter-store", "/app/missing")
    assert "`stageline secret put /app/missing --kind parameter`" in missing_parameter
    store.secrets.delete("db/creds")
    assert "scheduled for deletion" in error_of(store, "secrets-manager", "db/creds")
    for message in (no_key, missing):
        assert "pa55word" not in message and "admin" not in message


def test_the_database_never_holds_a_plaintext_value(
    store: SecretStore, ctx: ServiceContext, database_url: str
) -> None:
    plaintexts = ["correct-horse-battery-staple", "S3cr3t-P4ram", "plain-string-value"]
    store.secrets.create("a", value=plaintexts[0])
    store.parameters.put("/b", plaintexts[1], type=ParameterType.SECURE_STRING)
    store.parameters.put("/c", plaintexts[2], type=ParameterType.STRING)
    with ctx.db.read() as conn:
        stored = [
            *conn.execute(select(secret_versions.c.ciphertext)).scalars(),
            *conn.execute(select(ssm_parameter_versions.c.ciphertext)).scalars(),
        ]
    assert len(stored) == 3
    for text in plaintexts:
        assert all(text not in token for token in stored)
    if database_url.startswith("sqlite"):
        ctx.db.dispose()  # checkpoint: the WAL's pages go into the file
        path = Path(database_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        for text in plaintexts:
            assert text.encode() not in raw
    assert store.resolver("parameter-store", "/c") == plaintexts[2]


def test_the_migration_creates_and_drops_the_secret_tables(database_url: str) -> None:
    db = Database(database_url)
    migrate.upgrade(db)
    assert set(inspect(db.engine).get_table_names()) >= SECRET_TABLES
    migrate.downgrade(db, "0003")
    assert not set(inspect(db.engine).get_table_names()) & SECRET_TABLES
    migrate.upgrade(db)
    db.dispose()
