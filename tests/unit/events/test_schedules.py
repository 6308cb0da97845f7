"""Scheduled rules: EventBridge's rate and cron expressions, and one event per slot."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from stageline.clock import ManualClock
from stageline.errors import ApiError
from stageline.events.bus import EventBus
from stageline.events.schedules import ScheduleError, parse_schedule
from tests.unit.events.conftest import ACCOUNT, REGION, Recorder


def _ms(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp() * 1000)  # type: ignore[misc]


def _at(ms: int | None) -> str:
    assert ms is not None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %a %H:%M")


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("cron(0 12 * * ? *)", (2024, 1, 1, 12, 0), "2024-01-02 Tue 12:00"),
        ("cron(15 10 ? * 6L 2024-2025)", (2024, 1, 1), "2024-01-26 Fri 10:15"),  # last Friday
        ("cron(0 8 ? * 2#1 *)", (2024, 1, 2), "2024-02-05 Mon 08:00"),  # first Monday
        ("cron(0 18 ? * MON-FRI *)", (2024, 1, 6), "2024-01-08 Mon 18:00"),
        ("cron(0 18 ? * 2-6 *)", (2024, 1, 6), "2024-01-08 Mon 18:00"),  # 1 is Sunday
        ("cron(0 9 ? * 1,7 *)", (2024, 1, 1), "2024-01-06 Sat 09:00"),
        ("cron(0/30 * L * ? *)", (2024, 2, 1), "2024-02-29 Thu 00:00"),
        ("cron(0 0 1 1 ? 2030)", (2024, 1, 1), "2030-01-01 Tue 00:00"),
        ("cron(0 0 1 1 ? 2020/5)", (2024, 1, 1), "2025-01-01 Wed 00:00"),
    ],
)
def test_cron_as_eventbridge_reads_it(
    expression: str, after: tuple[int, ...], expected: str
) -> None:
    assert _at(parse_schedule(expression).next_after(_ms(*after), anchor_ms=0)) == expected


def test_a_year_that_has_passed_never_comes() -> None:
    assert parse_schedule("cron(0 0 1 1 ? 2020)").next_after(_ms(2024, 1, 1), anchor_ms=0) is None


def test_rates_count_from_when_the_rule_was_put() -> None:
    anchor = _ms(2024, 1, 1, 9, 0)
    every = parse_schedule("rate(5 minutes)")
    assert _at(every.next_after(anchor, anchor_ms=anchor)) == "2024-01-01 Mon 09:05"
    assert _at(every.next_after(anchor + 301_000, anchor_ms=anchor)) == "2024-01-01 Mon 09:10"
    assert parse_schedule("rate(1 day)").next_after(anchor, anchor_ms=anchor) == anchor + 86_400_000


@pytest.mark.parametrize(
    ("expression", "said"),
    [
        ("rate(1 minutes)", "write rate(1 minute)"),
        ("rate(5 hour)", "write rate(5 hours)"),
        ("rate(0 minutes)", "1 or more"),
        ("rate(5 weeks)", "not a schedule expression"),
        ("every 5 minutes", "not a schedule expression"),
        ("cron(0 12 * * *)", "has 5 fields"),
        ("cron(0 12 * * MON *)", "exactly one of day-of-month and day-of-week must be ?"),
        ("cron(0 12 ? * ? *)", "exactly one of"),
        ("cron(0 12 ? * 8 *)", "from 1 (Sunday) to 7 (Saturday)"),
        ("cron(61 12 * * ? *)", "not a valid cron expression"),
        ("cron(0 12 * * ? 1960)", "years run from 1970 to 2199"),
        ("cron(0 12 * * ? soon)", "the year field takes"),
    ],
)
def test_expressions_eventbridge_refuses(expression: str, said: str) -> None:
    with pytest.raises(ScheduleError, match=said.replace("(", r"\(").replace(")", r"\)")):
        parse_schedule(expression)


def test_put_rule_refuses_a_bad_schedule_naming_the_field(bus: EventBus) -> None:
    with pytest.raises(ApiError) as refused:
        bus.rules.put_rule("nightly", schedule_expression="cron(0 2 * * *)")
    assert refused.value.code == "ValidationException"
    assert refused.value.message.startswith("Parameter ScheduleExpression is not valid")


def test_a_scheduled_rule_fires_once_per_slot_to_its_own_targets(
    bus: EventBus, recorder: Recorder, clock: ManualClock, ctx: object
) -> None:
    arn = bus.rules.put_rule("every-5", schedule_expression="rate(5 minutes)")
    bus.rules.put_targets("every-5", [{"Id": "t", "Arn": "test:t"}])
    # A pattern rule for aws.events sees none of it: scheduled events go to their rule only.
    bus.rules.put_rule("all-aws-events", event_pattern=json.dumps({"source": ["aws.events"]}))
    bus.rules.put_targets("all-aws-events", [{"Id": "t", "Arn": "test:spy"}])
    assert bus.tick().fired == 0
    clock.advance(minutes=4, seconds=59)
    assert bus.tick().fired == 0
    clock.advance(seconds=1)
    report = bus.tick()
    assert (report.fired, report.delivered) == (1, 1)
    assert bus.tick().fired == 0
    event = json.loads(recorder.got[0].input)
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "aws.events",
        "Scheduled Event",
        {},
    )
    assert event["resources"] == [arn] and (event["account"], event["region"]) == (ACCOUNT, REGION)
    assert event["time"] == datetime.fromtimestamp(clock.now_ms() / 1000, tz=UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    # A restart (a new bus, or a second replica) does not fire the same slot again.
    again = EventBus(bus.ctx, jitter=0.0, deliverers=[recorder])
    assert again.tick().fired == 0
    clock.advance(minutes=5)
    assert again.tick().fired == 1 and bus.tick().fired == 0
    assert [d.target_arn for d in recorder.got] == ["test:t", "test:t"]
    assert len({d.event_id for d in recorder.got}) == 2
    # Disabled: no more events.
    bus.rules.set_enabled("every-5", False)
    clock.advance(minutes=20)
    assert bus.tick().fired == 0
