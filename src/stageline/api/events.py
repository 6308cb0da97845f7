"""Amazon EventBridge's API (service ``events``, JSON 1.1, ``AWSEvents``) over the event bus.

Rules, targets, PutEvents and TestEventPattern on the one ``default`` bus, shaped by
botocore's ``events`` model, so ``boto3.client("events")`` and ``aws events`` work unchanged.
"""

from __future__ import annotations

from typing import Any

from stageline.api.protocol import ServiceEndpoint
from stageline.errors import error
from stageline.events import store
from stageline.events.bus import EventBus
from stageline.events.patterns import InvalidEventError, PatternError, test_event_pattern
from stageline.events.rules import FailedEntry
from stageline.services import paging

TARGET_PREFIX = "AWSEvents"
DEFAULT_LIMIT = 100


def _page(kind: str, items: list[Any], p: dict[str, Any]) -> tuple[list[Any], str | None]:
    return paging.offset_page(
        kind,
        items,
        p.get("NextToken"),
        int(p.get("Limit") or DEFAULT_LIMIT),
        bad_token="ValidationException",
    )


def _with_token(out: dict[str, Any], token: str | None) -> dict[str, Any]:
    if token:
        out["NextToken"] = token
    return out


def _rule(rule: store.RuleRow, *, account_id: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Name": rule.name,
        "Arn": rule.arn,
        "State": rule.state,
        "EventBusName": rule.event_bus_name,
    }
    optional = {
        "EventPattern": rule.event_pattern,
        "ScheduleExpression": rule.schedule_expression,
        "Description": rule.description,
        "RoleArn": rule.role_arn,
        "ManagedBy": rule.managed_by,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    if account_id is not None:
        out["CreatedBy"] = account_id
    return out


def _failed(entries: list[FailedEntry]) -> dict[str, Any]:
    return {
        "FailedEntryCount": len(entries),
        "FailedEntries": [
            {"TargetId": f.target_id, "ErrorCode": f.code, "ErrorMessage": f.message}
            for f in entries
        ],
    }


def _tags(items: list[dict[str, Any]] | None) -> list[tuple[str, str]]:
    return [(str(t["Key"]), str(t["Value"])) for t in items or []]


def build_endpoint(bus: EventBus) -> ServiceEndpoint:
    endpoint = ServiceEndpoint(service_name="events", target_prefix=TARGET_PREFIX)
    rules = bus.rules
    ctx = bus.ctx

    def put_rule(p: dict[str, Any]) -> dict[str, Any]:
        arn = rules.put_rule(
            p["Name"],
            event_pattern=p.get("EventPattern"),
            schedule_expression=p.get("ScheduleExpression"),
            state=p.get("State"),
            description=p.get("Description"),
            role_arn=p.get("RoleArn"),
            tags=_tags(p.get("Tags")),
            bus=p.get("EventBusName"),
        )
        return {"RuleArn": arn}

    def delete_rule(p: dict[str, Any]) -> dict[str, Any]:
        rules.delete_rule(p["Name"], force=bool(p.get("Force")), bus=p.get("EventBusName"))
        return {}

    def describe_rule(p: dict[str, Any]) -> dict[str, Any]:
        return _rule(rules.describe(p["Name"], p.get("EventBusName")), account_id=ctx.account_id)

    def list_rules(p: dict[str, Any]) -> dict[str, Any]:
        found = rules.list_rules(p.get("NamePrefix"), p.get("EventBusName"))
        page, token = _page("rules", found, p)
        return _with_token({"Rules": [_rule(r) for r in page]}, token)

    def enable_rule(p: dict[str, Any]) -> dict[str, Any]:
        rules.set_enabled(p["Name"], True, p.get("EventBusName"))
        return {}

    def disable_rule(p: dict[str, Any]) -> dict[str, Any]:
        rules.set_enabled(p["Name"], False, p.get("EventBusName"))
        return {}

    def put_targets(p: dict[str, Any]) -> dict[str, Any]:
        return _failed(rules.put_targets(p["Rule"], p["Targets"], p.get("EventBusName")))

    def remove_targets(p: dict[str, Any]) -> dict[str, Any]:
        failed = rules.remove_targets(
            p["Rule"], p["Ids"], force=bool(p.get("Force")), bus=p.get("EventBusName")
        )
        return _failed(failed)

    def list_targets_by_rule(p: dict[str, Any]) -> dict[str, Any]:
        page, token = _page("targets", rules.list_targets(p["Rule"], p.get("EventBusName")), p)
        return _with_token({"Targets": page}, token)

    def list_rule_names_by_target(p: dict[str, Any]) -> dict[str, Any]:
        names = rules.rule_names_by_target(p["TargetArn"], p.get("EventBusName"))
        page, token = _page("rule-names", names, p)
        return _with_token({"RuleNames": page}, token)

    def put_events(p: dict[str, Any]) -> dict[str, Any]:
        results = bus.put_events(p["Entries"])
        entries: list[dict[str, Any]] = []
        for r in results:
            if r.event_id is not None:
                entries.append({"EventId": r.event_id})
            else:
                entries.append({"ErrorCode": r.code, "ErrorMessage": r.message})
        failed = sum(1 for r in results if r.event_id is None)
        return {"FailedEntryCount": failed, "Entries": entries}

    def test_pattern(p: dict[str, Any]) -> dict[str, Any]:
        try:
            return {"Result": test_event_pattern(p["Event"], p["EventPattern"])}
        except PatternError as exc:
            raise error(
                "InvalidEventPatternException", f"Event pattern is not valid. Reason: {exc}"
            ) from None
        except InvalidEventError as exc:
            raise error(
                "ValidationException", f"Parameter Event is not valid. Reason: {exc}"
            ) from None

    def default_bus() -> dict[str, Any]:
        return {"Name": store.DEFAULT_BUS, "Arn": rules.bus_arn}

    def describe_event_bus(p: dict[str, Any]) -> dict[str, Any]:
        rules.bus_name(p.get("Name"))
        return default_bus()

    def list_event_buses(p: dict[str, Any]) -> dict[str, Any]:
        prefix = p.get("NamePrefix") or ""
        buses = [default_bus()] if store.DEFAULT_BUS.startswith(prefix) else []
        page, token = _page("buses", buses, p)
        return _with_token({"EventBuses": page}, token)

    def list_tags(p: dict[str, Any]) -> dict[str, Any]:
        found = rules.list_tags(p["ResourceARN"])
        return {"Tags": [{"Key": k, "Value": v} for k, v in found]}

    def tag_resource(p: dict[str, Any]) -> dict[str, Any]:
        rules.tag(p["ResourceARN"], _tags(p["Tags"]))
        return {}

    def untag_resource(p: dict[str, Any]) -> dict[str, Any]:
        rules.untag(p["ResourceARN"], [str(k) for k in p["TagKeys"]])
        return {}

    endpoint.handlers.update(
        PutRule=put_rule,
        DeleteRule=delete_rule,
        DescribeRule=describe_rule,
        ListRules=list_rules,
        EnableRule=enable_rule,
        DisableRule=disable_rule,
        PutTargets=put_targets,
        RemoveTargets=remove_targets,
        ListTargetsByRule=list_targets_by_rule,
        ListRuleNamesByTarget=list_rule_names_by_target,
        PutEvents=put_events,
        TestEventPattern=test_pattern,
        DescribeEventBus=describe_event_bus,
        ListEventBuses=list_event_buses,
        ListTagsForResource=list_tags,
        TagResource=tag_resource,
        UntagResource=untag_resource,
    )
    return endpoint
