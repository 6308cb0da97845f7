"""The change feed: replicas on one PostgreSQL hear each other's changes; SQLite needs none."""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from stageline.arns import Arns
from stageline.clock import ManualClock
from stageline.engine.core import Engine
from stageline.services.context import ServiceContext
from stageline.store.changefeed import MAX_PAYLOAD_BYTES, ChangeFeed, Kind, Message
from stageline.store.db import Database
from tests.support.pipelines import wait_until

HOSTILE_NAMES = [
    "it's; DROP TABLE pipelines; --",
    'say "hello" \\ $$ $tag$ %s {0}',
    "ünïcödé ☃ 名前 🚀",
    "line\nbreak\ttab\x00nul",
]


class Heard:
    """Everything a feed hands to this process's listeners, in order, from its thread."""

    def __init__(self, feed: ChangeFeed) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self._lock = threading.Lock()
        feed.on_executions.append(lambda *args: self._add("executions", *args))
        feed.on_pipeline.append(lambda name: self._add("pipeline", name))
        feed.on_anything.append(lambda: self._add("anything"))

    def _add(self, *call: Any) -> None:
        with self._lock:
            self.calls.append(call)

    def now(self) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self.calls)

    def wait_for(self, call: tuple[Any, ...], timeout: float = 10) -> list[tuple[Any, ...]]:
        return wait_until(lambda: self.now() if call in self.now() else None, timeout)


# --- messages (no database) -------------------------------------------------------------


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_message_round_trips_any_name_as_ascii(name: str) -> None:
    sent = Message(origin="o", kind=Kind.EXECUTIONS, pipeline=name, jobs_created=True)
    payload = sent.encode()
    assert payload.isascii() and "\x00" not in payload
    assert Message.decode(payload) == sent


def test_a_message_too_big_for_postgresql_says_anything_changed() -> None:
    payload = Message(origin="o", kind=Kind.PIPELINE, pipeline="é" * 2000).encode()
    assert len(payload.encode()) <= MAX_PAYLOAD_BYTES
    assert Message.decode(payload) == Message(origin="o", kind=Kind.ANYTHING)


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "not json",
        "[1]",
        '{"v": 2, "origin": "o", "kind": "pipeline", "pipeline": "p"}',
        '{"v": 1, "origin": "o", "kind": "explode", "pipeline": "p"}',
        '{"v": 1, "origin": "o", "kind": "pipeline", "pipeline": 7}',
        '{"v": 1, "kind": "pipeline", "pipeline": "p"}',
    ],
)
def test_anything_else_on_the_channel_is_ignored(payload: str) -> None:
    assert Message.decode(payload) is None


def test_on_sqlite_the_feed_does_nothing(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'one.db'}")
    feed = ChangeFeed(db)
    feed.start()
    try:
        feed.executions_changed("p", True)
        assert not feed.enabled and not feed.listening
        assert not [t for t in threading.enumerate() if t.name.startswith("changefeed")]
    finally:
        feed.stop()
        db.dispose()


# --- on PostgreSQL --------------------------------------------------------------------------


@pytest.fixture
def feeds(postgres_url: str) -> Iterator[Callable[[], ChangeFeed]]:
    """Feeds on one fresh database, as if each were another server process; all listening."""
    made: list[ChangeFeed] = []
    databases: list[Database] = []

    def make() -> ChangeFeed:
        db = Database(postgres_url)
        databases.append(db)
        feed = ChangeFeed(db, min_backoff_s=0.05, max_backoff_s=0.5, poll_s=0.1)
        made.append(feed)
        feed.start()
        assert feed.listening
        return feed

    yield make
    for feed in made:
        feed.stop()
    for db in databases:
        db.dispose()


def test_a_change_reaches_the_other_processes_listeners(feeds: Callable[[], ChangeFeed]) -> None:
    a, b = feeds(), feeds()
    heard = Heard(b)
    a.executions_changed("build-app", True, False)
    a.executions_changed("deploy-app", False, True)
    a.pipeline_changed("build-app")
    calls = heard.wait_for(("pipeline", "build-app"))
    assert calls == [
        ("executions", "build-app", True, False),
        ("executions", "deploy-app", False, True),
        ("pipeline", "build-app"),
    ]


def test_a_process_ignores_its_own_messages(feeds: Callable[[], ChangeFeed]) -> None:
    a, b = feeds(), feeds()
    heard_by_a = Heard(a)
    a.pipeline_changed("mine")
    b.pipeline_changed("theirs")  # sent after a's message, so a reads its own first
    assert heard_by_a.wait_for(("pipeline", "theirs")) == [("pipeline", "theirs")]


