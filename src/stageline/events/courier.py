"""Delivering: claim due deliveries, hand each to its target's deliverer, record the outcome.

A claim leases a delivery to this process by moving its next attempt to the end of the lease
in a conditional update; only the process whose lease is still on the row may record the
outcome. So two replicas never deliver one event at once, and a process that dies while
delivering leaves the delivery to be tried again once the lease runs out.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from stageline.events import deliveries, store
from stageline.events.retry import Backoff, RetryPolicy, after_failure, too_old
from stageline.events.targets import Deliverer, Delivery, DeliveryFailed, find, unsupported
from stageline.services.context import ServiceContext

log = logging.getLogger("stageline.events")

DEFAULT_LEASE_S = 300.0


@dataclass(frozen=True)
class Claimed:
    delivery: Delivery
    lease_until_ms: int
    created_ms: int


@dataclass(frozen=True)
class Attempt:
    claimed: Claimed
    failure: DeliveryFailed | None
    lease_lost: bool = False  # waited so long the lease ran out: not attempted, not recorded


@dataclass
class Counts:
    delivered: int = 0
    retrying: int = 0
    dead: int = 0

    def add(self, other: Counts) -> None:
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.dead += other.dead


class Courier:
    """Claims, attempts and records deliveries; the bus decides which thread does each."""

    def __init__(
        self,
        ctx: ServiceContext,
        deliverers: Callable[[], Sequence[Deliverer]],
        backoff: Backoff,
        *,
        lease_s: float = DEFAULT_LEASE_S,
    ) -> None:
        self.ctx = ctx
        self.deliverers = deliverers
        self.backoff = backoff
        self.lease_ms = int(lease_s * 1000)

    def claim(self, limit: int) -> tuple[list[Claimed], int]:
        """Lease up to ``limit`` due deliveries; also dead-letters those past their maximum
        age. Returns (claimed, dead-lettered)."""
        now = self.ctx.clock.now_ms()
        lease = now + self.lease_ms
        expired: list[tuple[deliveries.DeliveryRow, str]] = []
        with self.ctx.db.write() as conn:
            due = deliveries.due(conn, now, limit)
            if not due:
                return [], 0
            ready: dict[int, tuple[deliveries.DeliveryRow, dict[str, object]]] = {}
            for row, text in due:
                target = json.loads(text) if text else {}
                reason = too_old(
                    policy=RetryPolicy.of(target), created_ms=row.created_ms, now_ms=now
                )
                if reason is None:
                    ready[row.id] = (row, target)
                elif deliveries.finish(
                    conn,
                    row.id,
                    lease_until_ms=None,
                    status=deliveries.FAILED,
                    now_ms=now,
                    error=reason,
                ):
                    expired.append((row, reason))
            if ready:
                deliveries.claim(conn, list(ready), now_ms=now, lease_until_ms=lease)
                # The lease is our token: keep the rows that carry it, whatever else happened.
                ours = set(deliveries.held(conn, list(ready), lease))
                ready = {k: v for k, v in ready.items() if k in ours}
        for row, reason in expired:
            _dead_letter_log(row.id, row.event_id, row.rule_name, row.target_id, reason)
        claimed = [
            Claimed(
                Delivery(
                    id=row.id,
                    event_id=row.event_id,
                    rule_name=row.rule_name,
                    rule_arn=store.rule_arn(self.ctx.region, self.ctx.account_id, row.rule_name),
                    target_id=row.target_id,
                    target_arn=row.target_arn,
                    input=row.input,
                    attempts=row.attempts + 1,
                    target=target,
                ),
                lease,
                row.created_ms,
            )
            for row, target in ready.values()
        ]
        return claimed, len(expired)

    def attempt(self, claimed: Claimed) -> Attempt:
        """Deliver one claimed delivery; never raises."""
        delivery = claimed.delivery
        if self.ctx.clock.now_ms() >= claimed.lease_until_ms:
            return Attempt(claimed, None, lease_lost=True)
        deliverers = self.deliverers()
        deliverer = find(deliverers, delivery.target_arn)
        try:
            if deliverer is None:
                raise DeliveryFailed(unsupported(deliverers, delivery.target_arn), retryable=False)
            deliverer.deliver(delivery)
        except DeliveryFailed as exc:
            return Attempt(claimed, exc)
        except Exception as exc:
            log.exception("delivery %s to %s failed unexpectedly", delivery.id, delivery.target_id)
            return Attempt(claimed, DeliveryFailed(f"{type(exc).__name__}: {exc}", retryable=True))
        return Attempt(claimed, None)

    def record(self, attempts: Sequence[Attempt]) -> Counts:
        """Write the outcomes of attempts, in one transaction."""
        counts = Counts()
        if not attempts:
            return counts
        now = self.ctx.clock.now_ms()
        dead: list[tuple[Delivery, str]] = []
        with self.ctx.db.write() as conn:
            for attempt in attempts:
                if attempt.lease_lost:
                    continue
                delivery = attempt.claimed.delivery
                lease = attempt.claimed.lease_until_ms
                if attempt.failure is None:
                    if deliveries.finish(
                        conn,
                        delivery.id,
                        lease_until_ms=lease,
                        status=deliveries.DELIVERED,
                        now_ms=now,
                    ):
                        counts.delivered += 1
                    continue
                outcome = after_failure(
                    policy=RetryPolicy.of(delivery.target),
                    backoff=self.backoff,
                    attempts=delivery.attempts,
                    created_ms=attempt.claimed.created_ms,
                    now_ms=now,
                    message=attempt.failure.message,
                    retryable=attempt.failure.retryable,
                )
                status = deliveries.FAILED if outcome.dead else deliveries.PENDING
                if not deliveries.finish(
                    conn,
                    delivery.id,
                    lease_until_ms=lease,
                    status=status,
                    now_ms=now,
                    error=outcome.error,
                    next_attempt_ms=outcome.next_attempt_ms,
                ):
                    continue  # the lease ran out and another process took the delivery over
                if outcome.dead:
                    counts.dead += 1
                    dead.append((delivery, outcome.error))
                else:
                    counts.retrying += 1
        for delivery, error in dead:
            _dead_letter_log(
                delivery.id, delivery.event_id, delivery.rule_name, delivery.target_id, error
            )
        return counts


def _dead_letter_log(delivery_id: int, event_id: str, rule: str, target: str, error: str) -> None:
    log.warning(
        "event %s for rule %s target %s is in the dead-letter queue (delivery %s): %s; "
        "list with `stageline events dlq list`, retry with `stageline events dlq redrive %s`",
        event_id,
        rule,
        target,
        delivery_id,
        error,
        delivery_id,
    )
