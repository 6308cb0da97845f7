"""EventBridge event patterns: one table row per operator, with events that match and that don't."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from stageline.events import InvalidEventError, PatternError, compile_pattern, patterns

SEED_RULE = {
    "source": ["aws.codecommit"],
    "detail-type": ["CodeCommit Repository State Change"],
    "resources": ["arn:aws:codecommit:us-east-1:123456789012:my-repo"],
    "detail": {
        "event": ["referenceCreated", "referenceUpdated"],
        "referenceType": ["branch"],
        "referenceName": ["main"],
    },
}


def push(**detail: Any) -> dict[str, Any]:
    """A CodeCommit push event shaped as in seed 000, with ``detail`` fields overridden."""
    event: dict[str, Any] = {
        "version": "0",
        "id": "01234567-0123-0123-0123-012345678901",
        "detail-type": "CodeCommit Repository State Change",
        "source": "aws.codecommit",
        "account": "123456789012",
        "time": "2025-12-25T10:23:43Z",
        "region": "us-east-1",
        "resources": ["arn:aws:codecommit:us-east-1:123456789012:my-repo"],
        "detail": {
            "event": "referenceUpdated",
            "repositoryName": "my-repo",
            "repositoryId": "12345678-1234-5678-abcd-12345678abcd",
            "referenceType": "branch",
            "referenceName": "main",
            "referenceFullName": "refs/heads/main",
            "commitId": "3e5983EXAMPLE",
        },
    }
    event["detail"].update(detail)
    return event


def envelope(**top: Any) -> dict[str, Any]:
    event = push()
    event.update(top)
    return event


@dataclass
class Case:
    name: str
    pattern: dict[str, Any]
    match: dict[str, dict[str, Any]] = field(default_factory=dict)
    miss: dict[str, dict[str, Any]] = field(default_factory=dict)


CASES = [
    Case(
        "seed-codecommit-rule",
        SEED_RULE,
        match={
            "push-to-main": push(),
            "main-created": push(event="referenceCreated"),
        },
        miss={
            "tag-push": push(referenceType="tag", referenceName="main"),
            "other-branch": push(referenceName="feature"),
            "branch-deleted": push(event="referenceDeleted"),
            "other-repo": envelope(resources=["arn:aws:codecommit:us-east-1:123456789012:other"]),
            "other-source": envelope(source="aws.codepipeline"),
            "other-detail-type": envelope(**{"detail-type": "CodeCommit Comment on Commit"}),
            "no-detail": envelope(detail={}),
        },
    ),
    Case(
        "exact-strings-any-of",
        {"source": ["aws.ec2", "aws.fargate"]},
        match={"first": {"source": "aws.ec2"}, "second": {"source": "aws.fargate"}},
        miss={
            "case-differs": {"source": "AWS.EC2"},
            "trailing-space": {"source": "aws.ec2 "},
            "missing": {},
            "other": {"source": "aws.s3"},
        },
    ),
    Case(
        "exact-number-numeric-equality",
        {"detail": {"risk": [80]}},
        match={"int": {"detail": {"risk": 80}}, "float": {"detail": {"risk": 80.0}}},
        miss={"string": {"detail": {"risk": "80"}}, "other": {"detail": {"risk": 81}}},
    ),
    Case(
        "numbers-and-booleans-differ",
        {"a": [1], "b": [True]},
        match={"both": {"a": 1, "b": True}},
        miss={"bool-for-number": {"a": True, "b": True}, "number-for-bool": {"a": 1, "b": 1}},
    ),
    Case(
        "null-only-matches-null",
        {"x": [None]},
        match={"null": {"x": None}, "null-in-array": {"x": ["a", None]}},
        miss={"empty": {"x": ""}, "missing": {}, "word-null": {"x": "null"}},
    ),
    Case(
        "empty-string-only-matches-empty",
        {"x": [""]},
        match={"empty": {"x": ""}},
        miss={"null": {"x": None}, "missing": {}},
    ),
    Case(
        "booleans",
        {"x": [False]},
        match={"false": {"x": False}, "false-in-array": {"x": [True, False]}},
        miss={"string": {"x": "false"}, "zero": {"x": 0}, "true": {"x": True}},
    ),
    Case(
        "prefix",
        {"time": [{"prefix": "2017-10-02"}]},
        match={"day": {"time": "2017-10-02T18:43:48Z"}},
        miss={
            "other-day": {"time": "2017-10-03T18:43:48Z"},
            "number": {"time": 20171002},
            "missing": {},
        },
    ),
    Case(
        "prefix-ignore-case",
        {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]},
        match={"lower": {"service": "eventbridge"}, "upper": {"service": "EVENTBRIDGE"}},
        miss={"space": {"service": "Event Bridge"}, "inside": {"service": "xeventb"}},
    ),
    Case(
        "suffix",
        {"FileName": [{"suffix": ".png"}]},
        match={"png": {"FileName": "a.png"}},
        miss={"upper": {"FileName": "a.PNG"}, "not-last": {"FileName": "a.png.txt"}},
    ),
    Case(
        "suffix-ignore-case",
        {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]},
        match={"upper": {"FileName": "A.PNG"}, "lower": {"FileName": "a.png"}},
        miss={"jpg": {"FileName": "a.jpg"}},
    ),
    Case(
        "equals-ignore-case",
        {"name": [{"equals-ignore-case": "alice"}]},
        match={"upper": {"name": "ALICE"}, "title": {"name": "Alice"}},
        miss={"longer": {"name": "alicia"}, "number": {"name": 1}},
    ),
    Case(
        "wildcard",
        {"path": [{"wildcard": "dir/*.png"}]},
        match={
            "file": {"path": "dir/a.png"},
            "empty-run": {"path": "dir/.png"},
            "crosses-slashes": {"path": "dir/sub/a.png"},
        },
        miss={"jpg": {"path": "dir/a.jpg"}, "other-dir": {"path": "other/a.png"}},
    ),
    Case(
        "wildcard-escaped-asterisk-and-backslash",
        {"x": [{"wildcard": "a\\*b*"}], "y": [{"wildcard": "c:\\\\dir\\\\*"}]},
        match={"literal-star": {"x": "a*bc", "y": "c:\\dir\\file"}},
        miss={
            "star-is-literal": {"x": "axbc", "y": "c:\\dir\\file"},
            "backslash-is-literal": {"x": "a*b", "y": "c:/dir/file"},
        },
    ),
    Case(
        "anything-but-string",
        {"state": [{"anything-but": "initializing"}]},
        match={"running": {"state": "running"}, "number": {"state": 5}, "null": {"state": None}},
        miss={"excluded": {"state": "initializing"}, "missing": {}, "object": {"state": {}}},
    ),
    Case(
        "anything-but-string-list",
        {"state": [{"anything-but": ["stopped", "overloaded"]}]},
        match={"running": {"state": "running"}},
        miss={"stopped": {"state": "stopped"}, "overloaded": {"state": "overloaded"}},
    ),
    Case(
        "anything-but-numbers",
        {"x": [{"anything-but": [100, 200]}]},
        match={"other": {"x": 150}, "string": {"x": "100"}},
        miss={"excluded": {"x": 100}, "excluded-float": {"x": 200.0}},
    ),
    Case(
        "anything-but-prefix",
        {"region": [{"anything-but": {"prefix": "us-"}}]},
        match={"eu": {"region": "eu-west-1"}},
        miss={"us": {"region": "us-east-1"}},
    ),
    Case(
        "anything-but-suffix",
        {"FileName": [{"anything-but": {"suffix": ".png"}}]},
        match={"jpg": {"FileName": "a.jpg"}},
        miss={"png": {"FileName": "a.png"}},
    ),
    Case(
        "anything-but-ignore-case",
        {"state": [{"anything-but": {"equals-ignore-case": ["initializing", "stopped"]}}]},
        match={"running": {"state": "running"}},
        miss={"upper": {"state": "INITIALIZING"}, "title": {"state": "Stopped"}},
    ),
    Case(
        "anything-but-wildcard",
        {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]},
        match={"src": {"FilePath": "src/app.py"}},
        miss={"lib": {"FilePath": "src/lib/x.py"}},
    ),
    Case(
        "anything-but-any-element-of-array",
        {"tags": [{"anything-but": "secret"}]},
        match={"one-other": {"tags": ["secret", "public"]}},
        miss={"only-excluded": {"tags": ["secret"]}, "empty": {"tags": []}},
    ),
    Case(
        "numeric-range",
        {"c": [{"numeric": [">", 0, "<=", 5]}]},
        match={"top": {"c": 5}, "top-float": {"c": 5.0}, "inside": {"c": 0.5}},
        miss={
            "bottom-open": {"c": 0},
            "above": {"c": 5.000001},
            "numeric-string": {"c": "3"},
            "boolean": {"c": True},
            "missing": {},
        },
    ),
    Case(
        "numeric-equals",
        {"x": [{"numeric": ["=", 3.018e2]}]},
        match={"same": {"x": 301.8}},
        miss={"near": {"x": 301.81}, "string": {"x": "301.8"}},
    ),
    Case(
        "numeric-one-bound",
        {"lt": [{"numeric": ["<", 10]}], "ge": [{"numeric": [">=", -1]}]},
        match={"inside": {"lt": 9.99, "ge": -1}},
        miss={"lt-edge": {"lt": 10, "ge": 0}, "ge-below": {"lt": 0, "ge": -1.5}},
    ),
    Case(
        "numeric-only-within-5e9",
        {"x": [{"numeric": [">", 0]}]},
        match={"limit": {"x": 5e9}},
        miss={"beyond-limit": {"x": 6e9}},
    ),
    Case(
        "exists-true",
        {"detail": {"state": [{"exists": True}]}},
        match={
            "string": {"detail": {"state": "pending"}},
            "null-counts": {"detail": {"state": None}},
            "array": {"detail": {"state": ["a"]}},
        },
        miss={
            "missing": {"detail": {}},
            "object-is-not-a-leaf": {"detail": {"state": {"c1": 100}}},
            "empty-array": {"detail": {"state": []}},
            "no-detail": {},
        },
    ),
    Case(
        "exists-false",
        {"detail": {"state": [{"exists": False}]}},
        match={
            "missing": {"detail": {}},
            "no-detail": {},
            "object-is-not-a-leaf": {"detail": {"state": {"c1": 100}}},
            "empty-array": {"detail": {"state": []}},
        },
        miss={"string": {"detail": {"state": "pending"}}, "null": {"detail": {"state": None}}},
    ),
    Case(
        "value-or-missing",
        {"x": ["a", {"exists": False}]},
        match={"value": {"x": "a"}, "missing": {}},
        miss={"other": {"x": "b"}},
    ),
    Case(
        "cidr-ipv4",
        {"ip": [{"cidr": "10.0.0.0/24"}]},
        match={"first": {"ip": "10.0.0.1"}, "last": {"ip": "10.0.0.255"}},
        miss={
            "next-net": {"ip": "10.0.1.1"},
            "not-ip": {"ip": "host"},
            "number": {"ip": 10},
            "ipv6": {"ip": "::1"},
        },
    ),
    Case(
        "cidr-ipv6",
        {"ip": [{"cidr": "2001:db8::/32"}]},
        match={"short": {"ip": "2001:db8::1"}, "long": {"ip": "2001:0db8:0:0:0:0:0:2"}},
        miss={"other": {"ip": "2001:db9::1"}, "ipv4": {"ip": "10.0.0.1"}},
    ),
    Case(
        "exact-ip-any-spelling",
        {"ip": ["2001:db8::1"]},
        match={"long-form": {"ip": "2001:0db8:0000:0000:0000:0000:0000:0001"}},
        miss={"other": {"ip": "2001:db8::2"}},
    ),
    Case(
        "or-between-fields",
        {
            "source": ["aws.cloudwatch"],
            "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}],
        },
        match={
            "first": {"source": "aws.cloudwatch", "metricName": "CPUUtilization"},
            "second": {"source": "aws.cloudwatch", "namespace": "AWS/EC2"},
        },
        miss={
            "neither": {"source": "aws.cloudwatch", "metricName": "Other"},
            "and-still-applies": {"source": "aws.ec2", "metricName": "CPUUtilization"},
        },
    ),
    Case(
        "or-nested-with-and-inside",
        {
            "detail": {
                "$or": [
                    {"state": ["FAILED"]},
                    {
                        "stage": ["Deploy"],
                        "$or": [{"action": ["Ship"]}, {"type": {"category": ["Deploy"]}}],
                    },
                ]
            }
        },
        match={
            "failed": {"detail": {"state": "FAILED"}},
            "deploy-ship": {"detail": {"stage": "Deploy", "action": "Ship"}},
            "deploy-category": {"detail": {"stage": "Deploy", "type": {"category": "Deploy"}}},
        },
        miss={
            "stage-only": {"detail": {"stage": "Deploy"}},
            "action-other-stage": {"detail": {"stage": "Build", "action": "Ship"}},
        },
    ),
    Case(
        "nested-fields",
        {"detail": {"trigger": {"risk": [8]}}},
        match={"nested": {"detail": {"trigger": {"risk": 8}}}},
        miss={
            "wrong-level": {"detail": {"risk": 8}},
            "scalar-parent": {"detail": {"trigger": "8"}},
            "missing": {"detail": {}},
        },
    ),
    Case(
        "event-arrays-any-element",
        {"resources": ["arn:b", "arn:c"]},
        match={"second": {"resources": ["arn:a", "arn:b"]}, "nested": {"resources": [["arn:c"]]}},
        miss={"empty": {"resources": []}, "none-listed": {"resources": ["arn:a"]}},
    ),
    Case(
        "array-of-objects-one-element-matches-all",
        {"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}},
        match={
            "same-element": {
                "employees": [
                    {"firstName": "John", "lastName": "Doe"},
                    {"firstName": "Anna", "lastName": "Smith"},
                ]
            }
        },
        miss={
            "split-across-elements": {
                "employees": [
                    {"firstName": "Anna", "lastName": "Doe"},
                    {"firstName": "John", "lastName": "Smith"},
                ]
            }
        },
    ),
    Case(
        "dots-in-field-names-are-plain",
        {"detail": {"state.status": ["running"]}},
        match={"dotted-key": {"detail": {"state.status": "running"}}},
        miss={"nested-key": {"detail": {"state": {"status": "running"}}}},
    ),
    Case(
        "several-operators-in-one-array",
        {"x": ["a", {"prefix": "b"}, {"numeric": [">", 10]}]},
        match={"exact": {"x": "a"}, "prefix": {"x": "bee"}, "numeric": {"x": 11}},
        miss={"none": {"x": "c"}, "small": {"x": 5}},
    ),
    Case(
        "codepipeline-failures",
        {
            "source": ["aws.codepipeline"],
            "detail-type": ["CodePipeline Pipeline Execution State Change"],
            "detail": {"state": ["FAILED"], "pipeline": [{"prefix": "prod-"}]},
        },
        match={
            "failed": envelope(
                source="aws.codepipeline",
                **{"detail-type": "CodePipeline Pipeline Execution State Change"},
                detail={"pipeline": "prod-web", "state": "FAILED", "execution-id": "e1"},
            )
        },
        miss={
            "succeeded": envelope(
                source="aws.codepipeline",
                **{"detail-type": "CodePipeline Pipeline Execution State Change"},
                detail={"pipeline": "prod-web", "state": "SUCCEEDED"},
            )
        },
    ),
]

ROWS = [
    pytest.param(case.pattern, event, expected, id=f"{case.name}/{verdict}/{label}")
    for case in CASES
    for expected, verdict, events in ((True, "matches", case.match), (False, "misses", case.miss))
    for label, event in events.items()
]


@pytest.mark.parametrize(("pattern", "event", "expected"), ROWS)
def test_operator_table(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    assert compile_pattern(pattern).matches(event) is expected
    assert compile_pattern(json.dumps(pattern)).matches(event) is expected


INVALID = [
    (
        "leaf-not-array",
        {"detail": {"state": "FAILED"}},
        'detail.state: a pattern\'s values must be arrays, as in {"state": ["FAILED"]}',
    ),
    ("top-level-array", ["aws.ec2"], "must be a JSON object"),
    ("empty-pattern", {}, "an empty object is not allowed"),
    ("empty-nested-object", {"detail": {}}, "detail: an empty object is not allowed"),
    ("empty-array", {"source": []}, "source: an empty array is not allowed"),
    ("nested-array", {"source": [["a"]]}, "source[0]: an array in a pattern holds strings"),
    (
        "two-operators-in-one-object",
        {"a": [{"prefix": "x", "suffix": "y"}]},
        "a[0]: an operator object holds one operator",
    ),
    ("unknown-operator", {"a": [{"anythingbut": "x"}]}, 'did you mean "anything-but"?'),
    ("prefix-not-string", {"a": [{"prefix": 1}]}, "a[0]: prefix takes a string"),
    (
        "prefix-bad-inner",
        {"a": [{"prefix": {"wildcard": "x"}}]},
        'prefix accepts only {"equals-ignore-case"',
    ),
    (
        "equals-ignore-case-number",
        {"a": [{"equals-ignore-case": 5}]},
        "equals-ignore-case takes a string",
    ),
    ("wildcard-consecutive", {"a": [{"wildcard": "a**"}]}, "consecutive * at position 1"),
    ("wildcard-bad-escape", {"a": [{"wildcard": "a\\x"}]}, "invalid escape at position 1"),
    ("wildcard-trailing-backslash", {"a": [{"wildcard": "a\\"}]}, "invalid escape at position 1"),
    (
        "anything-but-mixed-list",
        {"a": [{"anything-but": ["x", 1]}]},
        "only strings or only numbers",
    ),
    ("anything-but-null", {"a": [{"anything-but": None}]}, "anything-but takes a string, a number"),
    (
        "anything-but-empty-list",
        {"a": [{"anything-but": []}]},
        "anything-but takes a string, a number",
    ),
    (
        "anything-but-numeric",
        {"a": [{"anything-but": {"numeric": [">", 1]}}]},
        "anything-but takes a value, a list, or one of prefix",
    ),
    (
        "anything-but-empty-prefix",
        {"a": [{"anything-but": {"prefix": ""}}]},
        "anything-but prefix cannot be empty",
    ),
    (
        "anything-but-prefix-number",
        {"a": [{"anything-but": {"prefix": 1}}]},
        "takes a string or a list of strings",
    ),
    ("numeric-not-array", {"a": [{"numeric": 5}]}, "numeric takes an operator and a number"),
    ("numeric-bad-operator", {"a": [{"numeric": ["!=", 5]}]}, 'unknown numeric operator "!="'),
    ("numeric-string-value", {"a": [{"numeric": [">", "5"]}]}, 'must be a number, not "5"'),
    ("numeric-boolean-value", {"a": [{"numeric": [">", True]}]}, "must be a number, not true"),
    (
        "numeric-reversed-range",
        {"a": [{"numeric": ["<", 5, ">", 1]}]},
        "a numeric range goes from > or >=",
    ),
    ("numeric-empty-range", {"a": [{"numeric": [">", 5, "<", 1]}]}, "is empty"),
    ("numeric-too-large", {"a": [{"numeric": [">", 6e9]}]}, "outside -5e9..5e9"),
    ("numeric-too-precise", {"a": [{"numeric": ["=", 0.0000001]}]}, "more than 6 decimals"),
    (
        "numeric-bad-upper-operator",
        {"a": [{"numeric": [">", 1, ">", 5]}]},
        "a numeric range ends with < or <=",
    ),
    ("exists-not-boolean", {"a": [{"exists": "yes"}]}, "exists takes true or false"),
    ("cidr-no-mask", {"a": [{"cidr": "10.0.0.1"}]}, 'needs one "/" and a mask'),
    ("cidr-not-ip", {"a": [{"cidr": "host/24"}]}, "is not an IP address"),
    ("cidr-ipv4-32", {"a": [{"cidr": "10.0.0.1/32"}]}, "IPv4 mask bits must be < 32"),
    ("cidr-ipv6-128", {"a": [{"cidr": "::1/128"}]}, "IPv6 mask bits must be < 128"),
    ("or-not-array", {"$or": {"a": ["x"]}}, "$or: $or takes an array of at least two objects"),
    ("or-single-branch", {"$or": [{"a": ["x"]}]}, "$or takes an array of at least two objects"),
    (
        "or-branch-not-object",
        {"$or": [{"a": ["x"]}, ["b"]]},
        "$or[1]: each item of $or is an object",
    ),
    (
        "or-operator-as-field",
        {"$or": [{"prefix": ["x"]}, {"b": ["y"]}]},
        '$or[0].prefix: "prefix" is an operator name',
    ),
    ("or-empty-branch", {"$or": [{}, {"b": ["y"]}]}, "$or[0]: an empty object is not allowed"),
]


@pytest.mark.parametrize(("pattern", "message"), [pytest.param(p, m, id=i) for i, p, m in INVALID])
def test_invalid_patterns_are_refused_with_the_path_and_the_fix(pattern: Any, message: str) -> None:
    with pytest.raises(PatternError) as refused:
        compile_pattern(pattern)
    assert message in str(refused.value)
    with pytest.raises(PatternError) as refused_text:
        compile_pattern(json.dumps(pattern))
    assert str(refused_text.value) == str(refused.value)


def test_the_leaf_message_is_exactly_the_documented_one() -> None:
    with pytest.raises(PatternError) as refused:
        compile_pattern('{"detail": {"state": "FAILED"}}')
    assert str(refused.value) == (
        'detail.state: a pattern\'s values must be arrays, as in {"state": ["FAILED"]}'
    )
    assert refused.value.path == "detail.state"


def test_malformed_json_and_oversized_patterns_are_refused() -> None:
    with pytest.raises(PatternError, match=r"not valid JSON: Expecting value \(line 1 column 12\)"):
        compile_pattern('{"source": }')
    with pytest.raises(PatternError, match="NaN is not a JSON number"):
        compile_pattern('{"a": [NaN]}')
    big = {"source": ["x" * 4100]}
    with pytest.raises(
        PatternError, match=r"is 4\d{3} characters; EventBridge accepts at most 4096"
    ):
        compile_pattern(json.dumps(big))


def test_duplicate_keys_keep_the_last_as_eventbridge_documents() -> None:
    pattern = compile_pattern(
        '{"location": [{"prefix": "us-"}], "location": [{"anything-but": "us-east"}]}'
    )
    assert pattern.matches({"location": "eu-west-1"})
    assert not pattern.matches({"location": "us-east"})


def test_matches_refuses_anything_but_an_object() -> None:
    assert not compile_pattern({"a": [{"exists": False}]}).matches([])  # type: ignore[arg-type]


def test_event_pattern_checks_the_envelope_then_matches() -> None:
    pattern = json.dumps(SEED_RULE)
    assert patterns.test_event_pattern(json.dumps(push()), pattern) is True
    assert patterns.test_event_pattern(json.dumps(push(referenceName="dev")), pattern) is False


def test_event_pattern_requires_the_documented_envelope_fields() -> None:
    event = push()
    del event["time"], event["detail-type"]
    with pytest.raises(InvalidEventError, match="requires: time, detail-type"):
        patterns.test_event_pattern(json.dumps(event), json.dumps(SEED_RULE))
    with pytest.raises(InvalidEventError, match="resources"):
        patterns.test_event_pattern(json.dumps(envelope(resources="arn")), json.dumps(SEED_RULE))
    with pytest.raises(InvalidEventError, match="not valid JSON"):
        patterns.test_event_pattern("{", json.dumps(SEED_RULE))
    with pytest.raises(PatternError, match="source: a pattern's values must be arrays"):
        patterns.test_event_pattern(json.dumps(push()), '{"source": "aws.codecommit"}')
