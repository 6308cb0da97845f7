"""Publishing: the outbox's events matched against the rules, turned into deliveries.

One transaction reads a batch of unpublished events, inserts a delivery per matching rule
target (with the input that target receives) and marks the events published, so a crash
at any point neither loses an event nor delivers it twice. Rules and targets are read in
that same transaction, so a rule another replica just changed counts at once; compiled
patterns and inputs are cached by their text, so re-reading them costs two small queries.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from stageline.events import deliveries, store
from stageline.events.patterns import Pattern, PatternError, compile_pattern
from stageline.events.schedules import DETAIL_TYPE as SCHEDULED
from stageline.events.schedules import SOURCE as SCHEDULER
from stageline.events.transform import RuleContext, TargetInput, TransformError, target_input
from stageline.services.context import ServiceContext

log = logging.getLogger("stageline.events")

DEFAULT_BATCH = 500


@dataclass(frozen=True)
class _Target:
    row: store.TargetRow
    render: TargetInput | None
    problem: str | None  # why its input cannot be built (it dead-letters every event)


@dataclass(frozen=True)
class _Route:
    rule: store.RuleRow
    pattern: Pattern | None
    targets: list[_Target]


class Publisher:
    """Turns outbox rows into deliveries; :meth:`publish` handles one batch."""

    def __init__(self, ctx: ServiceContext, *, batch: int = DEFAULT_BATCH) -> None:
        self.ctx = ctx
        self.batch = batch
        self._patterns: dict[str, Pattern | PatternError] = {}
        self._inputs: dict[str, TargetInput | TransformError] = {}

    def publish(self) -> tuple[int, int]:
        """Publish the oldest batch: (events published, deliveries created)."""
        now = self.ctx.clock.now_ms()
        with self.ctx.db.write() as conn:
            rows = deliveries.unpublished(conn, self.batch)
            if not rows:
                return 0, 0
            routes = self._routes(conn)
            made: list[dict[str, Any]] = []
            for row in rows:
                made.extend(self._deliveries(row, routes, now))
            deliveries.insert_deliveries(conn, made)
            deliveries.mark_published(conn, [row.id for row in rows], now)
        return len(rows), len(made)

    def _routes(self, conn: Connection) -> list[_Route]:
        rules = [r for r in store.list_rules(conn) if r.enabled]
        targets = store.targets_of(conn, [r.name for r in rules])
        patterns: dict[str, Pattern | PatternError] = {}
        inputs: dict[str, TargetInput | TransformError] = {}
        routes = []
        for rule in rules:
            pattern = None
            if rule.event_pattern is not None:
                compiled = self._patterns.get(rule.event_pattern) or _compile(rule)
                patterns[rule.event_pattern] = compiled
                if isinstance(compiled, PatternError):
                    continue
                pattern = compiled
            compiled_targets = []
            for target in targets.get(rule.name, []):
                built = self._inputs.get(target.text) or _input(target.document)
                inputs[target.text] = built
                if isinstance(built, TransformError):
                    compiled_targets.append(_Target(target, None, str(built)))
                else:
                    compiled_targets.append(_Target(target, built, None))
            routes.append(_Route(rule, pattern, compiled_targets))
        # Keep only what the current rules use, so the caches never outgrow them.
        self._patterns, self._inputs = patterns, inputs
        return routes

    def _deliveries(
        self, row: deliveries.OutboxRow, routes: list[_Route], now: int
    ) -> Iterable[dict[str, Any]]:
        try:
            event = json.loads(row.payload)
        except ValueError:
            log.error("outbox event %s is not JSON; it matches no rule", row.event_id)
            return
        if not isinstance(event, dict):
            log.error("outbox event %s is not a JSON object; it matches no rule", row.event_id)
            return
        context_time = iso_time(row.created_ms)
        for route in _matching(event, routes):
            context = RuleContext(route.rule.name, route.rule.arn, context_time)
            for target in route.targets:
                text, problem = _render(target, event, context)
                yield {
                    "event_id": row.event_id,
                    "rule_name": route.rule.name,
                    "target_id": target.row.target_id,
                    "target_arn": target.row.arn,
                    "input": text,
                    "event_ms": row.created_ms,
                    "attempts": 0,
                    "status": deliveries.FAILED if problem else deliveries.PENDING,
                    "next_attempt_ms": None if problem else now,
                    "last_error": problem,
                    "created_ms": now,
                    "updated_ms": now,
                    "ended_ms": now if problem else None,
                }
                if problem:
                    log.warning(
                        "event %s for rule %s target %s went to the dead-letter queue: %s",
                        row.event_id,
                        route.rule.name,
                        target.row.target_id,
                        problem,
                    )


def iso_time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _matching(event: Mapping[str, Any], routes: list[_Route]) -> Iterable[_Route]:
    """The rules an event goes to. A ``Scheduled Event`` goes to the scheduled rule that made
    it and no other, as on AWS; everything else to the rules whose pattern matches."""
    if event.get("source") == SCHEDULER and event.get("detail-type") == SCHEDULED:
        owners = set(event.get("resources") or [])
        return (r for r in routes if r.rule.schedule_expression and r.rule.arn in owners)
    return (r for r in routes if r.pattern is not None and r.pattern.matches(event))


def _render(
    target: _Target, event: Mapping[str, Any], context: RuleContext
) -> tuple[str, str | None]:
    """The text the target gets, or the whole event and the reason it cannot be built."""
    whole = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    if target.render is None:
        return whole, f"the target's input cannot be built: {target.problem}"
    try:
        return target.render.render(event, context), None
    except Exception as exc:  # a bug must not lose the event: it waits in the DLQ
        return whole, f"the target's input cannot be built: {type(exc).__name__}: {exc}"


def _compile(rule: store.RuleRow) -> Pattern | PatternError:
    assert rule.event_pattern is not None
    try:
        return compile_pattern(rule.event_pattern)
    except PatternError as exc:
        log.error("rule %s has an invalid event pattern and matches nothing: %s", rule.name, exc)
        return exc


def _input(document: Mapping[str, Any]) -> TargetInput | TransformError:
    try:
        return target_input(
            input=document.get("Input"),
            input_path=document.get("InputPath"),
            input_transformer=document.get("InputTransformer"),
        )
    except TransformError as exc:
        return exc
