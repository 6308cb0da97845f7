"""Each declaration rule of DESIGN.md §3, with the message a user would read."""

from __future__ import annotations

from typing import Any

import pytest

from stageline.definitions.model import pipeline_from_wire
from stageline.definitions.validation import Problem, check
from stageline.services.catalog import Catalog
from tests.support.declarations import action, approval, codebuild, codecommit, pipeline


def problems(decl: dict[str, Any]) -> list[Problem]:
    return list(check(pipeline_from_wire(decl), Catalog()))


def only(decl: dict[str, Any]) -> Problem:
    found = problems(decl)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def test_a_plain_two_stage_pipeline_is_valid() -> None:
    assert problems(pipeline("ok")) == []


def test_fewer_than_two_stages_is_refused() -> None:
    p = only(pipeline("p", ("Source", [codecommit()])))
    assert p.code == "InvalidStructureException"
    assert "at least 2 stages" in p.message and "has 1" in p.message


def test_more_than_fifty_stages_is_refused() -> None:
    stages = [("Source", [codecommit()])] + [(f"S{i}", [codebuild(f"B{i}")]) for i in range(50)]
    p = only(pipeline("p", *stages))
    assert p.code == "LimitExceededException" and "at most 50 stages" in p.message


def test_a_stage_without_actions_is_refused() -> None:
    p = only(pipeline("p", ("Source", [codecommit()]), ("Empty", [])))
    assert p.code == "InvalidStageDeclarationException"
    assert p.where == "stage 'Empty'"


def test_more_than_fifty_actions_in_a_stage_is_refused() -> None:
    builds = [codebuild(f"B{i}") for i in range(51)]
    p = only(pipeline("p", ("Source", [codecommit()]), ("Build", builds)))
    assert p.code == "LimitExceededException" and "at most 50 actions" in p.message


def test_more_than_five_hundred_actions_in_a_pipeline_is_refused() -> None:
    stages = [("Source", [codecommit()])] + [
        (f"S{s}", [codebuild(f"B{i}") for i in range(50)]) for s in range(11)
    ]
    found = problems(pipeline("p", *stages))
    assert [p.code for p in found] == ["LimitExceededException"]
    assert "at most 500 actions" in found[0].message and "551" in found[0].message


def test_stage_names_must_be_unique() -> None:
    p = only(
        pipeline(
            "p",
            ("Source", [codecommit()]),
            ("Build", [codebuild("A")]),
            ("Build", [codebuild("B")]),
        )
    )
    assert p.code == "InvalidStructureException" and "stage names must be unique" in p.message


def test_action_names_must_be_unique_within_a_stage() -> None:
    p = only(
        pipeline("p", ("Source", [codecommit()]), ("Build", [codebuild("Same"), codebuild("Same")]))
    )
    assert p.code == "InvalidStageDeclarationException"
    assert p.where == "stage 'Build', action 'Same'"


def test_same_action_name_in_two_stages_is_fine() -> None:
    decl = pipeline(
        "p", ("Source", [codecommit()]), ("A", [codebuild("X")]), ("B", [codebuild("X")])
    )
    assert problems(decl) == []


def test_source_actions_only_in_the_first_stage() -> None:
    p = only(
        pipeline("p", ("Source", [codecommit()]), ("Build", [codecommit("Late", output="Other")]))
    )
    assert p.code == "InvalidStructureException"
    assert "only in the first stage ('Source')" in p.message


def test_first_stage_holds_only_source_actions() -> None:
    found = problems(
        pipeline("p", ("Source", [codecommit(), approval()]), ("Build", [codebuild()]))
    )
    assert len(found) == 1
    assert "first stage may contain only Source actions" in found[0].message
    assert found[0].where == "stage 'Source', action 'Approve'"


def test_input_artifact_must_be_produced_earlier_and_the_closest_name_is_suggested() -> None:
    decl = pipeline(
        "p",
        ("Source", [codecommit(output="SourceOut")]),
        ("Build", [codebuild(inputs=("SourceOut",), outputs=("BuildOutput",))]),
        (
            "Deploy",
            [
                action(
                    "Deploy",
                    "Deploy",
                    "S3",
                    config={"BucketName": "b", "Extract": "true"},
                    inputs=("BuildOut",),
                )
            ],
        ),
    )
    p = only(decl)
    assert p.code == "InvalidStructureException"
    assert p.message == (
        "input artifact 'BuildOut' is not produced by an earlier action (did you mean "
        "'BuildOutput'?); outputs so far: SourceOut, BuildOutput"
    )


def test_input_from_a_lower_run_order_in_the_same_stage_is_allowed() -> None:
    decl = pipeline(
        "p",
        ("Source", [codecommit()]),
        (
            "Build",
            [
                codebuild("First", outputs=("Mid",), run_order=1),
                codebuild("Second", inputs=("Mid",), run_order=2),
            ],
        ),
    )
    assert problems(decl) == []


