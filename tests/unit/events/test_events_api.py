"""EventBridge's operations over the wire (JSON 1.1, ``AWSEvents``), with AWS's errors, and the
dead-letter routes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from stageline.api import events as events_api
from stageline.api.event_routes import event_routes
from stageline.api.protocol import Dispatcher
from stageline.events import store
from stageline.events.bus import EventBus
from stageline.events.targets import DeliveryFailed
from tests.unit.events.conftest import ACCOUNT, REGION, Recorder, custom

ANY_ORDER = '{"source": ["com.example.orders"]}'
SEED = {
    "source": ["aws.codecommit"],
    "detail-type": ["CodeCommit Repository State Change"],
    "resources": ["arn:aws:codecommit:us-east-1:123456789012:my-repo"],
    "detail": {
        "event": ["referenceCreated", "referenceUpdated"],
        "referenceType": ["branch"],
        "referenceName": ["main"],
    },
}


class Client:
    """Requests straight into the ASGI app, no sockets."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bus") as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(send())

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)


class Api:
    def __init__(self, client: Client) -> None:
        self.client = client

    def raw(self, operation: str, **params: Any) -> tuple[int, dict[str, Any]]:
        response = self.client.post(
            "/",
            headers={
                "X-Amz-Target": f"AWSEvents.{operation}",
                "Content-Type": "application/x-amz-json-1.1",
            },
            content=json.dumps(params),
        )
        return response.status_code, response.json()

    def __call__(self, operation: str, **params: Any) -> dict[str, Any]:
        status, body = self.raw(operation, **params)
        assert status == 200, body
        return body

    def error(self, operation: str, **params: Any) -> tuple[str, str]:
        status, body = self.raw(operation, **params)
        assert status == 400, body
        return body["__type"], body["message"]


@pytest.fixture
def api(bus: EventBus) -> Api:
    dispatcher = Dispatcher(max_body_bytes=1 << 20)
    dispatcher.add(events_api.build_endpoint(bus))
    app = Starlette(routes=[Route("/", dispatcher.handle, methods=["POST"]), *event_routes(bus)])
    return Api(Client(app))


def test_rules_are_put_described_listed_and_deleted(api: Api) -> None:
    arn = api("PutRule", Name="on-main", EventPattern=json.dumps(SEED), Description="seed")[
        "RuleArn"
    ]
    assert arn == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/on-main"
    described = api("DescribeRule", Name="on-main")
    assert described == {
        "Name": "on-main",
        "Arn": arn,
        "EventPattern": json.dumps(SEED),
        "State": "ENABLED",
        "Description": "seed",
        "EventBusName": "default",
        "CreatedBy": ACCOUNT,
    }
    for n in range(3):
        api("PutRule", Name=f"nightly-{n}", ScheduleExpression="rate(1 day)", State="DISABLED")
    page = api("ListRules", NamePrefix="nightly-", Limit=2)
    assert [r["Name"] for r in page["Rules"]] == ["nightly-0", "nightly-1"]
    rest = api("ListRules", NamePrefix="nightly-", Limit=2, NextToken=page["NextToken"])
    assert [r["Name"] for r in rest["Rules"]] == ["nightly-2"] and "NextToken" not in rest
    assert rest["Rules"][0]["State"] == "DISABLED"
    api("EnableRule", Name="nightly-2")
    assert api("DescribeRule", Name="nightly-2")["State"] == "ENABLED"
    api("DeleteRule", Name="nightly-2")
    api("DeleteRule", Name="nightly-2")  # twice is fine, as on AWS
    code, message = api.error("DescribeRule", Name="nightly-2")
    assert code == "ResourceNotFoundException"
    assert message.startswith("Rule nightly-2 does not exist on EventBus default")


def test_bad_rules_are_refused_with_the_reason(api: Api) -> None:
    code, message = api.error("PutRule", Name="r", EventPattern='{"source": "aws.codecommit"}')
    assert code == "InvalidEventPatternException"
    assert message.startswith("Event pattern is not valid. Reason: source:")
    code, message = api.error("PutRule", Name="r")
    assert code == "ValidationException"
    assert "EventPattern or ScheduleExpression must be specified" in message
    code, _ = api.error("PutRule", Name="r", EventPattern=ANY_ORDER, EventBusName="orders")
    assert code == "ResourceNotFoundException"
    code, _ = api.error("PutRule", Name="bad name!", EventPattern=ANY_ORDER)
    assert code == "ValidationException"


