"""Server replicas on one PostgreSQL tell each other what changed, over LISTEN/NOTIFY.

The engine's and the pipeline service's listeners are per process: the console's
live hub, long-polling job workers, the in-process agent. With several replicas on
one database (DESIGN.md §1) each must also hear what the others committed, or a page
open on one replica misses an execution started through another, and a worker
long-polling one replica sleeps through a job queued through another.

A :class:`ChangeFeed` is one more relay of the engine and the pipeline service: each
change this process commits goes out as a ``NOTIFY`` on one channel. A thread holding
one dedicated ``LISTEN`` connection hands the other processes' messages to this
process's listeners (``Engine.notify_local`` and the like), never back to the relays,
so nothing echoes. Each message names the feed that sent it, so a process skips its
own. On SQLite there is one process and the feed does nothing.

When to notify: *after* the change has committed, in a small transaction of its own
sent from a background thread, not inside the change's own transaction (which
PostgreSQL would deliver at its commit). Both are correct — a receiver never hears of
a change it cannot read yet — but this one is simpler and cheaper:

* the engine and the pipeline service already tell their relays after commit, so
  neither learns about PostgreSQL or grows a hook inside its transactions;
* committing a transaction that notified takes one lock for the whole cluster (the
  notification queue's) until the commit ends, which would serialise every replica's
  engine commits; one sender per process, batching what piled up, takes it once per
  batch;
* a request never waits for the feed, and a feed in trouble never fails a request.

If the database goes away the listener logs it once, reconnects with back-off and,
once back, tells its listeners that anything may have changed (it cannot know what it
missed): pages re-render, pollers and agents look again. A message too big for
PostgreSQL's 8000-byte payload (impossible for names of at most 100 characters, but
checked anyway) goes out as the same "anything may have changed".
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import text

from stageline.store.db import Database

log = logging.getLogger("stageline.changefeed")

CHANNEL = "stageline_changes"
MAX_PAYLOAD_BYTES = 7999  # PostgreSQL refuses payloads of 8000 bytes or more
MAX_PENDING = 1000  # distinct unsent messages; past it they collapse into "anything changed"
VERSION = 1
# The listening connection stays idle for hours: TCP keepalives turn a peer that vanished
# without a word (a host gone, a NAT entry dropped) into an error within about a minute.
# The database URL's own settings win.
LISTEN_CONNECT_ARGS: dict[str, Any] = {
    "application_name": "stageline-changefeed",
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}
# A bind parameter, never formatting: a pipeline name is user input.
_NOTIFY = text("SELECT pg_notify(:channel, :payload)")

ExecutionsListener = Callable[[str, bool, bool], None]  # pipeline, jobs created, jobs cancelled
PipelineListener = Callable[[str], None]


class Kind(StrEnum):
    EXECUTIONS = "executions"  # Engine.notify: executions of a pipeline moved
    PIPELINE = "pipeline"  # UpdatePipeline or DeletePipeline committed
    ANYTHING = "anything"  # something the sender or receiver cannot name: assume every pipeline


@dataclass(frozen=True, kw_only=True)
class Message:
    """One change as it travels between processes."""

    origin: str
    kind: Kind
    pipeline: str | None = None
    jobs_created: bool = False
    jobs_cancelled: bool = False

    def encode(self) -> str:
        """Compact ASCII JSON (non-ASCII escaped, so any name survives any server encoding
        and NUL never reaches PostgreSQL), at most MAX_PAYLOAD_BYTES long."""
        fields: dict[str, Any] = {"v": VERSION, "origin": self.origin, "kind": self.kind.value}
        if self.kind is not Kind.ANYTHING:
            fields["pipeline"] = self.pipeline
        if self.kind is Kind.EXECUTIONS:
            fields["jobs_created"] = self.jobs_created
            fields["jobs_cancelled"] = self.jobs_cancelled
        payload = json.dumps(fields, separators=(",", ":"))
        if len(payload) > MAX_PAYLOAD_BYTES:  # ASCII: characters are bytes
            return Message(origin=self.origin, kind=Kind.ANYTHING).encode()
        return payload

    @classmethod
    def decode(cls, payload: str) -> Message | None:
        """The message, or None for anything else on the channel (another version, noise)."""
        try:
            fields = json.loads(payload)
        except ValueError:
            return None
        if not isinstance(fields, dict) or fields.get("v") != VERSION:
            return None
        origin, pipeline = fields.get("origin"), fields.get("pipeline")
        try:
            kind = Kind(str(fields.get("kind")))
        except ValueError:
            return None
        if not isinstance(origin, str):
            return None
        if kind is not Kind.ANYTHING and not isinstance(pipeline, str):
            return None
        return cls(
            origin=origin,
            kind=kind,
            pipeline=pipeline if kind is not Kind.ANYTHING else None,
            jobs_created=fields.get("jobs_created") is True,
            jobs_cancelled=fields.get("jobs_cancelled") is True,
        )


class ChangeFeed:
    """This process's changes out to the other replicas on its PostgreSQL, theirs in.

    Out: register :meth:`executions_changed` and :meth:`pipeline_changed` as relays.
    In: ``on_executions``, ``on_pipeline`` and ``on_anything`` are called from the
    feed's own thread, for other processes' messages only. ``start`` and ``stop``
    belong in the server's lifespan. See the module doc.
    """

    def __init__(
        self,
        db: Database,
        *,
        channel: str = CHANNEL,
        poll_s: float = 0.5,
        min_backoff_s: float = 0.25,
        max_backoff_s: float = 30.0,
    ) -> None:
        self.db = db
        self.channel = channel
        self.enabled = db.dialect == "postgresql"
        self.origin = uuid.uuid4().hex
        self.poll_s = poll_s  # how soon the listener notices stop()
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self.on_executions: list[ExecutionsListener] = []
        self.on_pipeline: list[PipelineListener] = []
        self.on_anything: list[Callable[[], None]] = []
        self.backend_pid: int | None = None  # of the listening connection, while it is up
        self._pending: dict[str, None] = {}  # payloads to send, in order, without repeats
        self._lock = threading.Lock()
        self._outbox = threading.Event()
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._first_attempt = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    # --- out ------------------------------------------------------------------------------

    def executions_changed(
        self, pipeline_name: str, jobs_created: bool, jobs_cancelled: bool = False
    ) -> None:
        """The engine's relay (``Engine.relays``)."""
        self._publish(
            Message(
                origin=self.origin,
                kind=Kind.EXECUTIONS,
                pipeline=pipeline_name,
                jobs_created=jobs_created,
                jobs_cancelled=jobs_cancelled,
            )
        )

    def pipeline_changed(self, name: str) -> None:
        """The pipeline service's relay (``PipelineService.relays``)."""
        self._publish(Message(origin=self.origin, kind=Kind.PIPELINE, pipeline=name))

    def _publish(self, message: Message) -> None:
        """Queue for the sender thread; never blocks on the database."""
        if not self.enabled:
            return
        with self._lock:
            self._queue([message.encode()])
        self._outbox.set()

    def _queue(self, payloads: list[str]) -> None:
        """Add to the pending payloads (holding the lock), collapsing them if they pile up."""
        for payload in payloads:
            self._pending[payload] = None
        if len(self._pending) > MAX_PENDING:
            anything = Message(origin=self.origin, kind=Kind.ANYTHING).encode()
            self._pending = {anything: None}

    def _send_loop(self) -> None:
        backoff = self.min_backoff_s
        failing = False
        while True:
            self._outbox.wait()
            # Read before taking the batch: once stop() is seen, the batch holds all it must send.
            stopping = self._stop.is_set()
            with self._lock:
                batch = list(self._pending)
                self._pending.clear()
                self._outbox.clear()
            if batch:
                try:
                    self._send(batch)
                except Exception as exc:
                    if stopping:
                        log.warning(
                            "change feed: %d change(s) unsent at shutdown: %s", len(batch), exc
                        )
                        return
                    if not failing:
                        log.warning(
                            "change feed: cannot tell other replicas about changes (%s); retrying",
                            str(exc).strip(),
                        )
                    failing = True
                    with self._lock:
                        unsent, self._pending = self._pending, {}
                        self._queue([*batch, *unsent])
                    self._outbox.set()
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, self.max_backoff_s)
                    continue
                if failing:
                    log.info("change feed: telling other replicas about changes again")
                failing = False
                backoff = self.min_backoff_s
            if stopping:
                return

    def _send(self, payloads: list[str]) -> None:
        """One transaction: PostgreSQL delivers its notifications when it commits."""
        with self.db.engine.connect() as conn:
            conn.execute(_NOTIFY, [{"channel": self.channel, "payload": p} for p in payloads])
            conn.commit()

    # --- in -------------------------------------------------------------------------------

    def _listen_loop(self) -> None:
        backoff = self.min_backoff_s
        missed = False  # a connection failed: the next one may have missed messages
        while not self._stop.is_set():
            try:
                self._listen(missed=missed)
                return  # stopped
            except Exception as exc:
                was_listening = self._listening.is_set()
                self._listening.clear()
                self.backend_pid = None
                self._first_attempt.set()
                if self._stop.is_set():
                    return
                if was_listening:
                    backoff = self.min_backoff_s
                if was_listening or not missed:  # once per outage, not once per attempt
                    if isinstance(exc, psycopg.OperationalError):
                        log.warning(
                            "change feed: lost its database connection (%s); changes made "
                            "through other replicas reach this one again once it is back",
                            str(exc).strip(),
                        )
                    else:
                        log.exception("change feed: listening failed")
                else:
                    log.debug("change feed: still cannot listen: %s", exc)
                missed = True
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)

    def _listen(self, *, missed: bool) -> None:
        """Hold one LISTEN connection until stop() (returns) or an error (raises)."""
        cargs, cparams = self.db.engine.dialect.create_connect_args(self.db.engine.url)
        conn = psycopg.connect(*cargs, **{**LISTEN_CONNECT_ARGS, **cparams, "autocommit": True})
        try:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            self.backend_pid = conn.info.backend_pid
            self._listening.set()
            self._first_attempt.set()
            if missed:
                log.info("change feed: listening again")
                _call_each(self.on_anything)
            while not self._stop.is_set():
                for notify in conn.notifies(timeout=self.poll_s):
                    self._receive(notify.payload)
        finally:
            conn.close()
        self._listening.clear()
        self.backend_pid = None

    def _receive(self, payload: str) -> None:
        message = Message.decode(payload)
        if message is None:
            log.debug("change feed: ignoring a message it cannot read: %.200r", payload)
        elif message.origin == self.origin:
            return  # this process's own change: its listeners heard it when it committed
        elif message.kind is Kind.EXECUTIONS:
            _call_each(
                self.on_executions,
                message.pipeline,
                message.jobs_created,
                message.jobs_cancelled,
            )
        elif message.kind is Kind.PIPELINE:
            _call_each(self.on_pipeline, message.pipeline)
        else:
            _call_each(self.on_anything)

    # --- lifecycle ------------------------------------------------------------------------

    def start(self, *, ready_timeout_s: float = 10.0) -> None:
        """Start sending and listening; return once listening (or its first attempt failed),
        so a server that answers requests already hears the other replicas."""
        if not self.enabled or self._threads:
            return
        self._stop.clear()
        self._first_attempt.clear()
        for target, name in ((self._send_loop, "send"), (self._listen_loop, "listen")):
            thread = threading.Thread(target=target, name=f"changefeed-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self._first_attempt.wait(ready_timeout_s)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Send what is pending, stop listening."""
        self._stop.set()
        self._outbox.set()
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads.clear()
        self._listening.clear()


def _call_each(listeners: Sequence[Callable[..., None]], *args: Any) -> None:
    for listener in listeners:
        try:
            listener(*args)
        except Exception:  # one broken listener must not silence the others
            log.exception("change feed: a listener failed")
