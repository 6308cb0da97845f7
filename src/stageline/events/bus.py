"""The event bus: publishes the outbox to the rules and delivers to their targets.

One background thread publishes (outbox -> deliveries), fires scheduled rules, claims due
deliveries and records their outcomes; a few worker threads do the deliveries themselves,
so one slow target does not hold the others up. :meth:`wake` (after a commit that wrote
events) makes the thread look at once; otherwise it looks every ``wait_seconds``. Tests
call :meth:`tick` instead, with a manual clock: one full pass, delivered in the caller's
thread.

Every delivery is kept until it succeeds or ends in the dead-letter queue (status FAILED),
which is on for every target, DeadLetterConfig or not (DESIGN.md §4): list it with
:meth:`dead_letters`, retry with :meth:`redrive`.
"""

from __future__ import annotations

import json
import logging
import queue
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stageline.events import deliveries
from stageline.events.courier import DEFAULT_LEASE_S, Attempt, Claimed, Counts, Courier
from stageline.events.ingest import EntryResult, put_events
from stageline.events.publish import Publisher
from stageline.events.retry import DEFAULT_MAX_DELAY_S, Backoff
from stageline.events.rules import RuleService
from stageline.events.schedules import ScheduleRunner
from stageline.events.targets import CommandDeliverer, Deliverer, HttpDeliverer
from stageline.services.context import ServiceContext

log = logging.getLogger("stageline.events")

PURGE_EVERY_MS = 600_000
KEEP_DELIVERED_MS = 7 * 86_400_000
STOP_GRACE_S = 5.0
SCHEDULE_CHECK_S = 1.0  # schedules have minute slots: checking each second is plenty


@dataclass(frozen=True, kw_only=True)
class DeadLetter:
    """A delivery that failed for good, with what is needed to judge and redrive it."""

    id: int
    event_id: str
    rule_name: str
    target_id: str
    target_arn: str
    attempts: int
    last_error: str | None
    event_ms: int
    created_ms: int
    failed_ms: int | None
    input: str
    dead_letter_arn: str | None  # the target's DeadLetterConfig, shown but not used

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "eventId": self.event_id,
            "rule": self.rule_name,
            "targetId": self.target_id,
            "targetArn": self.target_arn,
            "attempts": self.attempts,
            "lastError": self.last_error,
            "eventTime": self.event_ms,
            "createdTime": self.created_ms,
            "failedTime": self.failed_ms,
            "input": self.input,
            "deadLetterConfigArn": self.dead_letter_arn,
        }


@dataclass
class TickReport:
    published: int = 0
    matched: int = 0
    fired: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0


