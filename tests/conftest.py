"""Fixtures shared by the whole suite: a real server process, real clients, both databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import ServerProcess, start_server

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
POSTGRES_URL = os.environ.get("STAGELINE_TEST_POSTGRES_URL")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if POSTGRES_URL:
        return
    skip = pytest.mark.skip(reason="STAGELINE_TEST_POSTGRES_URL is not set (make test sets it)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real `stageline server` process on a free loopback port with its own data dir."""
    proc = start_server(tmp_path_factory.mktemp("server"))
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def cp(server: ServerProcess):  # type: ignore[no-untyped-def]
    """A boto3 codepipeline client pointed at the test server."""
    return server.client("codepipeline")


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]


def _postgres_database() -> Iterator[str]:
    from sqlalchemy import create_engine, text

    assert POSTGRES_URL
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty database in the throw-away cluster that `make test` starts."""
    if not POSTGRES_URL:
        pytest.skip("STAGELINE_TEST_POSTGRES_URL is not set (make test sets it)")
    yield from _postgres_database()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each storage test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
    else:
        yield from _postgres_database()
