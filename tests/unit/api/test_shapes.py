"""Request checks against botocore's model, in AWS's words, and response shaping."""

from __future__ import annotations

import datetime as dt

import pytest

from stageline.api import shapes
from stageline.errors import ApiError
from tests.support.declarations import pipeline


def op(name: str):  # type: ignore[no-untyped-def]
    return shapes.service_model("codepipeline").operation_model(name)


def refused(operation: str, params: object) -> str:
    with pytest.raises(ApiError) as info:
        shapes.check_input(op(operation), params)
    assert info.value.code in ("ValidationException", "SerializationException")
    return info.value.message


def test_valid_request_passes() -> None:
    shapes.check_input(op("CreatePipeline"), {"pipeline": pipeline("ok")})


def test_missing_required_member() -> None:
    msg = refused("GetPipeline", {})
    assert (
        msg
        == "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"
    )


def test_name_pattern_and_length_are_checked_with_the_path() -> None:
    decl = pipeline("bad name!")
    msg = refused("CreatePipeline", {"pipeline": decl})
    assert "at 'pipeline.name'" in msg and "regular expression pattern" in msg
    decl = pipeline("x" * 101)
    assert "length less than or equal to 100" in refused("CreatePipeline", {"pipeline": decl})


def test_run_order_range() -> None:
    decl = pipeline("p")
    decl["stages"][1]["actions"][0]["runOrder"] = 1000
    msg = refused("CreatePipeline", {"pipeline": decl})
    assert "pipeline.stages.2.member.actions.1.member.runOrder" in msg
    assert "less than or equal to 999" in msg


def test_config_value_over_1000_characters() -> None:
    decl = pipeline("p")
    decl["stages"][1]["actions"][0]["configuration"]["ProjectName"] = "x" * 1001
    assert "length less than or equal to 1000" in refused("CreatePipeline", {"pipeline": decl})


def test_wrong_types_and_enums() -> None:
    assert "Member must be an integer" in refused("GetPipeline", {"name": "p", "version": "2"})
    assert "Member must be an integer" in refused("GetPipeline", {"name": "p", "version": True})
    decl = pipeline("p", executionMode="FAST")
    assert "enum value set: [QUEUED, SUPERSEDED, PARALLEL]" in refused(
        "CreatePipeline", {"pipeline": decl}
    )


def test_unknown_member_is_refused_with_the_known_ones() -> None:
    decl = pipeline("p")
    decl["stages"][1]["actions"][0]["runorder"] = 2
    msg = refused("CreatePipeline", {"pipeline": decl})
    assert "runorder" in msg and "runOrder" in msg


def test_every_problem_is_counted() -> None:
    msg = refused("ListPipelines", {"maxResults": 0, "nextToken": ""})
    assert msg.startswith("2 validation errors detected")


def test_body_must_be_an_object() -> None:
    with pytest.raises(ApiError) as info:
        shapes.check_input(op("ListPipelines"), [1, 2])
    assert info.value.code == "SerializationException"


def test_output_is_filtered_to_the_shape_and_timestamps_are_epoch_seconds() -> None:
    when = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    out = shapes.shape_output(
        op("ListPipelines").output_shape,
        {"pipelines": [{"name": "a", "version": 1, "created": when, "internal": "x"}], "extra": 1},
    )
    assert out == {"pipelines": [{"name": "a", "version": 1, "created": when.timestamp()}]}
