"""AWS::CodePipeline::Pipeline properties → the API's PipelineDeclaration."""

import json
import textwrap
from typing import Any

import pytest

from stageline.ascode import DefinitionError, LoadedPipeline, load_pipelines

PROPS = "Resources.Pipeline.Properties"


def source_stage() -> dict[str, Any]:
    return {
        "Name": "Source",
        "Actions": [
            {
                "Name": "Source",
                "ActionTypeId": {
                    "Category": "Source",
                    "Owner": "AWS",
                    "Provider": "CodeStarSourceConnection",
                    "Version": "1",
                },
                "Configuration": {
                    "ConnectionArn": "arn:aws:codestar-connections:us-east-1:123456789012:connection/x",
                    "FullRepositoryId": "org/repo",
                    "BranchName": "main",
                },
                "OutputArtifacts": [{"Name": "Src"}],
            }
        ],
    }


def build_stage(**action: Any) -> dict[str, Any]:
    return {
        "Name": "Build",
        "Actions": [
            {
                "Name": "Build",
                "ActionTypeId": {
                    "Category": "Build",
                    "Owner": "AWS",
                    "Provider": "CodeBuild",
                    "Version": "1",
                },
                "InputArtifacts": [{"Name": "Src"}],
                "Configuration": {"ProjectName": "build"},
                **action,
            }
        ],
    }


def properties(**extra: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "Name": "demo",
        "RoleArn": "arn:aws:iam::123456789012:role/demo",
        "ArtifactStore": {"Type": "S3", "Location": "demo-artifacts"},
        "Stages": [source_stage(), build_stage()],
    }
    props.update(extra)
    return {k: v for k, v in props.items() if v is not None}


def load(props: dict[str, Any], **kwargs: Any) -> LoadedPipeline:
    template = {
        "Resources": {"Pipeline": {"Type": "AWS::CodePipeline::Pipeline", "Properties": props}}
    }
    (pipeline,) = load_pipelines(json.dumps(template), **kwargs)
    return pipeline


def error(props: dict[str, Any], **kwargs: Any) -> DefinitionError:
    with pytest.raises(DefinitionError) as caught:
        load(props, **kwargs)
    return caught.value


def test_properties_become_camel_case_members() -> None:
    pipeline = load(properties(PipelineType="V2", ExecutionMode="QUEUED"))
    assert pipeline.form == "cfn-json"
    assert pipeline.origin == "Resources.Pipeline"
    assert pipeline.pipeline == {
        "name": "demo",
        "roleArn": "arn:aws:iam::123456789012:role/demo",
        "artifactStore": {"type": "S3", "location": "demo-artifacts"},
        "stages": [
            {
                "name": "Source",
                "actions": [
                    {
                        "name": "Source",
                        "actionTypeId": {
                            "category": "Source",
                            "owner": "AWS",
                            "provider": "CodeStarSourceConnection",
                            "version": "1",
                        },
                        "configuration": {
                            "ConnectionArn": (
                                "arn:aws:codestar-connections:us-east-1:123456789012:connection/x"
                            ),
                            "FullRepositoryId": "org/repo",
                            "BranchName": "main",
                        },
                        "outputArtifacts": [{"name": "Src"}],
                    }
                ],
            },
            {
                "name": "Build",
                "actions": [
                    {
                        "name": "Build",
                        "actionTypeId": {
                            "category": "Build",
                            "owner": "AWS",
                            "provider": "CodeBuild",
                            "version": "1",
                        },
                        "configuration": {"ProjectName": "build"},
                        "inputArtifacts": [{"name": "Src"}],
                    }
                ],
            },
        ],
        "executionMode": "QUEUED",
        "pipelineType": "V2",
    }
    assert pipeline.tags == [] and pipeline.disabled_transitions == [] and pipeline.notes == []


