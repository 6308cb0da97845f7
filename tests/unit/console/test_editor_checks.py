"""The editor's check: the API's own validation, in the order a request meets it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stageline.api.app import Services, build_services
from stageline.config import Settings
from stageline.console.calls import ApiCalls
from stageline.console.context import ConsoleContext
from stageline.console.live import LiveHub
from stageline.console.validation import STARTER, check, dump, parse


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[ConsoleContext]:
    services: Services = build_services(
        Settings(data_dir=tmp_path, extra={"agent": "off"}, build_executor="host")
    )
    try:
        yield ConsoleContext(services=services, api=ApiCalls(services), hub=LiveHub())
    finally:
        services.runtime.stop()
        services.ctx.db.dispose()


def starter(**changes: Any) -> dict[str, Any]:
    declaration = json.loads(json.dumps(STARTER))
    declaration.update(changes)
    return declaration


def test_the_starter_declaration_is_valid_in_json_and_yaml(ctx: ConsoleContext) -> None:
    for fmt in ("json", "yaml"):
        checked = check(ctx, dump(STARTER, fmt), name=None, base_version=None)
        assert checked.ok, checked.problems
        assert parse(dump(STARTER, fmt))[0] == STARTER


def test_text_that_does_not_read_names_the_place(ctx: ConsoleContext) -> None:
    checked = check(ctx, '{"name": "x",\n "stages": [}', name=None, base_version=None)
    assert not checked.ok and checked.declaration is None
    assert "line 2" in checked.problems[0].message


def test_the_models_constraints_come_first_in_the_apis_words(ctx: ConsoleContext) -> None:
    checked = check(ctx, json.dumps(starter(name="bad name!")), name=None, base_version=None)
    [problem] = checked.problems
    assert problem.message.startswith("ValidationException: 1 validation error detected")
    assert "Value 'bad name!' at 'pipeline.name' failed to satisfy constraint" in problem.message


def test_then_every_declaration_rule(ctx: ConsoleContext) -> None:
    declaration = starter()
    declaration["stages"][1]["actions"][0]["inputArtifacts"] = [{"name": "Nope"}]
    checked = check(ctx, json.dumps(declaration), name=None, base_version=None)
    [problem] = checked.problems
    assert "Nope" in problem.message and problem.message.startswith("Invalid")


def test_an_edit_cannot_rename_and_says_when_it_is_stale(ctx: ConsoleContext) -> None:
    ctx.api.call("CreatePipeline", {"pipeline": starter()})
    renamed = check(ctx, json.dumps(starter(name="other")), name="my-pipeline", base_version=1)
    assert "cannot rename" in renamed.problems[0].message
    current = check(ctx, json.dumps(starter(version=1)), name="my-pipeline", base_version=1)
    assert current.ok and current.note is None
    ctx.api.call("UpdatePipeline", {"pipeline": starter(version=1)})
    stale = check(ctx, json.dumps(starter(version=1)), name="my-pipeline", base_version=1)
    assert stale.ok  # valid, but...
    assert stale.note is not None and "now at version 2" in stale.note


def test_a_cloudformation_template_with_one_pipeline_is_read_too(ctx: ConsoleContext) -> None:
    template = {
        "Resources": {
            "Pipeline": {
                "Type": "AWS::CodePipeline::Pipeline",
                "Properties": {
                    "Name": "from-cfn",
                    "RoleArn": "arn:aws:iam::123456789012:role/r",
                    "ArtifactStore": {"Type": "S3", "Location": "bucket"},
                    "Stages": [
                        {
                            "Name": "Source",
                            "Actions": [
                                {
                                    "Name": "Source",
                                    "ActionTypeId": {
                                        "Category": "Source",
                                        "Owner": "AWS",
                                        "Provider": "CodeCommit",
                                        "Version": "1",
                                    },
                                    "Configuration": {
                                        "RepositoryName": "app",
                                        "BranchName": "main",
                                    },
                                    "OutputArtifacts": [{"Name": "Src"}],
                                }
                            ],
                        },
                        {
                            "Name": "Approve",
                            "Actions": [
                                {
                                    "Name": "Approve",
                                    "ActionTypeId": {
                                        "Category": "Approval",
                                        "Owner": "AWS",
                                        "Provider": "Manual",
                                        "Version": "1",
                                    },
                                }
                            ],
                        },
                    ],
                },
            }
        }
    }
    checked = check(ctx, json.dumps(template), name=None, base_version=None)
    assert checked.ok, checked.problems
    assert checked.declaration is not None and checked.declaration["name"] == "from-cfn"
