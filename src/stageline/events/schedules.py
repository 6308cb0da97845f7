"""Scheduled rules: ``rate(...)`` and ``cron(...)`` expressions, and the ``Scheduled Event``s
they produce when a slot comes due.

EventBridge's forms (User Guide, "Creating a rule that runs on a schedule"):

- ``rate(VALUE UNIT)``: a positive whole VALUE, UNIT ``minute | minutes | hour | hours | day |
  days``, singular exactly when VALUE is 1. A rate counts from when the rule was last put or
  enabled, as on AWS ("rate expressions start when you create the rule").
- ``cron(MIN HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK YEAR)`` in UTC. One of day-of-month and
  day-of-week must be ``?`` and the other not. Day-of-week numbers run 1-7 from Sunday (so
  ``6L`` is the last Friday and ``2#1`` the first Monday); names ``SUN``-``SAT`` work too.
  Year is ``*``, a year, a range, a list or a step, 1970-2199.

A slot's event has a fixed id (derived from the rule's ARN and the slot), and the outbox
keeps event ids unique, so a restart or a second replica never fires one slot twice. A slot
missed while no server ran is not caught up, except one from the last minute.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from croniter import CroniterError, croniter

from stageline.engine import events as outbox_events
from stageline.events import deliveries, store
from stageline.services.context import ServiceContext

log = logging.getLogger("stageline.events")

SOURCE = "aws.events"
DETAIL_TYPE = "Scheduled Event"
GRACE_MS = 60_000
MIN_YEAR, MAX_YEAR = 1970, 2199
_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\((.*)\)", re.DOTALL)
_UNIT_MS = {"minute": 60_000, "hour": 3_600_000, "day": 86_400_000}
_DOW_ITEM = re.compile(r"(\d)(L|#\d)?|(\d)-(\d)(/\d+)?")
_NAMESPACE = uuid.UUID("0f8d7b1e-6a35-4c51-9d7e-5b0c2d1e9a44")
_EXAMPLES = "rate(5 minutes), rate(1 hour) or cron(0 12 * * ? *)"


class ScheduleError(ValueError):
    """A ScheduleExpression EventBridge would refuse (``ValidationException``)."""


class Schedule(Protocol):
    def next_after(self, after_ms: int, *, anchor_ms: int) -> int | None:
        """The first slot strictly after ``after_ms`` (None if there is none any more)."""
        ...


@dataclass(frozen=True)
class Rate:
    """Every ``period_ms``, counted from ``anchor_ms`` (when the rule was put or enabled)."""

    period_ms: int

    def next_after(self, after_ms: int, *, anchor_ms: int) -> int | None:
        if after_ms < anchor_ms:
            return anchor_ms + self.period_ms
        return anchor_ms + ((after_ms - anchor_ms) // self.period_ms + 1) * self.period_ms


@dataclass(frozen=True)
class Cron:
    """A five-field cron expression (croniter's form) plus EventBridge's year field."""

    expression: str
    years: frozenset[int] | None  # None: every year

    def next_after(self, after_ms: int, *, anchor_ms: int) -> int | None:
        start = datetime.fromtimestamp(after_ms / 1000, tz=UTC)
        for _ in range(MAX_YEAR - MIN_YEAR + 2):
            found = croniter(self.expression, start).get_next(datetime)
            if found.year > MAX_YEAR:
                return None
            if self.years is None or found.year in self.years:
                return int(found.timestamp() * 1000)
            later = [y for y in self.years if y > found.year]
            if not later:
                return None
            start = datetime(min(later), 1, 1, tzinfo=UTC).replace(microsecond=0)
            start = datetime.fromtimestamp(start.timestamp() - 1, tz=UTC)
        return None


def parse_schedule(text: str) -> Schedule:
    """Parse a ScheduleExpression; ScheduleError names what is wrong and what would work."""
    rate = _RATE.fullmatch(text)
    if rate is not None:
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1:
            raise ScheduleError(f"{text!r}: the rate must be a whole number of 1 or more")
        if (value == 1) != (not unit.endswith("s")):
            right = unit.rstrip("s") if value == 1 else f"{unit}s"
            raise ScheduleError(
                f"{text!r}: write rate({value} {right}); the unit is singular only for 1"
            )
        return Rate(value * _UNIT_MS[unit.rstrip("s")])
    cron = _CRON.fullmatch(text)
    if cron is not None:
        return _cron(text, cron.group(1).split())
    raise ScheduleError(f"{text!r} is not a schedule expression; write e.g. {_EXAMPLES}")


def _cron(text: str, fields: list[str]) -> Cron:
    if len(fields) != 6:
        raise ScheduleError(
            f"{text!r} has {len(fields)} fields; EventBridge cron takes 6: minutes hours "
            "day-of-month month day-of-week year, e.g. cron(0 12 * * ? *)"
        )
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleError(
            f"{text!r}: exactly one of day-of-month and day-of-week must be ?, "
            "e.g. cron(0 12 * * ? *) or cron(0 12 ? * MON-FRI *)"
        )
    expression = " ".join(
        (minute, hour, "*" if dom == "?" else dom, month, "*" if dow == "?" else _dow(text, dow))
    )
    try:
        croniter(expression, datetime(2000, 1, 1, tzinfo=UTC)).get_next(datetime)
    except (CroniterError, ValueError, KeyError) as exc:
        raise ScheduleError(f"{text!r} is not a valid cron expression: {exc}") from None
    return Cron(expression, _years(text, year))


def _dow(text: str, field: str) -> str:
    """EventBridge's day-of-week (1 = Sunday) in croniter's (0 = Sunday)."""
    out = []
    for item in field.split(","):
        m = _DOW_ITEM.fullmatch(item)
        if m is None:
            out.append(item)  # names, * and steps of * mean the same to croniter
            continue
        if m.group(1) is not None:
            day, suffix = int(m.group(1)), m.group(2) or ""
            _day(text, day)
            out.append(f"L{day - 1}" if suffix == "L" else f"{day - 1}{suffix}")
        else:
            low, high = _day(text, int(m.group(3))), _day(text, int(m.group(4)))
            out.append(f"{low - 1}-{high - 1}{m.group(5) or ''}")
    return ",".join(out)


def _day(text: str, day: int) -> int:
    if not 1 <= day <= 7:
        raise ScheduleError(f"{text!r}: day-of-week runs from 1 (Sunday) to 7 (Saturday)")
    return day


def _years(text: str, field: str) -> frozenset[int] | None:
    if field == "*":
        return None
    years: set[int] = set()
    for item in field.split(","):
        m = re.fullmatch(r"(\*|\d{4})(?:-(\d{4}))?(?:/(\d+))?", item)
        if m is None:
            raise ScheduleError(
                f"{text!r}: the year field takes *, 2030, 2030-2032, 2030,2032 or */2"
            )
        low = MIN_YEAR if m.group(1) == "*" else int(m.group(1))
        high = (
            int(m.group(2))
            if m.group(2)
            else (MAX_YEAR if m.group(1) == "*" or m.group(3) else low)
        )
        step = int(m.group(3) or 1)
        if not MIN_YEAR <= low <= high <= MAX_YEAR or step < 1:
            raise ScheduleError(f"{text!r}: years run from {MIN_YEAR} to {MAX_YEAR}")
        years.update(range(low, high + 1, step))
    return frozenset(years)


def slot_event_id(rule_arn: str, slot_ms: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{rule_arn}@{slot_ms}"))


class ScheduleRunner:
    """Fires the scheduled rules whose slot has come, writing each slot's event to the outbox.

    The next slot of each rule is kept in memory and recomputed when the rule changes; the
    event id of a slot is fixed, so what is fired twice (a restart, two replicas) is written
    once.
    """

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._next: dict[str, tuple[tuple[str, int], int | None]] = {}
        self._bad: set[tuple[str, str]] = set()

    def fire_due(self) -> int:
        now = self.ctx.clock.now_ms()
        with self.ctx.db.read() as conn:
            rules = [r for r in store.list_rules(conn) if r.schedule_expression and r.enabled]
        self._next = {k: v for k, v in self._next.items() if k in {r.name for r in rules}}
        fired = 0
        for rule in rules:
            slot = self._due_slot(rule, now)
            if slot is not None and self._fire(rule, slot):
                fired += 1
        return fired

    def _due_slot(self, rule: store.RuleRow, now: int) -> int | None:
        assert rule.schedule_expression is not None
        key = (rule.schedule_expression, rule.modified_ms)
        try:
            schedule = parse_schedule(rule.schedule_expression)
        except ScheduleError as exc:
            if (rule.name, rule.schedule_expression) not in self._bad:
                self._bad.add((rule.name, rule.schedule_expression))
                log.error("scheduled rule %s never fires: %s", rule.name, exc)
            return None
        known = self._next.get(rule.name)
        if known is None or known[0] != key:
            after = max(now - GRACE_MS, rule.modified_ms)
            known = (key, schedule.next_after(after, anchor_ms=rule.modified_ms))
        due = None
        upcoming = known[1]
        while upcoming is not None and upcoming <= now:
            due, upcoming = upcoming, schedule.next_after(upcoming, anchor_ms=rule.modified_ms)
        self._next[rule.name] = (key, upcoming)
        return due

    def _fire(self, rule: store.RuleRow, slot_ms: int) -> bool:
        event_id = slot_event_id(rule.arn, slot_ms)
        with self.ctx.db.write() as conn:
            current = store.lock_rule(conn, rule.name)
            if (
                current is None
                or not current.enabled
                or current.modified_ms != rule.modified_ms
                or current.schedule_expression != rule.schedule_expression
                or deliveries.outbox_has(conn, event_id)
            ):
                return False
            event = outbox_events.envelope(
                detail_type=DETAIL_TYPE,
                source=SOURCE,
                account=self.ctx.account_id,
                region=self.ctx.region,
                resources=[rule.arn],
                detail={},
                at_ms=slot_ms,
            )
            event["id"] = event_id
            outbox_events.write(conn, event, self.ctx.clock.now_ms())
        return True
