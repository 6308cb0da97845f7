"""The bus with a manual clock: what each target receives, when failures are retried, when
an event lands in the dead-letter queue, and that nothing is lost or delivered twice."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import pytest

from stageline.clock import ManualClock
from stageline.engine import events as engine_events
from stageline.events import deliveries
from stageline.events.bus import EventBus
from stageline.events.targets import DeliveryFailed, HttpDeliverer
from stageline.services.context import ServiceContext
from tests.unit.events.conftest import ACCOUNT, REGION, Recorder, custom, make_ctx

ORDERS = json.dumps(
    {"source": ["com.example.orders"], "detail": {"size": [{"numeric": [">", 10]}]}}
)


def _deliveries(ctx: ServiceContext, **where: Any) -> list[deliveries.DeliveryRow]:
    with ctx.db.read() as conn:
        return deliveries.deliveries(conn, **where)


def _rule_with_target(bus: EventBus, name: str = "orders", **target: Any) -> None:
    bus.rules.put_rule(name, event_pattern=ORDERS)
    assert bus.rules.put_targets(name, [{"Id": "t", "Arn": f"test:{name}", **target}]) == []


def test_matching_events_reach_every_target_in_the_shape_it_asked_for(
    bus: EventBus, recorder: Recorder
) -> None:
    bus.rules.put_rule("orders", event_pattern=ORDERS)
    bus.rules.put_targets(
        "orders",
        [
            {"Id": "whole", "Arn": "test:whole"},
            {"Id": "constant", "Arn": "test:constant", "Input": '{"fixed": true}'},
            {"Id": "path", "Arn": "test:path", "InputPath": "$.detail"},
            {
                "Id": "shaped",
                "Arn": "test:shaped",
                "InputTransformer": {
                    "InputPathsMap": {"size": "$.detail.size", "source": "$.source"},
                    "InputTemplate": '{"order of": <size>, "from": "<source>", '
                    '"rule": "<aws.events.rule-name>"}',
                },
            },
        ],
    )
    results = bus.put_events([custom(size=12), custom(size=3), custom("com.other", size=99)])
    assert all(r.event_id for r in results)
    report = bus.tick()
    assert (report.published, report.matched, report.delivered) == (3, 4, 4)
    got = {d.target_id: d.input for d in recorder.got}
    whole = json.loads(got["whole"])
    assert (whole["id"], whole["source"], whole["detail"]) == (
        results[0].event_id,
        "com.example.orders",
        {"size": 12},
    )
    assert (whole["account"], whole["region"]) == (ACCOUNT, REGION)
    assert got["constant"] == '{"fixed": true}'
    assert got["path"] == '{"size":12}'
    assert got["shaped"] == '{"order of":12,"from":"com.example.orders","rule":"orders"}'
    assert {d.rule_arn for d in recorder.got} == {f"arn:aws:events:{REGION}:{ACCOUNT}:rule/orders"}
    assert bus.tick().delivered == 0  # published once, delivered once


def test_the_engines_codepipeline_events_are_matched_from_the_outbox(
    ctx: ServiceContext, bus: EventBus, recorder: Recorder
) -> None:
    pattern = {
        "source": ["aws.codepipeline"],
        "detail-type": ["CodePipeline Pipeline Execution State Change"],
        "detail": {"state": ["FAILED"]},
    }
    bus.rules.put_rule("failures", event_pattern=json.dumps(pattern))
    bus.rules.put_targets("failures", [{"Id": "t", "Arn": "test:t"}])
    event_ctx = engine_events.EventContext(
        account_id=ACCOUNT,
        region=REGION,
        pipeline_arn=f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:app",
        pipeline_name="app",
        pipeline_version=1,
        execution_id="e-1",
    )
    with ctx.db.write() as conn:
        for state in ("STARTED", "FAILED"):
            engine_events.pipeline_event(conn, event_ctx, state, 5, trigger=None)
    bus.tick()
    assert [json.loads(i)["detail"]["state"] for i in recorder.inputs()] == ["FAILED"]


def test_failures_are_retried_with_doubling_waits(
    ctx: ServiceContext, clock: ManualClock, bus: EventBus, recorder: Recorder
) -> None:
    _rule_with_target(bus)
    recorder.failure = DeliveryFailed("target busy", retryable=True)
    bus.put_events([custom(size=20)])
    start = clock.now_ms()
    bus.tick()
    waits = []
    for _ in range(4):
        (row,) = _deliveries(ctx)
        assert row.status == deliveries.PENDING and row.last_error == "target busy"
        assert row.next_attempt_ms is not None
        waits.append(row.next_attempt_ms - clock.now_ms())
        clock.advance(seconds=(row.next_attempt_ms - clock.now_ms()) / 1000 - 0.001)
        assert bus.tick().retrying == 0  # not due yet: nothing is attempted
        clock.advance(seconds=0.001)
        assert bus.tick().retrying == 1
    assert waits == [1000, 2000, 4000, 8000]
    recorder.failure = None
    clock.advance(seconds=16)
    assert bus.tick().delivered == 1
    (row,) = _deliveries(ctx)
    assert (row.status, row.attempts, row.ended_ms) == (deliveries.DELIVERED, 6, clock.now_ms())
    assert row.ended_ms - start == 31_000


def test_out_of_attempts_the_event_waits_in_the_dead_letter_queue(
    ctx: ServiceContext,
    clock: ManualClock,
    bus: EventBus,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _rule_with_target(
        bus,
        RetryPolicy={"MaximumRetryAttempts": 2},
        DeadLetterConfig={"Arn": "arn:aws:sqs:us-east-1:123456789012:dlq"},
    )
    recorder.failure = DeliveryFailed("HTTP 503", retryable=True)
    (result,) = bus.put_events([custom(size=20)])
    caplog.set_level(logging.WARNING, logger="stageline.events")
    for _ in range(5):
        bus.tick()
        clock.advance(seconds=10)
    (dead,) = bus.dead_letters()
    assert dead.event_id == result.event_id
    assert (dead.rule_name, dead.target_id, dead.target_arn, dead.attempts) == (
        "orders",
        "t",
        "test:orders",
        3,
    )
    assert dead.last_error is not None and dead.last_error.startswith("HTTP 503 (gave up after 3")
    assert dead.dead_letter_arn == "arn:aws:sqs:us-east-1:123456789012:dlq"
    assert json.loads(dead.input)["detail"] == {"size": 20}
    logged = [r for r in caplog.records if "dead-letter queue" in r.getMessage()]
    assert len(logged) == 1 and result.event_id in logged[0].getMessage()
    assert bus.dead_letters(rule="other") == []


def test_a_failure_that_cannot_improve_is_dead_lettered_at_once(
    bus: EventBus, recorder: Recorder
) -> None:
    _rule_with_target(bus)
    recorder.failure = DeliveryFailed("HTTP 404", retryable=False)
    bus.put_events([custom(size=20)])
    assert bus.tick().dead == 1
    (dead,) = bus.dead_letters()
    assert (dead.attempts, dead.last_error) == (1, "HTTP 404 (not retryable)")


def test_events_older_than_the_targets_maximum_age_are_not_delivered(
    ctx: ServiceContext, clock: ManualClock, bus: EventBus, recorder: Recorder
) -> None:
    _rule_with_target(bus, RetryPolicy={"MaximumEventAgeInSeconds": 60})
    bus.put_events([custom(size=20)])
    bus.publisher.publish()
    clock.advance(seconds=61)
    assert bus.tick().dead == 1
    assert recorder.got == []
    (dead,) = bus.dead_letters()
    assert dead.attempts == 0 and "MaximumEventAgeInSeconds of 60 s" in (dead.last_error or "")
    # Retries that would outlive the age stop too: waits of 1, 2, 4, 8, 16 s, then 32 s
    # would pass 60 s, so the sixth failure is the last.
    recorder.failure = DeliveryFailed("down", retryable=True)
    bus.put_events([custom(size=21)])
    bus.tick()
    while pending := _deliveries(ctx, status=deliveries.PENDING):
        assert pending[0].next_attempt_ms is not None
        clock.advance(seconds=(pending[0].next_attempt_ms - clock.now_ms()) / 1000)
        bus.tick()
    dead = next(d for d in bus.dead_letters() if json.loads(d.input)["detail"]["size"] == 21)
    assert dead.attempts == 6 and "maximum age of 60 s" in (dead.last_error or "")


def test_a_redriven_event_is_delivered_exactly_once(
    ctx: ServiceContext, clock: ManualClock, bus: EventBus, recorder: Recorder
) -> None:
    _rule_with_target(bus, RetryPolicy={"MaximumRetryAttempts": 0})
    recorder.failure = DeliveryFailed("down", retryable=True)
    bus.put_events([custom(size=20), custom(size=30)])
    bus.tick()
    first, second = bus.dead_letters()
    recorder.failure = None
    clock.advance(days=3)  # older than 24 h: a redrive still delivers it
    assert bus.redrive([first.id, 999_999]) == [first.id]
    assert bus.tick().delivered == 1
    assert bus.tick().delivered == 0
    assert [json.loads(i)["detail"]["size"] for i in recorder.inputs()] == [20]
    assert [d.id for d in bus.dead_letters()] == [second.id]
    assert bus.redrive() == [second.id]
    bus.tick()
    assert [json.loads(i)["detail"]["size"] for i in recorder.inputs()] == [20, 30]
    assert bus.dead_letters() == []


def test_a_crash_while_publishing_neither_loses_nor_duplicates(
    ctx: ServiceContext, bus: EventBus, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    _rule_with_target(bus)
    bus.put_events([custom(size=20), custom(size=21)])

    def crash(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("power cut")

    with monkeypatch.context() as patched:
        patched.setattr(deliveries, "mark_published", crash)
        with pytest.raises(RuntimeError):
            bus.tick()
    assert _deliveries(ctx) == []  # the deliveries rolled back with the rest
    assert bus.tick().delivered == 2
    assert bus.tick().published == 0
    assert len(recorder.got) == 2


def test_an_arn_no_deliverer_takes_is_dead_lettered_naming_the_kinds(
    ctx: ServiceContext, clock: ManualClock, bus: EventBus
) -> None:
    _rule_with_target(bus)
    bus.put_events([custom(size=20)])
    bus.publisher.publish()
    http_only = EventBus(ctx, deliverers=[HttpDeliverer()])
    try:
        assert http_only.tick().dead == 1
    finally:
        http_only.close()
    (dead,) = http_only.dead_letters()
    assert dead.last_error == (
        "stageline cannot deliver to target Arn 'test:orders'; use one of: http(s)://HOST/PATH "
        "(not retryable)"
    )


def test_disabled_rules_match_nothing_and_enabling_does_not_replay(
    bus: EventBus, recorder: Recorder
) -> None:
    _rule_with_target(bus)
    bus.rules.set_enabled("orders", False)
    bus.put_events([custom(size=20)])
    bus.tick()
    bus.rules.set_enabled("orders", True)
    bus.tick()
    assert recorder.got == []
    bus.put_events([custom(size=21)])
    bus.tick()
    assert len(recorder.got) == 1


def test_a_delivery_leased_by_one_bus_is_not_taken_by_another(
    ctx: ServiceContext, database_url: str, clock: ManualClock, bus: EventBus, recorder: Recorder
) -> None:
    _rule_with_target(bus)
    bus.put_events([custom(size=20)])
    bus.publisher.publish()
    claimed, _ = bus.courier.claim(10)
    assert len(claimed) == 1
    other_recorder = Recorder()
    other_ctx = make_ctx(database_url, clock)
    try:
        other = EventBus(other_ctx, jitter=0.0, deliverers=[other_recorder], lease_seconds=300)
        assert other.tick().delivered == 0
        clock.advance(seconds=301)  # the first bus died holding it: the lease runs out
        assert other.tick().delivered == 1
        # The first bus comes back: its lease is gone, so it neither delivers nor records.
        assert bus.courier.record([bus.courier.attempt(claimed[0])]).delivered == 0
        assert recorder.got == [] and len(other_recorder.got) == 1
    finally:
        other_ctx.db.dispose()


@pytest.mark.postgres
def test_two_buses_on_one_postgresql_never_deliver_twice(postgres_url: str) -> None:
    clock = ManualClock()
    contexts = [make_ctx(postgres_url, clock) for _ in range(2)]
    recorders = [Recorder(), Recorder()]
    buses = [
        EventBus(c, jitter=0.0, deliverers=[r], publish_batch=50)
        for c, r in zip(contexts, recorders, strict=True)
    ]
    try:
        _rule_with_target(buses[0])
        for n in range(30):
            buses[0].put_events([custom(size=100 + n * 10 + i) for i in range(10)])
        errors: list[BaseException] = []
        together = threading.Barrier(2)

        def run(b: EventBus) -> None:
            try:
                together.wait(30)
                for _ in range(20):
                    b.tick()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(b,)) for b in buses]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []
        ids = [d.id for r in recorders for d in r.got]
        assert len(ids) == 300 and len(set(ids)) == 300
        assert {d.status for d in _deliveries(contexts[0])} == {deliveries.DELIVERED}
    finally:
        for c in contexts:
            c.db.dispose()


def test_the_background_thread_delivers_when_woken(bus: EventBus, recorder: Recorder) -> None:
    _rule_with_target(bus)
    arrived = threading.Event()
    original = recorder.deliver

    def deliver(delivery: Any) -> None:
        original(delivery)
        arrived.set()

    recorder.deliver = deliver  # type: ignore[method-assign]
    bus.wait_seconds = 30  # only wake() can make it look
    bus.start()
    try:
        bus.put_events([custom(size=20)])
        assert arrived.wait(10)
    finally:
        bus.stop()
    assert len(recorder.got) == 1