def test_input_from_the_same_run_order_is_refused() -> None:
    decl = pipeline(
        "p",
        ("Source", [codecommit()]),
        ("Build", [codebuild("First", outputs=("Mid",)), codebuild("Second", inputs=("Mid",))]),
    )
    p = only(decl)
    assert "produced by action 'First' of stage 'Build', which does not run before" in p.message


def test_output_artifact_names_are_unique_in_the_pipeline() -> None:
    decl = pipeline(
        "p",
        ("Source", [codecommit(output="Out")]),
        ("Build", [codebuild(inputs=("Out",), outputs=("Out",))]),
    )
    p = only(decl)
    assert "output artifact 'Out' is already produced by action 'Source'" in p.message


@pytest.mark.parametrize(
    ("act", "expected"),
    [
        (codebuild(inputs=()), "CodeBuild actions take 1 to 5 input artifact(s), this one has 0"),
        (
            approval(inputs=("SourceOut",)),
            "Manual actions take exactly 0 input artifact(s), this one has 1",
        ),
        (
            action(
                "D",
                "Deploy",
                "S3",
                config={"BucketName": "b", "Extract": "true"},
                inputs=("SourceOut",),
                outputs=("X",),
            ),
            "S3 actions take exactly 0 output artifact(s), this one has 1",
        ),
    ],
)
def test_artifact_counts_must_fit_the_action_type(act: dict[str, Any], expected: str) -> None:
    p = only(pipeline("p", ("Source", [codecommit()]), ("Next", [act])))
    assert p.code == "InvalidActionDeclarationException"
    assert expected in p.message


def test_source_needs_exactly_one_output() -> None:
    src = codecommit()
    src["outputArtifacts"] = []
    p = only(pipeline("p", ("Source", [src]), ("Build", [approval()])))
    assert "CodeCommit actions take exactly 1 output artifact(s), this one has 0" in p.message


def test_unknown_action_type_is_refused_with_the_known_variants() -> None:
    act = action("B", "Deploy", "CodeBuild", inputs=("SourceOut",), config={"ProjectName": "x"})
    p = only(pipeline("p", ("Source", [codecommit()]), ("Build", [act])))
    assert p.code == "InvalidActionDeclarationException"
    assert "provider CodeBuild, version 1) is not available" in p.message
    assert "category Build, owner AWS" in p.message


def test_unregistered_custom_type_says_how_to_register_it() -> None:
    act = action("J", "Test", "Jenkins", owner="Custom", inputs=("SourceOut",))
    p = only(pipeline("p", ("Source", [codecommit()]), ("Test", [act])))
    assert "CreateCustomActionType" in p.message


def test_missing_required_configuration_is_named() -> None:
    src = codecommit()
    del src["configuration"]["BranchName"]
    p = only(pipeline("p", ("Source", [src]), ("Build", [codebuild()])))
    assert (
        p.message == "configuration is missing the required key 'BranchName' for CodeCommit actions"
    )


def test_unknown_configuration_key_gets_a_suggestion() -> None:
    build = codebuild()
    build["configuration"]["ProjectNme"] = "x"
    p = only(pipeline("p", ("Source", [codecommit()]), ("Build", [build])))
    assert (
        "configuration key 'ProjectNme' is not accepted by CodeBuild actions (did you mean 'ProjectName'?)"
        in p.message
    )


def test_configuration_values_are_limited_to_1000_characters() -> None:
    build = codebuild()
    build["configuration"]["ProjectName"] = "x" * 1001
    p = only(pipeline("p", ("Source", [codecommit()]), ("Build", [build])))
    assert "1001 characters; the limit is 1000" in p.message


def test_approval_custom_data_is_limited_to_500_characters() -> None:
    p = only(
        pipeline(
            "p", ("Source", [codecommit()]), ("Gate", [approval(config={"CustomData": "y" * 501})])
        )
    )
    assert "CustomData is 501 characters" in p.message


def test_commands_action_needs_commands_and_other_types_refuse_them() -> None:
    cmds = action("Run", "Compute", "Commands", inputs=("SourceOut",))
    p = only(pipeline("p", ("Source", [codecommit()]), ("Build", [cmds])))
    assert "need 'commands'" in p.message
    cmds["commands"] = ["make"]
    assert problems(pipeline("p", ("Source", [codecommit()]), ("Build", [cmds]))) == []
    build = codebuild(commands=["make"])
    p = only(pipeline("p", ("Source", [codecommit()]), ("Build", [build])))
    assert "'commands' is only accepted by action types that take it" in p.message


def test_timeout_over_the_type_maximum_is_refused() -> None:
    gate = approval(timeoutInMinutes=86401)
    p = only(pipeline("p", ("Source", [codecommit()]), ("Gate", [gate])))
    assert "timeoutInMinutes 86401 is over the maximum" in p.message