def test_the_declaration_is_accepted_by_botocore() -> None:
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("codepipeline")
    pipeline = load(properties(Tags=[{"Key": "team", "Value": "web"}]))
    report = ParamValidator().validate(
        {"pipeline": pipeline.pipeline, "tags": pipeline.tags},
        model.operation_model("CreatePipeline").input_shape,
    )
    assert not report.has_errors(), report.generate_report()


def test_artifact_stores_list_becomes_a_region_map() -> None:
    stores = [
        {"Region": "eu-west-1", "ArtifactStore": {"Type": "S3", "Location": "primary"}},
        {
            "Region": "eu-west-3",
            "ArtifactStore": {
                "Type": "S3",
                "Location": "secondary",
                "EncryptionKey": {"Id": "alias/k", "Type": "KMS"},
            },
        },
    ]
    pipeline = load(properties(ArtifactStore=None, ArtifactStores=stores))
    assert "artifactStore" not in pipeline.pipeline
    assert pipeline.pipeline["artifactStores"] == {
        "eu-west-1": {"type": "S3", "location": "primary"},
        "eu-west-3": {
            "type": "S3",
            "location": "secondary",
            "encryptionKey": {"id": "alias/k", "type": "KMS"},
        },
    }
    assert list(pipeline.pipeline) == ["name", "roleArn", "artifactStores", "stages"]


def test_artifact_stores_with_the_same_region_twice_is_an_error() -> None:
    store = {"Region": "eu-west-1", "ArtifactStore": {"Type": "S3", "Location": "b"}}
    exc = error(properties(ArtifactStore=None, ArtifactStores=[store, store]))
    assert exc.path == f"{PROPS}.ArtifactStores[1].Region"


def test_tags_go_beside_the_declaration() -> None:
    pipeline = load(properties(Tags=[{"Key": "team", "Value": "web"}, {"Key": "n", "Value": 3}]))
    assert pipeline.tags == [{"key": "team", "value": "web"}, {"key": "n", "value": "3"}]
    assert "tags" not in pipeline.pipeline


def test_disabled_transitions_are_returned_separately() -> None:
    pipeline = load(
        properties(DisableInboundStageTransitions=[{"StageName": "Build", "Reason": "freeze"}])
    )
    assert pipeline.disabled_transitions == [{"stageName": "Build", "reason": "freeze"}]


def test_disabled_transition_needs_a_reason() -> None:
    exc = error(properties(DisableInboundStageTransitions=[{"StageName": "Build"}]))
    assert exc.path == f"{PROPS}.DisableInboundStageTransitions[0]"
    assert "'Reason'" in exc.message


def test_restart_execution_on_update_is_a_note() -> None:
    pipeline = load(properties(RestartExecutionOnUpdate=True))
    assert "restartExecutionOnUpdate" not in pipeline.pipeline
    assert pipeline.notes[0].startswith(f"{PROPS}.RestartExecutionOnUpdate: is true")


def test_missing_name_is_generated_from_stack_and_logical_id() -> None:
    pipeline = load(properties(Name=None), stack_name="ci")
    name = pipeline.pipeline["name"]
    assert name.startswith("ci-Pipeline-") and len(name) <= 100
    assert name == load(properties(Name=None), stack_name="ci").pipeline["name"]
    assert pipeline.notes[0].startswith(f"{PROPS}.Name: not set")
    assert name in pipeline.notes[0]


def test_default_stack_name_comes_from_the_file_name() -> None:
    template = {
        "Resources": {
            "Pipeline": {"Type": "AWS::CodePipeline::Pipeline", "Properties": properties(Name=None)}
        }
    }
    (pipeline,) = load_pipelines(json.dumps(template), filename="cdk.out/App.template.json")
    assert pipeline.pipeline["name"].startswith("App-Pipeline-")


