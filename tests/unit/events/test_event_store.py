"""Rules, targets and deliveries kept alike in SQLite and PostgreSQL."""

from __future__ import annotations

import json

from stageline.events import deliveries, store
from stageline.services.context import ServiceContext

PIPELINE_ARN = "arn:aws:codepipeline:eu-west-1:210987654321:deploy"
PATTERN = json.dumps({"source": ["aws.codecommit"]})


def _rule(conn: object, name: str, now: int, **extra: object) -> bool:
    values: dict[str, object] = {
        "name": name,
        "arn": store.rule_arn("us-east-1", "123456789012", name),
        "event_pattern": PATTERN,
        "schedule_expression": None,
        "state": store.ENABLED,
        "description": None,
        "role_arn": None,
        "now_ms": now,
        **extra,
    }
    return store.put_rule(conn, **values)  # type: ignore[arg-type]


def test_a_rule_is_created_then_replaced_keeping_its_creation_time(ctx: ServiceContext) -> None:
    with ctx.db.write() as conn:
        assert _rule(conn, "on-push", 1000) is True
        assert _rule(conn, "on-push", 2000, description="now described") is False
        _rule(conn, "on_other", 3000)
        _rule(conn, "onXother", 3000)
    with ctx.db.read() as conn:
        rule = store.get_rule(conn, "on-push")
        assert rule is not None
        assert (rule.created_ms, rule.modified_ms, rule.description) == (
            1000,
            2000,
            "now described",
        )
        # A prefix is literal text: "_" is not a wildcard.
        assert [r.name for r in store.list_rules(conn, prefix="on_")] == ["on_other"]
        assert store.count_rules(conn) == 3


def test_targets_keep_their_order_when_replaced(ctx: ServiceContext) -> None:
    with ctx.db.write() as conn:
        _rule(conn, "r", 1)
        for target_id in ("a", "b", "c"):
            store.put_target(
                conn,
                rule="r",
                target_id=target_id,
                arn=f"http://127.0.0.1/{target_id}",
                document={"Id": target_id, "Arn": f"http://127.0.0.1/{target_id}"},
                now_ms=1,
            )
        store.put_target(
            conn, rule="r", target_id="a", arn="command:true", document={"Id": "a"}, now_ms=2
        )
    with ctx.db.read() as conn:
        targets = store.list_targets(conn, "r")
        assert [(t.target_id, t.arn) for t in targets] == [
            ("a", "command:true"),
            ("b", "http://127.0.0.1/b"),
            ("c", "http://127.0.0.1/c"),
        ]
        assert store.rule_names_by_target(conn, "command:true") == ["r"]
    with ctx.db.write() as conn:
        assert store.remove_targets(conn, "r", ["a", "zz"]) == 1
        assert store.delete_rule(conn, "r") is True
        assert store.delete_rule(conn, "r") is False
    with ctx.db.read() as conn:
        assert store.list_targets(conn, "r") == []


def test_managed_rules_follow_their_pipeline(ctx: ServiceContext) -> None:
    with ctx.db.write() as conn:
        for name in ("deploy-Source", "deploy-Other"):
            store.put_managed_rule(
                conn,
                name=name,
                event_pattern=PATTERN,
                description="starts deploy",
                pipeline_name="deploy",
                target_id="codepipeline-deploy",
                target_arn=PIPELINE_ARN,
                now_ms=5,
            )
        _rule(conn, "mine", 5, pipeline_name="deploy")  # a user's rule is never touched
        # Put again with another target id: still exactly one target.
        store.put_managed_rule(
            conn,
            name="deploy-Source",
            event_pattern=PATTERN,
            description="starts deploy",
            pipeline_name="deploy",
            target_id="codepipeline-deploy-2",
            target_arn=PIPELINE_ARN,
            now_ms=6,
        )
    with ctx.db.read() as conn:
        rule = store.get_rule(conn, "deploy-Source")
        assert rule is not None
        assert rule.managed_by == "codepipeline.amazonaws.com"
        assert rule.pipeline_name == "deploy"
        assert rule.arn == "arn:aws:events:eu-west-1:210987654321:rule/deploy-Source"
        targets = store.list_targets(conn, "deploy-Source")
        assert [(t.target_id, t.arn) for t in targets] == [("codepipeline-deploy-2", PIPELINE_ARN)]
    with ctx.db.write() as conn:
        assert store.delete_pipeline_rules(conn, "deploy", keep={"deploy-Source"}) == [
            "deploy-Other"
        ]
    with ctx.db.read() as conn:
        assert [r.name for r in store.list_rules(conn)] == ["deploy-Source", "mine"]
    with ctx.db.write() as conn:
        store.delete_pipeline_rules(conn, "deploy", keep=set())
    with ctx.db.read() as conn:
        assert [r.name for r in store.list_rules(conn)] == ["mine"]
        assert store.list_targets(conn, "deploy-Source") == []


def _delivery(event_id: str, now: int) -> dict[str, object]:
    return {
        "event_id": event_id,
        "rule_name": "r",
        "target_id": "t",
        "target_arn": "test:t",
        "input": "{}",
        "event_ms": now,
        "attempts": 0,
        "status": deliveries.PENDING,
        "next_attempt_ms": now,
        "last_error": None,
        "created_ms": now,
        "updated_ms": now,
        "ended_ms": None,
    }


def test_a_claim_is_a_lease_only_its_holder_can_finish(ctx: ServiceContext) -> None:
    with ctx.db.write() as conn:
        deliveries.insert_deliveries(conn, [_delivery("e1", 100), _delivery("e2", 100)])
    with ctx.db.write() as conn:
        due = deliveries.due(conn, 100, 10)
        ids = [row.id for row, _ in due]
        assert len(ids) == 2
        assert deliveries.claim(conn, ids, now_ms=100, lease_until_ms=1000) == 2
    with ctx.db.write() as conn:
        # Leased: not due for anyone else, and a second claim takes nothing.
        assert deliveries.due(conn, 500, 10) == []
        assert deliveries.claim(conn, ids, now_ms=500, lease_until_ms=1500) == 0
        # Only the lease holder's result counts.
        assert not deliveries.finish(
            conn, ids[0], lease_until_ms=999, status=deliveries.DELIVERED, now_ms=600
        )
        assert deliveries.finish(
            conn, ids[0], lease_until_ms=1000, status=deliveries.DELIVERED, now_ms=600
        )
        assert deliveries.finish(
            conn, ids[1], lease_until_ms=1000, status=deliveries.FAILED, now_ms=600, error="boom"
        )
    with ctx.db.read() as conn:
        first, second = deliveries.get_deliveries(conn, ids)
        assert (first.status, first.attempts, first.ended_ms) == (deliveries.DELIVERED, 1, 600)
        assert (second.status, second.last_error) == (deliveries.FAILED, "boom")
        assert [row.id for row, _ in deliveries.dead_letters(conn)] == [ids[1]]
    with ctx.db.write() as conn:
        assert deliveries.redrive(conn, None, 700) == [ids[1]]
        assert deliveries.redrive(conn, None, 700) == []
    with ctx.db.read() as conn:
        (again,) = deliveries.get_deliveries(conn, [ids[1]])
        assert (again.status, again.attempts, again.next_attempt_ms) == (deliveries.PENDING, 0, 700)
        assert again.created_ms == 700  # a fresh age for MaximumEventAgeInSeconds
    with ctx.db.write() as conn:
        assert deliveries.purge_delivered(conn, before_ms=601) == 1
        assert deliveries.purge_delivered(conn, before_ms=10**15) == 0  # the rest is not delivered
