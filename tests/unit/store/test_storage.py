"""Storage on SQLite and PostgreSQL alike: migrations, versions, tags, paging."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import inspect

from stageline.arns import Arns
from stageline.clock import ManualClock
from stageline.errors import ApiError
from stageline.services.context import ServiceContext
from stageline.services.pipelines import PipelineService
from stageline.services.tags import TagService
from stageline.store import migrate
from stageline.store.db import Database
from tests.support.declarations import pipeline


@pytest.fixture
def ctx(database_url: str):  # type: ignore[no-untyped-def]
    db = Database(database_url)
    migrate.upgrade(db)
    yield ServiceContext(
        db=db, clock=ManualClock(), arns=Arns(region="us-east-1", account_id="123456789012")
    )
    db.dispose()


def test_migrations_create_every_table_and_downgrade_cleanly(database_url: str) -> None:
    db = Database(database_url)
    migrate.upgrade(db)
    names = set(inspect(db.engine).get_table_names())
    assert {"pipelines", "pipeline_versions", "tags", "custom_action_types"} <= names
    migrate.downgrade(db, "base")
    assert not {"pipelines", "pipeline_versions"} & set(inspect(db.engine).get_table_names())
    migrate.upgrade(db)
    db.dispose()


def test_every_version_is_kept_and_readable(ctx: ServiceContext) -> None:
    service = PipelineService(ctx)
    service.create(pipeline("p"), [])
    clock = ctx.clock
    assert isinstance(clock, ManualClock)
    for n in range(2, 5):
        clock.advance(seconds=1)
        decl = pipeline("p")
        decl["stages"][1]["actions"][0]["configuration"]["ProjectName"] = f"proj-{n}"
        assert service.update(decl).declaration["version"] == n
    for n in range(2, 5):
        got = service.get("p", n).declaration
        assert got["stages"][1]["actions"][0]["configuration"]["ProjectName"] == f"proj-{n}"
    latest = service.get("p")
    assert latest.declaration["version"] == 4
    assert latest.updated_ms - latest.created_ms == 3000
    with pytest.raises(ApiError) as info:
        service.get("p", 9)
    assert info.value.code == "PipelineVersionNotFoundException"


def test_listing_pages_through_every_pipeline_once(ctx: ServiceContext) -> None:
    service = PipelineService(ctx)
    for i in range(25):
        service.create(pipeline(f"p{i:02d}"), [])
    seen: list[str] = []
    token = None
    while True:
        rows, token = service.list(next_token=token, max_results=10)
        seen.extend(r.name for r in rows)
        if token is None:
            break
    assert seen == [f"p{i:02d}" for i in range(25)]


def test_tags_keep_their_order_and_go_with_the_pipeline(ctx: ServiceContext) -> None:
    pipelines, tags = PipelineService(ctx), TagService(ctx)
    view = pipelines.create(pipeline("tagged"), [{"key": "team", "value": "a"}])
    tags.tag(view.arn, [{"key": "env", "value": "prod"}, {"key": "team", "value": "b"}])
    assert tags.list(view.arn, next_token=None, max_results=None)[0] == [
        ("team", "b"),
        ("env", "prod"),
    ]
    pipelines.delete("tagged")
    pipelines.create(pipeline("tagged"), [])
    assert tags.list(view.arn, next_token=None, max_results=None)[0] == []


def test_concurrent_updates_never_lose_a_version(ctx: ServiceContext) -> None:
    service = PipelineService(ctx)
    service.create(pipeline("busy"), [])
    errors: list[Exception] = []

    def worker(n: int) -> None:
        for _ in range(5):
            try:
                service.update(pipeline("busy"))
            except ApiError as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert service.get("busy").declaration["version"] == 21


def test_concurrent_claims_never_hand_out_a_job_twice(ctx: ServiceContext) -> None:
    from stageline.definitions.catalog import ActionTypeKey
    from stageline.store import jobs as job_store

    key = ActionTypeKey(category="Build", owner="Custom", provider="Tool", version="1")
    with ctx.db.write() as conn:
        for i in range(300):
            job_store.insert_job(
                conn,
                id=f"job-{i:04d}",
                action_execution_id=f"a-{i}",
                execution_id="e",
                pipeline_name="p",
                category=key.category,
                owner=key.owner,
                provider=key.provider,
                version=key.version,
                region=None,
                status="Queued",
                nonce=None,
                worker=None,
                lease_expires_ms=None,
                attempts=0,
                data={"job": {}},
                client_token=None,
                created_ms=i,
                updated_ms=i,
            )
    claimed: list[str] = []
    lock = threading.Lock()

    def poller(n: int) -> None:
        while True:
            with ctx.db.write() as conn:
                got = job_store.claim(conn, key, worker=f"w{n}", limit=3, lease_ms=60_000, now_ms=1)
            if not got:
                return
            with lock:
                claimed.extend(j.id for j in got)

    threads = [threading.Thread(target=poller, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == 300
    assert len(set(claimed)) == 300
