"""What a target receives: the event, Input, InputPath, InputTransformer (EventBridge's rules)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from stageline.events import (
    ConstantInput,
    InputPath,
    InputTransformer,
    RuleContext,
    TransformError,
    WholeEvent,
    target_input,
)

# The EC2 event of the guide's "Input transform examples".
EVENT: dict[str, Any] = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING"},
}
WITH_ITEMS = {**EVENT, "items": [{"id": 1}, {"id": 2}]}
PATHS = {"timestamp": "$.time", "instance": "$.detail.instance-id", "state": "$.detail.state"}
RULE = RuleContext(
    rule_name="example",
    rule_arn="arn:aws:events:us-east-2:123456789012:rule/example",
    ingestion_time="2015-11-11T21:29:55Z",
)

# Template -> output, from the guide's examples (JSON outputs shown minified, as delivered).
GUIDE_EXAMPLES = [
    (
        "simple-string",
        '"instance <instance> is in <state>"',
        '"instance i-0123456789 is in RUNNING"',
    ),
    (
        "string-with-escaped-quotes",
        '"instance \\"<instance>\\" is in <state>"',
        '"instance \\"i-0123456789\\" is in RUNNING"',
    ),
    (
        "simple-json",
        '{\n  "instance" : <instance>,\n  "state": <state>\n}',
        '{"instance":"i-0123456789","state":"RUNNING"}',
    ),
    (
        "json-with-strings-and-variables",
        '{\n "instance" : <instance>,\n "state": "<state>",\n'
        ' "instanceStatus": "instance \\"<instance>\\" is in <state>"\n}',
        '{"instance":"i-0123456789","state":"RUNNING",'
        '"instanceStatus":"instance \\"i-0123456789\\" is in RUNNING"}',
    ),
    (
        "json-mixing-variables-and-constants",
        '{\n  "instance" : <instance>,\n  "state": [ 9, <state>, true ],\n  "Transformed" : "Yes"\n}',
        '{"instance":"i-0123456789","state":[9,"RUNNING",true],"Transformed":"Yes"}',
    ),
    ("reserved-variable-in-string", '"<aws.events.rule-name> triggered"', '"example triggered"'),
    ("plain-text", "<instance> is in state <state>", "i-0123456789 is in state RUNNING"),
]


@pytest.mark.parametrize(
    ("template", "output"), [pytest.param(t, o, id=i) for i, t, o in GUIDE_EXAMPLES]
)
def test_the_guides_examples_render_as_documented(template: str, output: str) -> None:
    assert InputTransformer(PATHS, template).render(EVENT, RULE) == output


def test_reserved_variables_in_json() -> None:
    template = (
        '{"ruleArn": <aws.events.rule-arn>, "ruleName": <aws.events.rule-name>, '
        '"at": <aws.events.event.ingestion-time>, "original": <aws.events.event>, '
        '"full": <aws.events.event.json>}'
    )
    out = json.loads(InputTransformer(None, template).render(EVENT, RULE))
    assert out["ruleArn"] == RULE.rule_arn
    assert out["ruleName"] == "example"
    assert out["at"] == "2015-11-11T21:29:55Z"
    assert out["original"] == {k: v for k, v in EVENT.items() if k != "detail"}
    assert out["full"] == EVENT


def test_ingestion_time_defaults_to_now_in_iso_8601() -> None:
    out = InputTransformer(None, '"<aws.events.event.ingestion-time>"').render(EVENT, RuleContext())
    assert re.fullmatch(r'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"', out)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("$", WITH_ITEMS, id="whole-event"),
        pytest.param("$.resources[0]", EVENT["resources"][0], id="array-index"),
        pytest.param("$.detail", EVENT["detail"], id="object"),
        pytest.param("$.detail.*", ["i-0123456789", "RUNNING"], id="object-wildcard"),
        pytest.param("$.items[*].id", [1, 2], id="array-wildcard"),
        pytest.param("$.items[1].id", 2, id="index-then-name"),
        pytest.param("$.items[5].id", None, id="index-beyond-end-is-missing"),
    ],
)
def test_paths_select_values_as_json(path: str, expected: Any) -> None:
    out = InputTransformer({"v": path}, '{"v": <v>}').render(WITH_ITEMS, RULE)
    assert json.loads(out) == {"v": expected}


def test_values_keep_their_json_type_outside_quotes_and_become_text_inside() -> None:
    event = {"detail": {"n": 3, "ok": True, "obj": {"a": [1]}, "none": None}}
    paths = {"n": "$.detail.n", "ok": "$.detail.ok", "obj": "$.detail.obj", "none": "$.detail.none"}
    template = '{"raw": [<n>, <ok>, <obj>, <none>], "text": "<n> <ok> <obj> <none>"}'
    out = json.loads(InputTransformer(paths, template).render(event, RULE))
    assert out == {"raw": [3, True, {"a": [1]}, None], "text": '3 true {"a":[1]} null'}


def test_quoted_values_are_escaped_so_the_output_stays_json() -> None:
    event = {"detail": {"message": 'say "hi"\\ then\nleave'}}
    out = InputTransformer({"m": "$.detail.message"}, '{"text": "got: <m>"}').render(event, RULE)
    assert json.loads(out) == {"text": 'got: say "hi"\\ then\nleave'}


def test_a_path_that_finds_nothing_leaves_null_or_an_empty_string() -> None:
    transformer = InputTransformer({"gone": "$.detail.nope"}, '{"a": <gone>, "b": "[<gone>]"}')
    assert transformer.render(EVENT, RULE) == '{"a":null,"b":"[]"}'
    assert InputTransformer({"gone": "$.nope"}, "x<gone>y").render(EVENT, RULE) == "xy"


def test_unknown_placeholders_stay_literal_in_text() -> None:
    assert InputTransformer(PATHS, "<b><state></b>").render(EVENT, RULE) == "<b>RUNNING</b>"


def test_json_templates_are_minified_outside_strings_only() -> None:
    out = InputTransformer(PATHS, '{ "a b" : [ 1 , 2 ] ,\n "c": "x  y" }').render(EVENT, RULE)
    assert out == '{"a b":[1,2],"c":"x  y"}'


BAD_TRANSFORMERS = [
    (
        "too-many-paths",
        {f"k{i}": "$.id" for i in range(101)},
        '"x"',
        "101 entries; the limit is 100",
    ),
    ("bad-key", {"a.b": "$.id"}, '"x"', "must be 1-256 characters of A-Z a-z 0-9 _ -"),
    ("reserved-key", {"aws.events.rule-name": "$.id"}, '"x"', "is reserved"),
    ("path-without-dollar", {"a": "detail.state"}, '"x"', "must start with $"),
    ("bracket-notation", {"a": "$['detail']"}, '"x"', "use dot notation"),
    ("recursive-descent", {"a": "$..state"}, '"x"', "cannot be read at position 1"),
    ("empty-template", {}, "", "InputTemplate must be 1-8192 characters"),
    ("long-template", {}, "x" * 8193, "InputTemplate must be 1-8192 characters"),
    ("placeholder-as-key", PATHS, "{<state>: 1}", "uses <state> as an object key"),
    ("placeholder-in-quoted-key", PATHS, '{"<state>": 1}', "uses <state> in an object key"),
    ("invalid-json", PATHS, '{"a": <state>,}', "not valid JSON once its placeholders are filled"),
    ("undefined-placeholder", PATHS, '{"a": <nope>}', "<nope> is not in InputPathsMap"),
]


@pytest.mark.parametrize(
    ("paths", "template", "message"),
    [pytest.param(p, t, m, id=i) for i, p, t, m in BAD_TRANSFORMERS],
)
def test_invalid_transformers_are_refused(
    paths: dict[str, str], template: str, message: str
) -> None:
    with pytest.raises(TransformError, match=re.escape(message)):
        InputTransformer(paths, template)


def test_constant_input_must_be_json() -> None:
    assert ConstantInput('{"a": 1}').render(EVENT, RULE) == '{"a": 1}'
    with pytest.raises(TransformError, match="Input must be valid JSON"):
        ConstantInput("not json")
    with pytest.raises(TransformError, match="the limit is 8192"):
        ConstantInput('"' + "x" * 8200 + '"')


def test_input_path_sends_the_selected_part() -> None:
    assert (
        InputPath("$.detail").render(EVENT, RULE)
        == '{"instance-id":"i-0123456789","state":"RUNNING"}'
    )
    assert InputPath("$.nope").render(EVENT, RULE) == "null"


def test_target_input_picks_one_option_from_the_puttargets_shapes() -> None:
    assert isinstance(target_input(), WholeEvent)
    assert json.loads(target_input().render(EVENT, RULE)) == EVENT
    assert target_input(input="[1]").render(EVENT, RULE) == "[1]"
    assert target_input(input_path="$.source").render(EVENT, RULE) == '"aws.ec2"'
    wire = {"InputPathsMap": {"s": "$.detail.state"}, "InputTemplate": '"<s>"'}
    assert target_input(input_transformer=wire).render(EVENT, RULE) == '"RUNNING"'
    with pytest.raises(TransformError, match="only one of Input, InputPath and InputTransformer"):
        target_input(input="[1]", input_path="$")
    with pytest.raises(TransformError, match="needs an InputTemplate"):
        target_input(input_transformer={"InputPathsMap": {}})
