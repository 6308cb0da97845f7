"""The event bus on a real database (SQLite and PostgreSQL) with a manual clock."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from stageline.arns import Arns
from stageline.clock import ManualClock
from stageline.events.bus import EventBus
from stageline.events.targets import Delivery, DeliveryFailed
from stageline.services.context import ServiceContext
from stageline.store import migrate
from stageline.store.db import Database

ACCOUNT = "123456789012"
REGION = "us-east-1"


class Recorder:
    """A target kind for tests (Arn ``test:NAME``): keeps what it gets, fails when told to."""

    kind = "test:NAME"

    def __init__(self) -> None:
        self.got: list[Delivery] = []
        self.failure: DeliveryFailed | None = None
        self._lock = threading.Lock()

    def handles(self, arn: str) -> bool:
        return arn.startswith("test:")

    def deliver(self, delivery: Delivery) -> None:
        if self.failure is not None:
            raise self.failure
        with self._lock:
            self.got.append(delivery)

    def inputs(self) -> list[str]:
        return [d.input for d in self.got]


def make_ctx(url: str, clock: ManualClock) -> ServiceContext:
    db = Database(url)
    migrate.upgrade(db)
    return ServiceContext(db=db, clock=clock, arns=Arns(region=REGION, account_id=ACCOUNT))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def ctx(database_url: str, clock: ManualClock) -> Iterator[ServiceContext]:
    context = make_ctx(database_url, clock)
    yield context
    context.db.dispose()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def bus(ctx: ServiceContext, recorder: Recorder) -> EventBus:
    """A bus delivering to the recorder, first retry after 1 s, no jitter."""
    return EventBus(ctx, retry_base_seconds=1.0, jitter=0.0, deliverers=[recorder])


def custom(source: str = "com.example.orders", **detail: Any) -> dict[str, Any]:
    """A PutEvents entry."""
    return {"Source": source, "DetailType": "Order Placed", "Detail": json.dumps(detail)}
