"""Which form a file is in, and how files that are not pipelines are refused."""

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from stageline.ascode import MAX_INPUT_BYTES, DefinitionError, load_pipeline_file, load_pipelines


def declaration(**extra: Any) -> dict[str, Any]:
    return {
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
                            "provider": "CodeCommit",
                            "version": "1",
                        },
                        "runOrder": 1,
                        "configuration": {"RepositoryName": "repo", "BranchName": "main"},
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
        **extra,
    }


def error(text: str, **kwargs: Any) -> DefinitionError:
    with pytest.raises(DefinitionError) as caught:
        load_pipelines(text, **kwargs)
    return caught.value


def test_create_pipeline_json() -> None:
    text = json.dumps({"pipeline": declaration(), "tags": [{"key": "team", "value": "web"}]})
    (pipeline,) = load_pipelines(text)
    assert pipeline.form == "create-pipeline-json"
    assert pipeline.origin == "pipeline"
    assert pipeline.pipeline == declaration()
    assert pipeline.tags == [{"key": "team", "value": "web"}]
    assert pipeline.disabled_transitions == [] and pipeline.notes == []


def test_get_pipeline_output_keeps_version_and_ignores_metadata() -> None:
    text = json.dumps(
        {
            "pipeline": declaration(version=10),
            "metadata": {"pipelineArn": "arn:aws:codepipeline:us-east-1:1:demo", "created": 1.5},
        },
        indent=4,
    )
    (pipeline,) = load_pipelines(text)
    assert pipeline.pipeline["version"] == 10
    assert "metadata" not in pipeline.pipeline


def test_bare_declaration() -> None:
    (pipeline,) = load_pipelines(json.dumps(declaration()))
    assert pipeline.pipeline == declaration()
    assert pipeline.origin == ""


def test_create_pipeline_yaml() -> None:
    text = textwrap.dedent(
        """\
        pipeline:
          name: demo
          roleArn: arn:aws:iam::123456789012:role/demo
          artifactStore: {type: S3, location: demo-artifacts}
          stages:
            - name: Source
              actions:
                - name: Source
                  actionTypeId: &source {category: Source, owner: AWS, provider: S3, version: '1'}
                  configuration: {S3Bucket: b, S3ObjectKey: k.zip}
                  outputArtifacts: [{name: Src}]
            - name: Approve
              actions:
                - name: Approve
                  actionTypeId: {category: Approval, owner: AWS, provider: Manual, version: '1'}
        tags:
          - {key: team, value: web}
        """
    )
    (pipeline,) = load_pipelines(text, filename="pipeline.yaml")
    assert pipeline.form == "create-pipeline-yaml"
    assert pipeline.pipeline["stages"][1]["actions"][0]["actionTypeId"]["provider"] == "Manual"
    assert pipeline.tags == [{"key": "team", "value": "web"}]


def test_create_pipeline_types_are_as_strict_as_the_api() -> None:
    text = (
        "pipeline:\n  name: demo\n  roleArn: r\n  stages:\n    - name: S\n      actions:\n"
        "        - name: A\n          actionTypeId: {category: Source, owner: AWS, provider: S3, "
        "version: 1}\n"
    )
    exc = error(text)
    assert exc.path == "pipeline.stages[0].actions[0].actionTypeId.version"
    assert exc.message == 'expected a string, found the number 1 (write it in quotes: "1")'


def test_create_pipeline_unknown_member_suggests() -> None:
    exc = error(json.dumps({"pipeline": declaration(rolearn="x")}))
    assert (
        str(exc) == "pipeline.rolearn: 'rolearn' is not a member of PipelineDeclaration "
        "(did you mean 'roleArn'?)"
    )


def test_intrinsics_in_a_create_pipeline_file_are_explained() -> None:
    body = declaration()
    body["roleArn"] = {"Fn::GetAtt": ["Role", "Arn"]}
    exc = error(json.dumps({"pipeline": body}))
    assert exc.path == "pipeline.roleArn"
    assert "expected a string, found a mapping" in exc.message


def test_unknown_top_level_key_in_create_pipeline_input() -> None:
    exc = error(json.dumps({"pipeline": declaration(), "tag": []}))
    assert exc.path == "tag"
    assert "did you mean 'tags'?" in exc.message


def test_parameters_for_a_create_pipeline_file_are_refused() -> None:
    exc = error(json.dumps({"pipeline": declaration()}), parameters={"A": "b"})
    assert "apply to CloudFormation templates" in exc.message