class EventBus:
    """EventBridge's default bus for one server: rules, targets, retries and the DLQ."""

    def __init__(
        self,
        ctx: ServiceContext,
        *,
        retry_base_seconds: float = 1.0,
        max_retry_delay_seconds: float = DEFAULT_MAX_DELAY_S,
        jitter: float = 0.1,
        lease_seconds: float = DEFAULT_LEASE_S,
        wait_seconds: float = 0.2,
        workers: int = 8,
        publish_batch: int = 500,
        deliverers: Sequence[Deliverer] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.ctx = ctx
        self._deliverers: list[Deliverer] = (
            list(deliverers) if deliverers is not None else [HttpDeliverer(), CommandDeliverer()]
        )
        self.rules = RuleService(ctx, lambda: tuple(self._deliverers), changed=self.wake)
        self.publisher = Publisher(ctx, batch=publish_batch)
        self.schedules = ScheduleRunner(ctx)
        backoff = Backoff(
            retry_base_seconds, max_delay_s=max_retry_delay_seconds, jitter=jitter, rng=rng
        )
        self.courier = Courier(ctx, lambda: tuple(self._deliverers), backoff, lease_s=lease_seconds)
        self.wait_seconds = wait_seconds
        self.workers = max(1, workers)
        self._wake = threading.Event()
        self._publish_wanted = threading.Event()
        self._published_at = self._scheduled_at = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._jobs: queue.SimpleQueue[Claimed | None] = queue.SimpleQueue()
        self._results: queue.SimpleQueue[Attempt] = queue.SimpleQueue()
        self._in_flight = 0
        self._pool: list[threading.Thread] = []
        self._purged_ms = 0

    # -- what the server and the API call ------------------------------------------------

    def add_deliverer(self, deliverer: Deliverer) -> None:
        """Add a kind of target (the server adds pipelines); it is asked before the others."""
        self._deliverers.insert(0, deliverer)

    @property
    def deliverers(self) -> tuple[Deliverer, ...]:
        return tuple(self._deliverers)

    def wake(self) -> None:
        """Look at the outbox now (thread-safe); call after committing events."""
        self._publish_wanted.set()
        self._wake.set()

    def put_events(self, entries: Sequence[Mapping[str, Any]]) -> list[EntryResult]:
        results = put_events(self.ctx, entries, bus_arn=self.rules.bus_arn)
        if any(r.event_id for r in results):
            self.wake()
        return results

    def dead_letters(self, rule: str | None = None, limit: int = 100) -> list[DeadLetter]:
        with self.ctx.db.read() as conn:
            rows = deliveries.dead_letters(conn, rule=rule, limit=limit)
        out = []
        for row, text in rows:
            target = json.loads(text) if text else {}
            dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
            out.append(
                DeadLetter(
                    id=row.id,
                    event_id=row.event_id,
                    rule_name=row.rule_name,
                    target_id=row.target_id,
                    target_arn=row.target_arn,
                    attempts=row.attempts,
                    last_error=row.last_error,
                    event_ms=row.event_ms,
                    created_ms=row.created_ms,
                    failed_ms=row.ended_ms,
                    input=row.input,
                    dead_letter_arn=dlq,
                )
            )
        return out

    def redrive(self, ids: Sequence[int] | None = None) -> list[int]:
        """Give dead-lettered deliveries (all, or ``ids``) a fresh set of attempts, due now.
        Returns the ids moved; ids not in the DLQ are left alone."""
        with self.ctx.db.write() as conn:
            moved = deliveries.redrive(conn, ids, self.ctx.clock.now_ms())
        if moved:
            log.info("redriving %d dead-lettered deliveries", len(moved))
            self.wake()
        return moved

    # -- running ---------------------------------------------------------------------------

    def tick(self) -> TickReport:
        """One full pass in the caller's thread: publish everything, fire due schedules,
        deliver everything due (for tests with a manual clock, and for tools)."""
        report = TickReport()
        self._publish_all(report)
        report.fired = self.schedules.fire_due()
        if report.fired:
            self._publish_all(report)
        counts = Counts()
        while True:
            claimed, dead = self.courier.claim(100)
            counts.dead += dead
            if not claimed:
                break
            counts.add(self.courier.record([self.courier.attempt(c) for c in claimed]))
        report.delivered, report.retrying, report.dead = (
            counts.delivered,
            counts.retrying,
            counts.dead,
        )
        return report

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        for n in range(self.workers):
            worker = threading.Thread(target=self._work, name=f"event-delivery-{n}", daemon=True)
            worker.start()
            self._pool.append(worker)
        self._thread = threading.Thread(target=self._loop, name="event-bus", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop looking for work; wait a little for deliveries under way and record them.
        Any still running then are delivered again once their lease runs out."""
        if self._thread is None:
            self.close()
            return
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)
        self._thread = None
        for _ in self._pool:
            self._jobs.put(None)
        for worker in self._pool:
            worker.join(timeout=STOP_GRACE_S)
        self._pool = []
        try:
            self._record_finished()
        except Exception:
            log.exception("recording the last deliveries failed; they will be delivered again")
        self.close()

    def close(self) -> None:
        """Release the deliverers' connections (stop() does it too)."""
        for deliverer in self._deliverers:
            close = getattr(deliverer, "close", None)
            if callable(close):
                close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.wait_seconds)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self._pass()
            except Exception:
                log.exception("event bus pass failed; it will run again")

    def _pass(self) -> None:
        """Record what was delivered, publish when told to (or every ``wait_seconds``, for
        events other processes wrote), fire schedules, and hand out more deliveries."""
        self._record_finished()
        now = time.monotonic()
        if self._publish_wanted.is_set() or now - self._published_at >= self.wait_seconds:
            self._publish_wanted.clear()
            self._published_at = now
            self._publish_all(TickReport())
        if now - self._scheduled_at >= SCHEDULE_CHECK_S:
            self._scheduled_at = now
            if self.schedules.fire_due():
                self._publish_all(TickReport())
        # Claim in chunks (one transaction hands out many), not one slot at a time.
        free = self.workers * 4 - self._in_flight
        if free >= self.workers or self._in_flight == 0:
            claimed, _ = self.courier.claim(free)
            for item in claimed:
                self._in_flight += 1
                self._jobs.put(item)
        self._purge()

    def _publish_all(self, report: TickReport) -> None:
        while True:
            events, deliveries = self.publisher.publish()
            report.published += events
            report.matched += deliveries
            if events < self.publisher.batch:
                return

    def _work(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            self._results.put(self.courier.attempt(item))
            # Wake the loop when the workers run dry or enough outcomes wait to be recorded
            # together; one transaction per outcome would cost more than the deliveries.
            if self._jobs.empty() or self._results.qsize() >= self.workers:
                self._wake.set()

    def _record_finished(self) -> None:
        done: list[Attempt] = []
        while True:
            try:
                done.append(self._results.get_nowait())
            except queue.Empty:
                break
        if done:
            self._in_flight -= len(done)
            self.courier.record(done)

    def _purge(self) -> None:
        now = self.ctx.clock.now_ms()
        if now - self._purged_ms < PURGE_EVERY_MS:
            return
        self._purged_ms = now
        with self.ctx.db.write() as conn:
            gone = deliveries.purge_delivered(conn, now - KEEP_DELIVERED_MS)
        if gone:
            log.info("forgot %d deliveries made more than 7 days ago", gone)