def test_namespaces_are_unique() -> None:
    decl = pipeline(
        "p",
        ("Source", [codecommit(namespace="Src")]),
        ("Build", [codebuild(namespace="Src")]),
    )
    p = only(decl)
    assert "namespace 'Src' is already used by action 'Source'" in p.message


def test_variable_from_an_earlier_action_resolves() -> None:
    build = codebuild()
    build["configuration"]["EnvironmentVariables"] = '[{"name":"C","value":"#{Src.CommitId}"}]'
    decl = pipeline("p", ("Source", [codecommit(namespace="Src")]), ("Build", [build]))
    assert problems(decl) == []


def test_variable_from_an_action_running_later_is_refused() -> None:
    first = codebuild("First", namespace="Late")
    first["configuration"]["EnvironmentVariables"] = '[{"name":"C","value":"#{Late2.X}"}]'
    second = codebuild("Second", namespace="Late2", run_order=2)
    decl = pipeline("p", ("Source", [codecommit()]), ("Build", [first, second]))
    p = only(decl)
    assert (
        "uses namespace 'Late2' of action 'Second', which does not run before this action"
        in p.message
    )


def test_unknown_namespace_lists_what_is_available() -> None:
    build = codebuild()
    build["configuration"]["EnvironmentVariables"] = '[{"name":"C","value":"#{Srce.CommitId}"}]'
    decl = pipeline("p", ("Source", [codecommit(namespace="Src")]), ("Build", [build]))
    p = only(decl)
    assert "unknown namespace 'Srce' (did you mean 'Src'?)" in p.message
    assert "codepipeline, variables, Src" in p.message


def test_codepipeline_namespace_offers_the_execution_id_only() -> None:
    build = codebuild()
    build["configuration"]["EnvironmentVariables"] = (
        '[{"name":"C","value":"#{codepipeline.PipelineExecutionId}"}]'
    )
    assert problems(pipeline("p", ("Source", [codecommit()]), ("Build", [build]))) == []
    build["configuration"]["EnvironmentVariables"] = (
        '[{"name":"C","value":"#{codepipeline.PipelineName}"}]'
    )
    p = only(pipeline("p", ("Source", [codecommit()]), ("Build", [build])))
    assert "names no codepipeline variable" in p.message


def test_pipeline_variables_need_v2_and_a_declaration() -> None:
    build = codebuild()
    build["configuration"]["EnvironmentVariables"] = '[{"name":"C","value":"#{variables.Stage}"}]'
    v2 = pipeline(
        "p",
        ("Source", [codecommit()]),
        ("Build", [build]),
        pipelineType="V2",
        variables=[{"name": "Stage", "defaultValue": "dev"}],
    )
    assert problems(v2) == []
    v2["variables"] = [{"name": "Other"}]
    assert "names no pipeline variable" in only(v2).message
    v1 = pipeline(
        "p", ("Source", [codecommit()]), ("Build", [build]), variables=[{"name": "Stage"}]
    )
    messages = [p.message for p in problems(v1)]
    assert any("pipeline-level variables need pipelineType V2" in m for m in messages)


def test_queued_and_parallel_modes_need_v2() -> None:
    p = only(pipeline("p", executionMode="QUEUED"))
    assert "execution mode QUEUED needs pipelineType V2" in p.message
    assert problems(pipeline("p", executionMode="PARALLEL", pipelineType="V2")) == []


def test_trigger_must_name_a_source_action() -> None:
    trig = [
        {
            "providerType": "CodeStarSourceConnection",
            "gitConfiguration": {"sourceActionName": "Sorce"},
        }
    ]
    p = only(pipeline("p", pipelineType="V2", triggers=trig))
    assert "'Sorce' is not a source action of this pipeline (did you mean 'Source'?)" in p.message


def test_artifact_store_exactly_one_form() -> None:
    decl = pipeline("p")
    del decl["artifactStore"]
    assert "an artifact store is required" in only(decl).message
    decl = pipeline("p", artifactStores={"us-east-1": {"type": "S3", "location": "b"}})
    assert "not both" in only(decl).message


def test_action_region_needs_an_artifact_store_there() -> None:
    decl = pipeline("p", ("Source", [codecommit()]), ("Build", [codebuild(region="eu-west-1")]))
    del decl["artifactStore"]
    decl["artifactStores"] = {"us-east-1": {"type": "S3", "location": "b"}}
    p = only(decl)
    assert "region 'eu-west-1' has no entry in artifactStores" in p.message


def test_all_problems_are_reported_at_once() -> None:
    src = codecommit()
    del src["configuration"]["BranchName"]
    decl = pipeline("p", ("Source", [src]), ("Build", [codebuild(inputs=("Nope",))]))
    assert len(problems(decl)) == 2