def test_cloudformation_yaml_and_json_forms() -> None:
    props = {
        "Name": "demo",
        "RoleArn": "arn:aws:iam::123456789012:role/demo",
        "Stages": declaration()["stages"],
    }
    template = {"Resources": {"P": {"Type": "AWS::CodePipeline::Pipeline", "Properties": props}}}
    # API spelling inside a template is an error; this only checks the form detection
    with pytest.raises(DefinitionError) as caught:
        load_pipelines(json.dumps(template))
    assert caught.value.path == "Resources.P.Properties.Stages[0].name"
    yaml_text = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  B: {Type: AWS::S3::Bucket}\n"
    assert "creates no AWS::CodePipeline::Pipeline" in error(yaml_text).message


def test_cloudformation_refuses_yaml_aliases() -> None:
    text = textwrap.dedent(
        """\
        Resources:
          Pipeline:
            Type: AWS::CodePipeline::Pipeline
            Properties:
              Name: a
              RoleArn: &role arn:aws:iam::123456789012:role/demo
              Stages: []
          Other:
            Type: AWS::IAM::Role
            Properties: {Description: *role}
        """
    )
    exc = error(text)
    assert "CloudFormation does not allow YAML aliases" in exc.message
    assert "the anchor at line 6 is repeated by an alias" in exc.message


def test_cloudformation_refuses_merge_keys() -> None:
    text = "Defaults: &d {a: 1}\nResources:\n  B:\n    <<: *d\n    Type: AWS::S3::Bucket\n"
    assert "the anchor at line 1" in error(text).message or "'<<'" in error(text).message


def test_json_syntax_error_has_line_and_column() -> None:
    exc = error('{\n  "pipeline": {\n    "name": "x",\n  }\n}\n', filename="p.json")
    assert exc.path == ""
    assert exc.message.startswith("JSON error at line 4, column 3:")


def test_yaml_syntax_error_has_line_and_column() -> None:
    exc = error("pipeline:\n  name: x\n   stages: []\n")
    assert exc.message.startswith("YAML error at line 3")


def test_duplicate_json_keys_are_refused() -> None:
    assert "appears twice" in error('{"pipeline": {}, "pipeline": {}}').message


def test_files_that_hold_no_pipeline() -> None:
    assert error("").message == "the file is empty"
    assert error("- a\n- b\n").message == "expected a mapping at the top of the file, found a list"
    exc = error(json.dumps({"Pipeline": declaration()}))
    assert exc.message.startswith("no pipeline found: the file has Pipeline at the top")
    assert "did you mean 'pipeline'?" in exc.message
    assert "has no Resources section" in error("AWSTemplateFormatVersion: '2010-09-09'\n").message


def test_input_size_is_capped() -> None:
    exc = error("a: " + "x" * (MAX_INPUT_BYTES + 1))
    assert "larger than 5 MB" in exc.message


def test_definition_error_string_form() -> None:
    assert str(DefinitionError("a.b", "bad")) == "a.b: bad"
    assert str(DefinitionError("", "bad")) == "bad"
    assert isinstance(DefinitionError("", "x"), ValueError)


def test_load_pipeline_file_names_the_stack_after_the_file(tmp_path: Path) -> None:
    path = tmp_path / "release-pipeline.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            Resources:
              Pipeline:
                Type: AWS::CodePipeline::Pipeline
                Properties:
                  RoleArn: !Sub 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${AWS::StackName}'
                  ArtifactStore: {Type: S3, Location: bucket}
                  Stages:
                    - Name: Source
                      Actions:
                        - Name: S3
                          ActionTypeId: {Category: Source, Owner: AWS, Provider: S3, Version: 1}
                          Configuration: {S3Bucket: b, S3ObjectKey: k.zip}
                          OutputArtifacts: [{Name: Src}]
                    - Name: Approve
                      Actions:
                        - Name: Approve
                          ActionTypeId: {Category: Approval, Owner: AWS, Provider: Manual, Version: 1}
            """
        ),
        encoding="utf-8",
    )
    (pipeline,) = load_pipeline_file(path, account_id="111122223333")
    assert pipeline.pipeline["roleArn"] == "arn:aws:iam::111122223333:role/release-pipeline"
    assert pipeline.pipeline["name"].startswith("release-pipeline-Pipeline-")
    (renamed,) = load_pipeline_file(path, stack_name="prod")
    assert renamed.pipeline["roleArn"].endswith(":role/prod")


def test_load_pipeline_file_errors(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="cannot read"):
        load_pipeline_file(tmp_path / "missing.yaml")
    binary = tmp_path / "p.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DefinitionError, match="not UTF-8"):
        load_pipeline_file(binary)


def test_invalid_account_id_is_refused() -> None:
    template = "Resources:\n  B: {Type: AWS::S3::Bucket}\n"
    assert "is not 12 digits" in error(template, account_id="123").message