def test_a_rule_with_targets_cannot_be_deleted(api: Api) -> None:
    api("PutRule", Name="r", EventPattern=json.dumps(SEED))
    result = api("PutTargets", Rule="r", Targets=[{"Id": "hook", "Arn": "test:hook"}])
    assert result == {"FailedEntryCount": 0, "FailedEntries": []}
    assert api("ListRuleNamesByTarget", TargetArn="test:hook")["RuleNames"] == ["r"]
    assert api.error("DeleteRule", Name="r") == (
        "ValidationException",
        "Rule can't be deleted since it has targets. Remove them first: "
        "aws events remove-targets --rule r --ids ...",
    )
    api("RemoveTargets", Rule="r", Ids=["hook"])
    api("DeleteRule", Name="r")
    assert api("ListRules")["Rules"] == []


def test_put_targets_reports_each_target_it_cannot_take(api: Api) -> None:
    api("PutRule", Name="r", EventPattern=json.dumps(SEED))
    result = api(
        "PutTargets",
        Rule="r",
        Targets=[
            {"Id": "ok", "Arn": "test:ok", "RetryPolicy": {"MaximumRetryAttempts": 3}},
            {"Id": "sns", "Arn": "arn:aws:sns:us-east-1:123456789012:topic"},
            {
                "Id": "bad-template",
                "Arn": "test:x",
                "InputTransformer": {"InputPathsMap": {}, "InputTemplate": '{"a": <missing>}'},
            },
        ],
    )
    assert result["FailedEntryCount"] == 2
    failed = {f["TargetId"]: f for f in result["FailedEntries"]}
    assert failed["sns"]["ErrorCode"] == "ValidationException"
    assert "use one of: test:NAME" in failed["sns"]["ErrorMessage"]
    assert "<missing> is not in InputPathsMap" in failed["bad-template"]["ErrorMessage"]
    assert api("ListTargetsByRule", Rule="r")["Targets"] == [
        {"Id": "ok", "Arn": "test:ok", "RetryPolicy": {"MaximumRetryAttempts": 3}}
    ]
    many = [{"Id": f"t{n}", "Arn": f"test:{n}"} for n in range(5)]
    code, message = api.error("PutTargets", Rule="r", Targets=many)
    assert code == "LimitExceededException" and "at most 5" in message
    code, _ = api.error("PutTargets", Rule="missing", Targets=many[:1])
    assert code == "ResourceNotFoundException"


def test_managed_rules_change_only_with_force(api: Api, bus: EventBus) -> None:
    with bus.ctx.db.write() as conn:
        store.put_managed_rule(
            conn,
            name="stageline-app-Source",
            event_pattern=json.dumps(SEED),
            description="starts app",
            pipeline_name="app",
            target_id="codepipeline-app",
            target_arn=f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:app",
            now_ms=1,
        )
    assert api("DescribeRule", Name="stageline-app-Source")["ManagedBy"] == (
        "codepipeline.amazonaws.com"
    )
    for operation, params in [
        ("DeleteRule", {"Name": "stageline-app-Source"}),
        ("DisableRule", {"Name": "stageline-app-Source"}),
        ("PutRule", {"Name": "stageline-app-Source", "EventPattern": ANY_ORDER}),
        ("PutTargets", {"Rule": "stageline-app-Source", "Targets": [{"Id": "x", "Arn": "test:x"}]}),
        ("RemoveTargets", {"Rule": "stageline-app-Source", "Ids": ["codepipeline-app"]}),
    ]:
        code, message = api.error(operation, **params)
        assert code == "ManagedRuleException", operation
        assert "managed by codepipeline.amazonaws.com for pipeline app" in message
    api("DeleteRule", Name="stageline-app-Source", Force=True)
    assert api("ListRules")["Rules"] == []


def test_put_events_answers_for_each_entry(api: Api) -> None:
    result = api(
        "PutEvents",
        Entries=[
            custom(size=1),
            custom("aws.codecommit"),
            {"Source": "com.example", "DetailType": "x", "Detail": "[1]"},
            {"Source": "com.example", "Detail": "{}"},
        ],
    )
    assert result["FailedEntryCount"] == 3
    ok, reserved, malformed, missing = result["Entries"]
    assert set(ok) == {"EventId"}
    assert reserved["ErrorCode"] == "NotAuthorizedForSourceException"
    assert malformed["ErrorCode"] == "MalformedDetail"
    assert missing == {
        "ErrorCode": "InvalidArgument",
        "ErrorMessage": "Parameter DetailType is not valid. Reason: DetailType is a required argument.",
    }