def test_cloudformation_coercions() -> None:
    action = {
        "ActionTypeId": {
            "Category": "Build",
            "Owner": "AWS",
            "Provider": "CodeBuild",
            "Version": 1,
        },
        "RunOrder": "2",
        "TimeoutInMinutes": "30",
        "Configuration": {"ProjectName": "b", "PollForSourceChanges": False, "BatchEnabled": 1},
    }
    built = load(properties(Stages=[source_stage(), build_stage(**action)]))
    declared = built.pipeline["stages"][1]["actions"][0]
    assert declared["actionTypeId"]["version"] == "1"
    assert declared["runOrder"] == 2
    assert declared["timeoutInMinutes"] == 30
    assert declared["configuration"] == {
        "ProjectName": "b",
        "PollForSourceChanges": "false",
        "BatchEnabled": "1",
    }


def test_run_order_that_is_not_a_number_is_an_error() -> None:
    exc = error(properties(Stages=[source_stage(), build_stage(RunOrder="first")]))
    assert exc.path == f"{PROPS}.Stages[1].Actions[0].RunOrder"
    assert "expected a whole number" in exc.message


def test_unknown_property_is_an_error_with_suggestion() -> None:
    exc = error(properties(Stages=[source_stage(), build_stage(InputArtifact=[{"Name": "Src"}])]))
    assert exc.path == f"{PROPS}.Stages[1].Actions[0].InputArtifact"
    assert exc.message == (
        "'InputArtifact' is not a property of ActionDeclaration (did you mean 'InputArtifacts'?)"
    )


def test_api_spelling_in_a_template_is_an_error() -> None:
    exc = error(properties(roleArn="arn:aws:iam::123456789012:role/x"))
    assert exc.path == f"{PROPS}.roleArn"
    assert "did you mean 'RoleArn'?" in exc.message


def test_version_is_not_a_cloudformation_property() -> None:
    exc = error(properties(Version=3))
    assert "'Version' is not a property of AWS::CodePipeline::Pipeline" in exc.message


def test_missing_required_property_is_an_error() -> None:
    exc = error(properties(RoleArn=None))
    assert exc.path == PROPS
    assert "missing the required property 'RoleArn'" in exc.message


def test_configuration_value_that_is_a_mapping_is_an_error() -> None:
    exc = error(
        properties(Stages=[source_stage(), build_stage(Configuration={"ProjectName": {"a": "b"}})])
    )
    assert exc.path == f"{PROPS}.Stages[1].Actions[0].Configuration.ProjectName"
    assert "configuration values are strings" in exc.message


