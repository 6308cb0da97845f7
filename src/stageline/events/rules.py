"""Rules and targets as EventBridge's API manages them, with its checks and its errors.

What AWS does, and so stageline: ``DeleteRule`` is refused while the rule has targets and
succeeds for a rule that does not exist; a rule another service manages (``ManagedBy``)
can be deleted or lose targets only with ``Force`` and cannot otherwise be changed
(``ManagedRuleException``); a rule has at most 5 targets and a bus 300 rules; PutTargets
reports a target it cannot take in ``FailedEntries`` and applies the others. One event bus
exists, ``default``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stageline.errors import ApiError, error
from stageline.events import store
from stageline.events.patterns import PatternError, compile_pattern
from stageline.events.schedules import ScheduleError, parse_schedule
from stageline.events.targets import Deliverer, find, unsupported
from stageline.events.transform import TransformError, target_input
from stageline.services.context import ServiceContext
from stageline.store import tags as tag_store

MAX_TARGETS_PER_RULE = 5
MAX_RULES_PER_BUS = 300
MAX_TAGS = 50
_MANAGED = (
    "Rule {name} is managed by {by}: "
    "{what}. Pass Force to DeleteRule or RemoveTargets if you are sure; "
    "it cannot be changed with PutRule, EnableRule, DisableRule or PutTargets"
)


@dataclass(frozen=True)
class FailedEntry:
    target_id: str
    code: str
    message: str


class RuleService:
    """EventBridge's rule and target operations over the store."""

    def __init__(
        self,
        ctx: ServiceContext,
        deliverers: Callable[[], Sequence[Deliverer]],
        *,
        changed: Callable[[], None] | None = None,
    ) -> None:
        self.ctx = ctx
        self.deliverers = deliverers
        self.changed = changed or (lambda: None)

    # -- the bus --------------------------------------------------------------------------

    @property
    def bus_arn(self) -> str:
        return f"arn:aws:events:{self.ctx.region}:{self.ctx.account_id}:event-bus/default"

    def bus_name(self, given: str | None) -> str:
        """EventBusName as given (name or ARN) -> ``default``; any other bus does not exist."""
        if given in (None, store.DEFAULT_BUS, self.bus_arn):
            return store.DEFAULT_BUS
        raise error(
            "ResourceNotFoundException",
            f"Event bus {given} does not exist. stageline has one event bus, default: "
            "omit EventBusName or pass default",
        )

    def rule_arn(self, name: str) -> str:
        return store.rule_arn(self.ctx.region, self.ctx.account_id, name)

    # -- rules ----------------------------------------------------------------------------

    def put_rule(
        self,
        name: str,
        *,
        event_pattern: str | None = None,
        schedule_expression: str | None = None,
        state: str | None = None,
        description: str | None = None,
        role_arn: str | None = None,
        tags: Sequence[tuple[str, str]] = (),
        bus: str | None = None,
    ) -> str:
        bus = self.bus_name(bus)
        if not event_pattern and not schedule_expression:
            raise error(
                "ValidationException",
                "Parameter(s) EventPattern or ScheduleExpression must be specified: pass an "
                'EventPattern such as {"source": ["aws.codepipeline"]}, or a ScheduleExpression '
                "such as rate(5 minutes)",
            )
        if event_pattern:
            try:
                compile_pattern(event_pattern)
            except PatternError as exc:
                raise error(
                    "InvalidEventPatternException", f"Event pattern is not valid. Reason: {exc}"
                ) from None
        if schedule_expression:
            try:
                parse_schedule(schedule_expression)
            except ScheduleError as exc:
                raise error(
                    "ValidationException", f"Parameter ScheduleExpression is not valid: {exc}"
                ) from None
        if len(tags) > MAX_TAGS:
            raise error(
                "ValidationException", f"a rule takes at most {MAX_TAGS} tags; got {len(tags)}"
            )
        arn = self.rule_arn(name)
        with self.ctx.db.write() as conn:
            existing = store.get_rule(conn, name, bus)
            if existing is not None:
                self._unmanaged(existing, "PutRule would change it")
            elif store.count_rules(conn, bus) >= MAX_RULES_PER_BUS:
                raise error(
                    "LimitExceededException",
                    f"The requested resource exceeds the maximum number allowed: a bus holds "
                    f"at most {MAX_RULES_PER_BUS} rules; delete one you no longer need",
                )
            store.put_rule(
                conn,
                name=name,
                arn=arn,
                event_pattern=event_pattern or None,
                schedule_expression=schedule_expression or None,
                state=state or store.ENABLED,
                description=description,
                role_arn=role_arn,
                now_ms=self.ctx.clock.now_ms(),
                bus=bus,
            )
            if tags:
                tag_store.put_tags(conn, arn, list(tags))
        self.changed()
        return arn

    def describe(self, name: str, bus: str | None = None) -> store.RuleRow:
        bus = self.bus_name(bus)
        with self.ctx.db.read() as conn:
            return self._rule(conn, name, bus)

    def list_rules(self, prefix: str | None = None, bus: str | None = None) -> list[store.RuleRow]:
        bus = self.bus_name(bus)
        with self.ctx.db.read() as conn:
            return store.list_rules(conn, bus, prefix=prefix)

    def set_enabled(self, name: str, enabled: bool, bus: str | None = None) -> None:
        bus = self.bus_name(bus)
        with self.ctx.db.write() as conn:
            rule = self._rule(conn, name, bus)
            verb = "EnableRule" if enabled else "DisableRule"
            self._unmanaged(rule, f"{verb} would change it")
            state = store.ENABLED if enabled else store.DISABLED
            if rule.state != state:
                store.set_state(conn, name, state, self.ctx.clock.now_ms(), bus)
        self.changed()

    def delete_rule(self, name: str, *, force: bool = False, bus: str | None = None) -> None:
        bus = self.bus_name(bus)
        with self.ctx.db.write() as conn:
            rule = store.get_rule(conn, name, bus)
            if rule is None:
                return  # as on AWS: deleting a rule twice succeeds
            if rule.managed_by and not force:
                self._unmanaged(rule, "DeleteRule needs Force")
            if store.list_targets(conn, name, bus) and not (rule.managed_by and force):
                raise error(
                    "ValidationException",
                    f"Rule can't be deleted since it has targets. Remove them first: "
                    f"aws events remove-targets --rule {name} --ids ...",
                )
            store.delete_rule(conn, name, bus)
            tag_store.remove_all(conn, rule.arn)
        self.changed()

    # -- targets --------------------------------------------------------------------------

    def put_targets(
        self, rule_name: str, targets: Sequence[Mapping[str, Any]], bus: str | None = None
    ) -> list[FailedEntry]:
        bus = self.bus_name(bus)
        ids = [str(t["Id"]) for t in targets]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise error(
                "ValidationException",
                f"Target Id(s) {', '.join(repeated)} appear more than once in Targets; "
                "each target of a rule needs its own Id",
            )
        failed: list[FailedEntry] = []
        good: list[Mapping[str, Any]] = []
        for target in targets:
            problem = self._target_problem(target)
            if problem is None:
                good.append(target)
            else:
                failed.append(FailedEntry(str(target["Id"]), "ValidationException", problem))
        with self.ctx.db.write() as conn:
            rule = self._rule(conn, rule_name, bus)
            self._unmanaged(rule, "PutTargets would change it")
            existing = {t.target_id for t in store.list_targets(conn, rule_name, bus)}
            total = len(existing | {str(t["Id"]) for t in good})
            if total > MAX_TARGETS_PER_RULE:
                raise error(
                    "LimitExceededException",
                    f"The requested resource exceeds the maximum number allowed: rule "
                    f"{rule_name} would have {total} targets; a rule takes at most "
                    f"{MAX_TARGETS_PER_RULE}. Remove some with RemoveTargets, or use another rule",
                )
            now = self.ctx.clock.now_ms()
            for target in good:
                store.put_target(
                    conn,
                    rule=rule_name,
                    target_id=str(target["Id"]),
                    arn=str(target["Arn"]),
                    document=target,
                    now_ms=now,
                    bus=bus,
                )
        self.changed()
        return failed

    def _target_problem(self, target: Mapping[str, Any]) -> str | None:
        arn = str(target["Arn"])
        deliverers = self.deliverers()
        if find(deliverers, arn) is None:
            return unsupported(deliverers, arn)
        try:
            target_input(
                input=target.get("Input"),
                input_path=target.get("InputPath"),
                input_transformer=target.get("InputTransformer"),
            )
        except TransformError as exc:
            return f"target {target['Id']}: {exc}"
        if target.get("HttpParameters") and not arn.startswith(("http://", "https://")):
            return (
                f"target {target['Id']}: HttpParameters apply to http(s):// targets only; "
                "remove them or point the Arn at a URL"
            )
        return None

    def remove_targets(
        self, rule_name: str, ids: Sequence[str], *, force: bool = False, bus: str | None = None
    ) -> list[FailedEntry]:
        bus = self.bus_name(bus)
        with self.ctx.db.write() as conn:
            rule = self._rule(conn, rule_name, bus)
            if rule.managed_by and not force:
                self._unmanaged(rule, "RemoveTargets needs Force")
            store.remove_targets(conn, rule_name, ids, bus)
        self.changed()
        return []

    def list_targets(self, rule_name: str, bus: str | None = None) -> list[dict[str, Any]]:
        bus = self.bus_name(bus)
        with self.ctx.db.read() as conn:
            self._rule(conn, rule_name, bus)
            return [t.document for t in store.list_targets(conn, rule_name, bus)]

    def rule_names_by_target(self, arn: str, bus: str | None = None) -> list[str]:
        bus = self.bus_name(bus)
        with self.ctx.db.read() as conn:
            return store.rule_names_by_target(conn, arn, bus)

    # -- tags -----------------------------------------------------------------------------

    def _tagged(self, conn: Any, arn: str) -> None:
        prefix = self.rule_arn("")
        if not arn.startswith(prefix) or store.get_rule(conn, arn[len(prefix) :]) is None:
            raise error(
                "ResourceNotFoundException",
                f"Resource {arn} does not exist: pass the RuleArn of a rule (see ListRules)",
            )

    def list_tags(self, arn: str) -> list[tuple[str, str]]:
        with self.ctx.db.read() as conn:
            self._tagged(conn, arn)
            return tag_store.list_tags(conn, arn)

    def tag(self, arn: str, items: Sequence[tuple[str, str]]) -> None:
        with self.ctx.db.write() as conn:
            self._tagged(conn, arn)
            tag_store.put_tags(conn, arn, list(items))
            if len(tag_store.list_tags(conn, arn)) > MAX_TAGS:
                raise error("ValidationException", f"a rule takes at most {MAX_TAGS} tags")

    def untag(self, arn: str, keys: Sequence[str]) -> None:
        with self.ctx.db.write() as conn:
            self._tagged(conn, arn)
            tag_store.remove_tags(conn, arn, list(keys))

    # -- helpers --------------------------------------------------------------------------

    def _rule(self, conn: Any, name: str, bus: str) -> store.RuleRow:
        rule = store.get_rule(conn, name, bus)
        if rule is None:
            raise error(
                "ResourceNotFoundException",
                f"Rule {name} does not exist on EventBus {bus}. List rules with ListRules "
                "(aws events list-rules)",
            )
        return rule

    @staticmethod
    def _unmanaged(rule: store.RuleRow, what: str) -> None:
        if rule.managed_by:
            who = f"{rule.managed_by}" + (
                f" for pipeline {rule.pipeline_name}" if rule.pipeline_name else ""
            )
            raise ApiError(
                _MANAGED.format(name=rule.name, by=who, what=what), code="ManagedRuleException"
            )