def test_test_event_pattern(api: Api) -> None:
    event = {
        "id": "1",
        "account": ACCOUNT,
        "source": "aws.codecommit",
        "time": "2024-01-01T00:00:00Z",
        "region": REGION,
        "resources": ["arn:aws:codecommit:us-east-1:123456789012:my-repo"],
        "detail-type": "CodeCommit Repository State Change",
        "detail": {"event": "referenceUpdated", "referenceType": "branch", "referenceName": "main"},
    }
    pattern = json.dumps(SEED)
    assert api("TestEventPattern", EventPattern=pattern, Event=json.dumps(event)) == {
        "Result": True
    }
    event["detail"]["referenceName"] = "dev"
    assert api("TestEventPattern", EventPattern=pattern, Event=json.dumps(event))["Result"] is False
    code, _ = api.error("TestEventPattern", EventPattern="[]", Event=json.dumps(event))
    assert code == "InvalidEventPatternException"
    code, message = api.error("TestEventPattern", EventPattern=pattern, Event='{"id": "1"}')
    assert code == "ValidationException" and "Parameter Event is not valid" in message


def test_the_default_bus_and_tags(api: Api) -> None:
    bus_arn = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
    assert api("DescribeEventBus") == {"Name": "default", "Arn": bus_arn}
    assert api("DescribeEventBus", Name=bus_arn)["Name"] == "default"
    assert api("ListEventBuses")["EventBuses"] == [{"Name": "default", "Arn": bus_arn}]
    assert api("ListEventBuses", NamePrefix="x")["EventBuses"] == []
    assert api.error("DescribeEventBus", Name="orders")[0] == "ResourceNotFoundException"
    arn = api("PutRule", Name="r", EventPattern=ANY_ORDER, Tags=[{"Key": "team", "Value": "a"}])[
        "RuleArn"
    ]
    api("TagResource", ResourceARN=arn, Tags=[{"Key": "env", "Value": "prod"}])
    api("UntagResource", ResourceARN=arn, TagKeys=["team"])
    assert api("ListTagsForResource", ResourceARN=arn)["Tags"] == [{"Key": "env", "Value": "prod"}]


def test_the_dead_letter_queue_over_http(api: Api, bus: EventBus, recorder: Recorder) -> None:
    api("PutRule", Name="r", EventPattern=json.dumps({"source": ["com.example.orders"]}))
    api("PutTargets", Rule="r", Targets=[{"Id": "t", "Arn": "test:t"}])
    recorder.failure = DeliveryFailed("HTTP 500", retryable=False)
    api("PutEvents", Entries=[custom(size=1), custom(size=2)])
    bus.tick()
    listed = api.client.get("/events/dead-letters", params={"rule": "r"}).json()
    assert [json.loads(d["input"])["detail"]["size"] for d in listed] == [1, 2]
    assert listed[0]["lastError"] == "HTTP 500 (not retryable)"
    assert api.client.get("/events/dead-letters", params={"rule": "other"}).json() == []
    assert api.client.get("/events/dead-letters", params={"limit": "x"}).status_code == 400
    bad = api.client.post("/events/dead-letters/redrive", json={"ids": "all"})
    assert bad.status_code == 400 and '{"all": true}' in bad.json()["error"]
    recorder.failure = None
    first = listed[0]["id"]
    moved = api.client.post("/events/dead-letters/redrive", json={"ids": [first, 424242]}).json()
    assert moved == {"redriven": [first], "notInQueue": [424242]}
    bus.tick()
    assert [json.loads(i)["detail"]["size"] for i in recorder.inputs()] == [1]
    moved = api.client.post("/events/dead-letters/redrive", json={"all": True}).json()
    assert moved == {"redriven": [listed[1]["id"]], "notInQueue": []}
    bus.tick()
    assert [json.loads(i)["detail"]["size"] for i in recorder.inputs()] == [1, 2]
    assert api.client.get("/events/dead-letters").json() == []
