"""The visual editor's form, its operations, and round trips that lose nothing."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.datastructures import MultiDict

from stageline.console.visual import VisualError, apply, decode, form_model

DECLARATION: dict[str, Any] = {
    "name": "p",
    "roleArn": "arn:aws:iam::123456789012:role/r",
    "artifactStore": {"type": "S3", "location": "bucket"},
    "version": 4,
    "stages": [
        {
            "name": "Source",
            "actions": [
                {
                    "name": "Source",
                    "actionTypeId": {
                        "category": "Source",
                        "owner": "AWS",
                        "provider": "CodeCommit",
                        "version": "1",
                    },
                    "runOrder": 1,
                    "configuration": {"RepositoryName": "app", "BranchName": "main"},
                    "outputArtifacts": [{"name": "Src"}],
                    "inputArtifacts": [],
                    "namespace": "SourceVariables",
                }
            ],
        },
        {
            "name": "Build",
            "onFailure": {"result": "RETRY"},
            "actions": [
                {
                    "name": "Unit",
                    "actionTypeId": {
                        "category": "Compute",
                        "owner": "AWS",
                        "provider": "Commands",
                        "version": "1",
                    },
                    "runOrder": 2,
                    "commands": ["make test", "make lint"],
                    "inputArtifacts": [{"name": "Src"}],
                    "outputArtifacts": [{"name": "Out", "files": ["dist/**"]}],
                    "configuration": {},
                    "timeoutInMinutes": 30,
                },
            ],
        },
    ],
}


def as_form(declaration: dict[str, Any]) -> MultiDict:
    """What a browser submits for the form the template renders from ``declaration``."""
    pipeline_json, stages = form_model(declaration)
    fields: list[tuple[str, str]] = [("pipeline.json", pipeline_json)]
    for i, s in enumerate(stages):
        fields += [(f"stage.{i}.name", s.name), (f"stage.{i}.json", s.hidden)]
        for j, a in enumerate(s.actions):
            p = f"action.{i}.{j}."
            fields += [
                (p + "json", a.hidden),
                (p + "name", a.name),
                (p + "type", a.type),
                (p + "runOrder", a.run_order),
                (p + "inputs", a.inputs),
                (p + "outputs", a.outputs),
                (p + "namespace", a.namespace),
                (p + "commands", a.commands),
            ]
            for k, (key, value) in enumerate(a.configuration):
                fields += [(f"{p}config.{k}.key", key), (f"{p}config.{k}.value", value)]
            n = len(a.configuration)
            fields += [(f"{p}config.{n}.key", ""), (f"{p}config.{n}.value", "")]
    return MultiDict(fields)


def test_a_round_trip_through_the_form_keeps_every_member() -> None:
    assert decode(as_form(DECLARATION)) == DECLARATION


def test_edited_fields_replace_the_declared_ones() -> None:
    form = as_form(DECLARATION)
    form["action.1.0.name"] = "Tests"
    form["action.1.0.outputs"] = "Out, Report"
    form["action.1.0.commands"] = "pytest\n\n"
    form["action.1.0.config.0.key"] = "Extra"
    form["action.1.0.config.0.value"] = "line one\nline two"
    form["action.0.0.namespace"] = ""
    form["action.0.0.runOrder"] = "x"
    out = decode(form)
    unit = out["stages"][1]["actions"][0]
    assert unit["name"] == "Tests"
    assert unit["outputArtifacts"] == [{"name": "Out", "files": ["dist/**"]}, {"name": "Report"}]
    assert unit["commands"] == ["pytest"]
    assert unit["configuration"] == {"Extra": "line one\nline two"}
    assert "namespace" not in out["stages"][0]["actions"][0]
    assert out["stages"][0]["actions"][0]["runOrder"] == "x"  # the API names the problem


def names(declaration: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [(s["name"], [a["name"] for a in s["actions"]]) for s in declaration["stages"]]


def test_operations_add_move_and_remove() -> None:
    d = apply(DECLARATION, "add-stage:0")
    assert names(d) == [("Source", ["Source"]), ("Stage1", ["Approve"]), ("Build", ["Unit"])]
    d = apply(d, "down-stage:1")
    assert [s["name"] for s in d["stages"]] == ["Source", "Build", "Stage1"]
    d = apply(d, "add-action:1")
    d = apply(d, "add-action:1")
    assert names(d)[1] == ("Build", ["Unit", "Action1", "Action2"])
    d = apply(d, "up-action:1.2")
    assert names(d)[1] == ("Build", ["Unit", "Action2", "Action1"])
    d = apply(d, "remove-action:1.0")
    d = apply(d, "remove-stage:2")
    assert names(d) == [("Source", ["Source"]), ("Build", ["Action2", "Action1"])]
    assert DECLARATION["stages"][1]["actions"][0]["name"] == "Unit"  # never mutated


@pytest.mark.parametrize("op", ["", "sync", "up-stage:0", "down-stage:1", "remove-stage:9", "x:y"])
def test_operations_that_cannot_apply_change_nothing(op: str) -> None:
    assert apply(DECLARATION, op) == DECLARATION


def test_a_tampered_form_is_refused_with_a_reason() -> None:
    form = as_form(DECLARATION)
    form["stage.1.json"] = "[1]"
    with pytest.raises(VisualError, match=r"stage\.1\.json is not a JSON object"):
        decode(form)
    form = as_form(DECLARATION)
    form["action.0.0.type"] = "Source|AWS"
    with pytest.raises(VisualError, match="no action type"):
        decode(form)