def test_hostile_names_cross_unharmed(feeds: Callable[[], ChangeFeed]) -> None:
    a, b = feeds(), feeds()
    heard = Heard(b)
    for name in HOSTILE_NAMES:
        a.pipeline_changed(name)
    a.pipeline_changed("last")
    calls = heard.wait_for(("pipeline", "last"))
    assert calls == [*(("pipeline", n) for n in HOSTILE_NAMES), ("pipeline", "last")]


def test_a_name_too_long_for_a_payload_arrives_as_anything_changed(
    feeds: Callable[[], ChangeFeed],
) -> None:
    a, b = feeds(), feeds()
    heard = Heard(b)
    a.pipeline_changed("x" * 9000)
    assert heard.wait_for(("anything",)) == [("anything",)]


def test_the_listener_comes_back_after_its_connection_is_killed(
    feeds: Callable[[], ChangeFeed], postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = feeds(), feeds()
    heard = Heard(b)
    killed = b.backend_pid
    admin = Database(postgres_url)
    try:
        with caplog.at_level(logging.INFO, logger="stageline.changefeed"):
            with admin.write() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": killed})
            # It cannot know what it missed meanwhile, so it says anything may have changed.
            heard.wait_for(("anything",))
            assert b.listening and b.backend_pid not in (None, killed)
            a.executions_changed("after", True, False)
            assert heard.wait_for(("executions", "after", True, False)) == [
                ("anything",),
                ("executions", "after", True, False),
            ]
    finally:
        admin.dispose()
    lost = [r for r in caplog.records if "lost its database connection" in r.getMessage()]
    assert len(lost) == 1 and lost[0].levelno == logging.WARNING


def test_the_listener_keeps_trying_while_the_database_refuses_it(
    feeds: Callable[[], ChangeFeed], postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Refused attempt after attempt: one warning for the outage, and back afterwards."""
    a, b = feeds(), feeds()
    heard = Heard(b)
    database = f'"{make_url(postgres_url).database}"'
    # A database cannot refuse connections to itself: this is said from the cluster's own.
    admin = Database(os.environ["STAGELINE_TEST_POSTGRES_URL"])

    def refused() -> int:
        return sum("still cannot listen" in r.getMessage() for r in caplog.records)

    try:
        with caplog.at_level(logging.DEBUG, logger="stageline.changefeed"):
            with admin.write() as conn:  # open connections (the senders') stay
                conn.execute(text(f"ALTER DATABASE {database} WITH ALLOW_CONNECTIONS false"))
            with admin.write() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": b.backend_pid})
            wait_until(lambda: refused() >= 3)
            with admin.write() as conn:
                conn.execute(text(f"ALTER DATABASE {database} WITH ALLOW_CONNECTIONS true"))
            wait_until(lambda: b.listening)
            a.pipeline_changed("back")
            heard.wait_for(("pipeline", "back"))
    finally:
        admin.dispose()
    lost = [r for r in caplog.records if "lost its database connection" in r.getMessage()]
    assert len(lost) == 1


def test_changes_reach_the_other_engine_once_and_never_echo(
    feeds: Callable[[], ChangeFeed], postgres_url: str
) -> None:
    """Wired as the server wires them: relays out, notify_local in."""
    engines: list[tuple[Engine, list[str], list[str]]] = []
    for feed in (feeds(), feeds()):
        db = Database(postgres_url)
        arns = Arns(region="us-east-1", account_id="123456789012")
        engine = Engine(ServiceContext(db=db, clock=ManualClock(), arns=arns))
        changed: list[str] = []
        woken: list[str] = []
        engine.listeners.append(changed.append)
        engine.job_listeners.append(functools.partial(woken.append, "jobs"))
        engine.cancel_listeners.append(functools.partial(woken.append, "cancelled"))
        engine.relays.append(feed.executions_changed)
        feed.on_executions.append(engine.notify_local)
        engines.append((engine, changed, woken))
    (engine_a, changed_a, woken_a), (engine_b, changed_b, woken_b) = engines
    try:
        engine_a.notify("p", True, True)
        wait_until(lambda: changed_b == ["p"] and woken_b == ["jobs", "cancelled"])
        engine_b.notify("sentinel", False)  # sent after any echo b would have sent of "p"
        wait_until(lambda: "sentinel" in changed_a)
        assert changed_a == ["p", "sentinel"]
        assert woken_a == ["jobs", "cancelled"]
        assert changed_b == ["p", "sentinel"]
    finally:
        for engine, _, _ in engines:
            engine.ctx.db.dispose()
