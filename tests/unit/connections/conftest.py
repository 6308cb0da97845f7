"""A connection service on a real database and secret store, and real remote repositories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stageline.arns import Arns
from stageline.clock import ManualClock
from stageline.connections import ConnectionService
from stageline.secrets import SecretStore
from stageline.services.context import ServiceContext
from stageline.store import migrate
from stageline.store.db import Database
from tests.support.git import GitClient
from tests.unit.connections.remotes import RemoteRepos

REGION, ACCOUNT = "eu-west-1", "111122223333"


@pytest.fixture
def ctx(database_url: str) -> Iterator[ServiceContext]:
    db = Database(database_url)
    migrate.upgrade(db)
    yield ServiceContext(db=db, clock=ManualClock(), arns=Arns(region=REGION, account_id=ACCOUNT))
    db.dispose()


@pytest.fixture
def secrets(ctx: ServiceContext, tmp_path: Path) -> SecretStore:
    return SecretStore.open(ctx, tmp_path / "data", environ={})


@pytest.fixture
def remotes(tmp_path: Path) -> RemoteRepos:
    return RemoteRepos(tmp_path / "remote", GitClient(tmp_path / "git-home"))


@pytest.fixture
def service(ctx: ServiceContext, secrets: SecretStore, remotes: RemoteRepos) -> ConnectionService:
    """GitHub connections fetch from the ``remotes`` directory, as --github-url file://... does."""
    remotes.root.mkdir(parents=True, exist_ok=True)
    return ConnectionService(ctx, secrets=secrets, github_url=remotes.url)