def test_v2_members_convert() -> None:
    stage = build_stage(
        Commands=["make test"],
        OutputVariables=["VERSION"],
        EnvironmentVariables=[{"Name": "MODE", "Value": "ci", "Type": "PLAINTEXT"}],
        Namespace="BuildVars",
        OutputArtifacts=[{"Name": "Out", "Files": ["dist/**"]}],
        Region="eu-west-1",
        RoleArn="arn:aws:iam::123456789012:role/act",
    )
    stage["BeforeEntry"] = {
        "Conditions": [
            {
                "Result": "FAIL",
                "Rules": [
                    {
                        "Name": "Window",
                        "RuleTypeId": {
                            "Category": "Rule",
                            "Owner": "AWS",
                            "Provider": "DeploymentWindow",
                            "Version": "1",
                        },
                        "Configuration": {"Cron": "0 9 ? * MON-FRI *", "TimeZone": "UTC"},
                    }
                ],
            }
        ]
    }
    stage["OnFailure"] = {"Result": "RETRY", "RetryConfiguration": {"RetryMode": "FAILED_ACTIONS"}}
    stage["OnSuccess"] = {"Conditions": [{"Result": "FAIL", "Rules": []}]}
    stage["Blockers"] = [{"Name": "b", "Type": "Schedule"}]
    pipeline = load(
        properties(
            PipelineType="V2",
            Stages=[source_stage(), stage],
            Variables=[{"Name": "Env", "DefaultValue": "dev", "Description": "target"}],
            Triggers=[
                {
                    "ProviderType": "CodeStarSourceConnection",
                    "GitConfiguration": {
                        "SourceActionName": "Source",
                        "Push": [
                            {
                                "Branches": {"Includes": ["main"], "Excludes": ["wip/*"]},
                                "FilePaths": {"Includes": ["src/**"]},
                                "Tags": {"Includes": ["v*"]},
                            }
                        ],
                        "PullRequest": [{"Events": ["OPEN"], "Branches": {"Includes": ["main"]}}],
                    },
                }
            ],
        )
    )
    declared = pipeline.pipeline
    action = declared["stages"][1]["actions"][0]
    assert action["commands"] == ["make test"]
    assert action["outputVariables"] == ["VERSION"]
    assert action["environmentVariables"] == [{"name": "MODE", "value": "ci", "type": "PLAINTEXT"}]
    assert action["namespace"] == "BuildVars"
    assert action["outputArtifacts"] == [{"name": "Out", "files": ["dist/**"]}]
    assert action["region"] == "eu-west-1" and action["roleArn"].endswith(":role/act")
    rule = declared["stages"][1]["beforeEntry"]["conditions"][0]["rules"][0]
    assert rule["ruleTypeId"]["provider"] == "DeploymentWindow"
    assert rule["configuration"] == {"Cron": "0 9 ? * MON-FRI *", "TimeZone": "UTC"}
    assert declared["stages"][1]["onFailure"] == {
        "result": "RETRY",
        "retryConfiguration": {"retryMode": "FAILED_ACTIONS"},
    }
    assert declared["stages"][1]["blockers"] == [{"name": "b", "type": "Schedule"}]
    assert declared["variables"] == [
        {"name": "Env", "defaultValue": "dev", "description": "target"}
    ]
    git = declared["triggers"][0]["gitConfiguration"]
    assert git["push"][0]["branches"] == {"includes": ["main"], "excludes": ["wip/*"]}
    assert git["push"][0]["filePaths"] == {"includes": ["src/**"]}
    assert git["push"][0]["tags"] == {"includes": ["v*"]}
    assert git["pullRequest"] == [{"events": ["OPEN"], "branches": {"includes": ["main"]}}]


def test_several_pipelines_in_template_order() -> None:
    template = {
        "Resources": {
            "Second": {"Type": "AWS::CodePipeline::Pipeline", "Properties": properties(Name="b")},
            "Role": {"Type": "AWS::IAM::Role"},
            "First": {"Type": "AWS::CodePipeline::Pipeline", "Properties": properties(Name="a")},
        }
    }
    loaded = load_pipelines(json.dumps(template))
    assert [(p.origin, p.pipeline["name"]) for p in loaded] == [
        ("Resources.Second", "b"),
        ("Resources.First", "a"),
    ]


def test_template_without_pipelines_says_what_it_has() -> None:
    template = {
        "Resources": {
            "A": {"Type": "AWS::S3::Bucket"},
            "B": {"Type": "AWS::S3::Bucket"},
            "R": {"Type": "AWS::IAM::Role"},
        }
    }
    with pytest.raises(DefinitionError) as caught:
        load_pipelines(json.dumps(template))
    assert caught.value.message == (
        "the template creates no AWS::CodePipeline::Pipeline; it has AWS::S3::Bucket (2), "
        "AWS::IAM::Role"
    )


