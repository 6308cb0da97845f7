"""A secret store on a real database (SQLite, and PostgreSQL when the suite has one)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stageline.arns import Arns
from stageline.clock import ManualClock
from stageline.secrets import SecretStore
from stageline.services.context import ServiceContext
from stageline.store import migrate
from stageline.store.db import Database

REGION, ACCOUNT = "eu-west-1", "111122223333"


@pytest.fixture
def ctx(database_url: str) -> Iterator[ServiceContext]:
    db = Database(database_url)
    migrate.upgrade(db)
    yield ServiceContext(db=db, clock=ManualClock(), arns=Arns(region=REGION, account_id=ACCOUNT))
    db.dispose()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(ctx: ServiceContext, data_dir: Path) -> SecretStore:
    """The store as the server opens it: its key in <data dir>/secret.key, made on first use."""
    return SecretStore.open(ctx, data_dir, environ={})


@pytest.fixture
def clock(ctx: ServiceContext) -> ManualClock:
    assert isinstance(ctx.clock, ManualClock)
    return ctx.clock
