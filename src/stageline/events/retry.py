"""When a failed delivery is tried again, and when it goes to the dead-letter queue.

EventBridge retries a target for up to 24 hours and 185 times, with exponential back-off
and jitter, unless the target's ``RetryPolicy`` says less (``MaximumRetryAttempts`` 0-185,
``MaximumEventAgeInSeconds`` 60-86400). stageline does the same, from a first delay the
server sets (``--event-retry-seconds``), doubling each time up to a cap; and where AWS then
drops the event unless a DeadLetterConfig is set, stageline always keeps it (DESIGN.md §4).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_RETRY_ATTEMPTS = 185
MAX_EVENT_AGE_S = 86_400
DEFAULT_MAX_DELAY_S = 600.0


@dataclass(frozen=True)
class RetryPolicy:
    """A target's RetryPolicy with AWS's defaults filled in."""

    maximum_retry_attempts: int = MAX_RETRY_ATTEMPTS
    maximum_event_age_s: int = MAX_EVENT_AGE_S

    @classmethod
    def of(cls, target: Mapping[str, Any]) -> RetryPolicy:
        given = target.get("RetryPolicy") or {}
        attempts = given.get("MaximumRetryAttempts")
        age = given.get("MaximumEventAgeInSeconds")
        return cls(
            maximum_retry_attempts=MAX_RETRY_ATTEMPTS if attempts is None else int(attempts),
            maximum_event_age_s=MAX_EVENT_AGE_S if age is None else int(age),
        )

    @property
    def maximum_attempts(self) -> int:
        """The first attempt plus the retries."""
        return 1 + self.maximum_retry_attempts


class Backoff:
    """The wait before retry ``n`` (n = 1 after the first failure): ``base * 2**(n-1)``,
    capped at ``max_delay_s``, lengthened by up to ``jitter`` of itself so that many
    deliveries failing together do not all come back at the same instant."""

    def __init__(
        self,
        base_s: float,
        *,
        max_delay_s: float = DEFAULT_MAX_DELAY_S,
        jitter: float = 0.1,
        rng: random.Random | None = None,
    ) -> None:
        if base_s < 0 or jitter < 0:
            raise ValueError("the retry delay and its jitter must be 0 or more")
        self.base_s = base_s
        self.max_delay_s = max(max_delay_s, base_s)
        self.jitter = jitter
        self._rng = rng or random.Random()

    def delay_ms(self, retry: int) -> int:
        exponent = min(max(retry - 1, 0), 62)
        delay = min(self.base_s * (2**exponent), self.max_delay_s)
        if self.jitter:
            delay *= 1 + self.jitter * self._rng.random()
        return int(delay * 1000)


@dataclass(frozen=True)
class Outcome:
    """What to do after a failed attempt: retry at ``next_attempt_ms``, or dead-letter."""

    next_attempt_ms: int | None
    error: str

    @property
    def dead(self) -> bool:
        return self.next_attempt_ms is None


def after_failure(
    *,
    policy: RetryPolicy,
    backoff: Backoff,
    attempts: int,
    created_ms: int,
    now_ms: int,
    message: str,
    retryable: bool,
) -> Outcome:
    """The next step for a delivery whose attempt number ``attempts`` just failed."""
    if not retryable:
        return Outcome(None, f"{message} (not retryable)")
    if attempts >= policy.maximum_attempts:
        tries = "attempt" if attempts == 1 else "attempts"
        return Outcome(
            None,
            f"{message} (gave up after {attempts} {tries}; "
            f"RetryPolicy.MaximumRetryAttempts is {policy.maximum_retry_attempts})",
        )
    at = now_ms + backoff.delay_ms(attempts)
    if at > created_ms + policy.maximum_event_age_s * 1000:
        return Outcome(
            None,
            f"{message} (the next retry would come after the event's maximum age of "
            f"{policy.maximum_event_age_s} s; RetryPolicy.MaximumEventAgeInSeconds)",
        )
    return Outcome(at, message)


def too_old(*, policy: RetryPolicy, created_ms: int, now_ms: int) -> str | None:
    """Why a due delivery must not be attempted at all: older than the target allows."""
    age_s = (now_ms - created_ms) / 1000
    if age_s <= policy.maximum_event_age_s:
        return None
    return (
        f"not delivered: the event is {age_s:.0f} s old, past the target's "
        f"RetryPolicy.MaximumEventAgeInSeconds of {policy.maximum_event_age_s} s"
    )