def test_sam_template_with_implicit_function_role() -> None:
    text = textwrap.dedent(
        """\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Merge:
            Type: AWS::Serverless::Function
            Properties: {Handler: index.handler, Runtime: python3.12, CodeUri: src/}
          Pipeline:
            Type: AWS::CodePipeline::Pipeline
            Properties:
              Name: sam
              RoleArn: !GetAtt MergeRole.Arn
              ArtifactStore: {Type: S3, Location: bucket}
              Stages:
                - Name: Source
                  Actions:
                    - Name: S3
                      ActionTypeId: {Category: Source, Owner: AWS, Provider: S3, Version: '1'}
                      Configuration: {S3Bucket: b, S3ObjectKey: k.zip, PollForSourceChanges: false}
                      OutputArtifacts: [{Name: Src}]
                - Name: Invoke
                  Actions:
                    - Name: Merge
                      ActionTypeId: {Category: Invoke, Owner: AWS, Provider: Lambda, Version: '1'}
                      Configuration: {FunctionName: !Ref Merge}
        """
    )
    (pipeline,) = load_pipelines(text)
    assert pipeline.form == "cfn-yaml"
    assert pipeline.pipeline["roleArn"] == "arn:aws:iam::123456789012:role/MergeRole"
    assert pipeline.pipeline["stages"][1]["actions"][0]["configuration"] == {
        "FunctionName": "Merge"
    }


def test_cdk_style_json_template() -> None:
    template = {
        "Resources": {
            "PipelineRoleD68726F7": {
                "Type": "AWS::IAM::Role",
                "Metadata": {"aws:cdk:path": "Stack/Pipeline/Role/Resource"},
            },
            "ArtifactsBucket2AAC5544": {"Type": "AWS::S3::Bucket"},
            "Pipeline": {
                "Type": "AWS::CodePipeline::Pipeline",
                "Properties": properties(
                    Name=None,
                    RoleArn={"Fn::GetAtt": ["PipelineRoleD68726F7", "Arn"]},
                    ArtifactStore={"Type": "S3", "Location": {"Ref": "ArtifactsBucket2AAC5544"}},
                    Stages=[
                        source_stage(),
                        build_stage(
                            RoleArn={
                                "Fn::Join": [
                                    "",
                                    [
                                        "arn:",
                                        {"Ref": "AWS::Partition"},
                                        ":iam::",
                                        {"Ref": "AWS::AccountId"},
                                        ":role/cdk-hnb659fds-deploy-role-",
                                        {"Ref": "AWS::AccountId"},
                                        "-",
                                        {"Ref": "AWS::Region"},
                                    ],
                                ]
                            }
                        ),
                    ],
                ),
                "DependsOn": ["PipelineRoleD68726F7"],
                "Metadata": {"aws:cdk:path": "Stack/Pipeline/Resource"},
            },
        },
        "Parameters": {
            "BootstrapVersion": {
                "Type": "AWS::SSM::Parameter::Value<String>",
                "Default": "/cdk-bootstrap/hnb659fds/version",
            }
        },
    }
    (pipeline,) = load_pipelines(json.dumps(template), filename="cdk.out/Stack.template.json")
    declared = pipeline.pipeline
    assert declared["name"].startswith("Stack-Pipeline-")
    assert declared["roleArn"] == "arn:aws:iam::123456789012:role/PipelineRoleD68726F7"
    assert declared["artifactStore"]["location"] == "artifactsbucket2aac5544"
    assert declared["stages"][1]["actions"][0]["roleArn"] == (
        "arn:aws:iam::123456789012:role/cdk-hnb659fds-deploy-role-123456789012-us-east-1"
    )


def test_macro_transforms_and_foreach_loops_are_noted() -> None:
    template = {
        "Transform": ["AWS::LanguageExtensions", "MyMacro"],
        "Resources": {
            "Fn::ForEach::Buckets": ["Name", ["a", "b"], {"${Name}": {"Type": "AWS::S3::Bucket"}}],
            "Pipeline": {"Type": "AWS::CodePipeline::Pipeline", "Properties": properties()},
        },
    }
    (pipeline,) = load_pipelines(json.dumps(template))
    assert pipeline.notes[0].startswith("Transform: macro 'MyMacro' runs inside CloudFormation")
    assert pipeline.notes[1].startswith("Resources.Fn::ForEach::Buckets: Fn::ForEach loops")
