"""The rules of a pipeline's V2 triggers, with the field each error names and its fix."""

from __future__ import annotations

from typing import Any

import pytest

from stageline.definitions.model import pipeline_from_wire
from stageline.definitions.validation import Problem, check
from stageline.services.catalog import Catalog
from tests.support.declarations import action, codebuild, codecommit, pipeline

CONNECTION = "arn:aws:codestar-connections:us-east-1:123456789012:connection/abc"


def connection_source(name: str = "Source", output: str = "SourceOut") -> dict[str, Any]:
    return action(
        name,
        "Source",
        "CodeStarSourceConnection",
        config={"ConnectionArn": CONNECTION, "FullRepositoryId": "o/r", "BranchName": "main"},
        outputs=(output,),
    )


def with_triggers(*triggers: dict[str, Any], sources: list[dict[str, Any]] | None = None) -> Any:
    decl = pipeline(
        "p",
        ("Source", sources or [connection_source()]),
        ("Build", [codebuild()]),
        pipelineType="V2",
        triggers=list(triggers),
    )
    return list(check(pipeline_from_wire(decl), Catalog()))


def trig(
    source: str = "Source", provider: str = "CodeStarSourceConnection", **git: Any
) -> dict[str, Any]:
    return {"providerType": provider, "gitConfiguration": {"sourceActionName": source, **git}}


def only(found: list[Problem]) -> Problem:
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


BRANCHES = {"branches": {"includes": ["main"]}}


def test_the_documented_example_is_valid() -> None:
    # The create-pipeline JSON of "Trigger filtering in the pipeline JSON (CLI)".
    example = trig(
        push=[
            {
                "filePaths": {
                    "includes": ["projectA/**", "common/**/*.js"],
                    "excludes": ["**/README.md", "**/LICENSE", "**/CONTRIBUTING.md"],
                },
                "branches": {"includes": ["feature/**", "release/**"], "excludes": ["mainline"]},
                "tags": {"includes": ["release-v0", "release-v1"], "excludes": ["release-v2"]},
            }
        ],
        pullRequest=[
            {
                "events": ["CLOSED"],
                "branches": {"includes": ["feature/**", "release/**"], "excludes": ["mainline"]},
                "filePaths": {"includes": ["projectA/**"], "excludes": ["**/README.md"]},
            }
        ],
    )
    assert with_triggers(example) == []


def test_cdk_empty_criteria_objects_are_accepted() -> None:
    assert (
        with_triggers(trig(push=[{"tags": {"includes": ["v*"]}, "branches": {}, "filePaths": {}}]))
        == []
    )


def test_stageline_accepts_triggers_on_hosted_codecommit_sources() -> None:
    assert with_triggers(trig(push=[BRANCHES]), sources=[codecommit()]) == []


@pytest.mark.parametrize(
    ("trigger", "where", "message"),
    [
        (
            trig(provider="GitHub", push=[BRANCHES]),
            "triggers[1].providerType",
            "set it to 'CodeStarSourceConnection'",
        ),
        (
            {"providerType": "CodeStarSourceConnection"},
            "triggers[1].gitConfiguration",
            "needs gitConfiguration",
        ),
        (
            trig(),
            "triggers[1].gitConfiguration",
            "has no push or pullRequest filters; add one",
        ),
        (
            trig(push=[BRANCHES] * 4),
            "triggers[1].gitConfiguration.push",
            "at most 3 push filters, this one has 4",
        ),
        (
            trig(pullRequest=[BRANCHES] * 4),
            "triggers[1].gitConfiguration.pullRequest",
            "at most 3 pullRequest filters",
        ),
        (
            trig(push=[{"filePaths": {"includes": ["src/**"]}}]),
            "triggers[1].gitConfiguration.push[1]",
            "a push filter needs tags or branches",
        ),
        (
            trig(push=[{"tags": {"includes": ["v*"]}, "filePaths": {"includes": ["src/**"]}}]),
            "triggers[1].gitConfiguration.push[1].filePaths",
            "filePaths apply only together with branches",
        ),
        (
            trig(push=[{"branches": {"includes": [f"b{i}" for i in range(9)]}}]),
            "triggers[1].gitConfiguration.push[1].branches.includes",
            "at most 8 patterns are allowed, this list has 9",
        ),
        (
            trig(push=[{"branches": {"includes": ["release-[0-9"]}}]),
            "triggers[1].gitConfiguration.push[1].branches.includes",
            "never closed with ']'",
        ),
        (
            trig(push=[{"branches": {"includes": ["x" * 256]}}]),
            "triggers[1].gitConfiguration.push[1].branches.includes",
            "1 to 255 characters",
        ),
        (
            trig(pullRequest=[{"events": ["OPEN"]}]),
            "triggers[1].gitConfiguration.pullRequest[1].branches",
            "needs the destination branches",
        ),
        (
            trig(pullRequest=[{"events": ["MERGED"], **BRANCHES}]),
            "triggers[1].gitConfiguration.pullRequest[1].events",
            "'MERGED' is not one of OPEN, UPDATED, CLOSED",
        ),
        (
            trig(pullRequest=[{"events": ["OPEN", "OPEN"], **BRANCHES}]),
            "triggers[1].gitConfiguration.pullRequest[1].events",
            "may appear once",
        ),
    ],
)
def test_trigger_rules(trigger: dict[str, Any], where: str, message: str) -> None:
    problem = only(with_triggers(trigger))
    assert problem.where == where
    assert message in problem.message
    assert problem.code in ("InvalidStructureException", "LimitExceededException")


def test_counts_over_a_quota_are_limit_errors() -> None:
    problem = only(with_triggers(trig(push=[BRANCHES] * 4)))
    assert problem.code == "LimitExceededException"


def test_one_trigger_per_source_action() -> None:
    problem = only(with_triggers(trig(push=[BRANCHES]), trig(pullRequest=[BRANCHES])))
    assert problem.where == "triggers[2].gitConfiguration.sourceActionName"
    assert "triggers[1] already applies to 'Source'" in problem.message
    assert "merge their push and pullRequest filters" in problem.message


def test_triggers_need_a_connection_or_hosted_source() -> None:
    s3 = action(
        "Files",
        "Source",
        "S3",
        config={"S3Bucket": "b", "S3ObjectKey": "k.zip"},
        outputs=("SourceOut",),
    )
    problem = only(with_triggers(trig("Files", push=[BRANCHES]), sources=[s3]))
    assert "'Files' uses the S3 provider" in problem.message


def test_an_unknown_source_action_is_one_problem_with_a_suggestion() -> None:
    problem = only(with_triggers(trig("Sourse", push=[BRANCHES])))
    assert problem.message == (
        "'Sourse' is not a source action of this pipeline (did you mean 'Source'?); "
        "source actions: Source"
    )


def test_v1_pipelines_still_refuse_triggers() -> None:
    decl = pipeline("p", triggers=[trig(push=[BRANCHES])], pipelineType="V1")
    decl["stages"][0]["actions"] = [connection_source()]
    messages = [p.message for p in check(pipeline_from_wire(decl), Catalog())]
    assert any("triggers need pipelineType V2" in m for m in messages)
