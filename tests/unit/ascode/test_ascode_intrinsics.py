"""Intrinsic functions, parameters, pseudo parameters and conditions, resolved as CloudFormation would."""

import base64
import textwrap
from typing import Any

import pytest

from stageline.ascode import DefinitionError, LoadedPipeline, load_pipelines

CONFIG = "Resources.Pipeline.Properties.Stages[1].Actions[0].Configuration"

BASE = """\
{head}
Resources:
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      Name: demo
      RoleArn: arn:aws:iam::123456789012:role/demo
      ArtifactStore: {{Type: S3, Location: demo-artifacts}}
      Stages:
        - Name: Source
          Actions:
            - Name: Source
              ActionTypeId: {{Category: Source, Owner: AWS, Provider: CodeCommit, Version: "1"}}
              Configuration: {{RepositoryName: repo, BranchName: main}}
              OutputArtifacts: [{{Name: Src}}]
        - Name: Build
          Actions:
            - Name: Build
              ActionTypeId: {{Category: Build, Owner: AWS, Provider: CodeBuild, Version: "1"}}
              InputArtifacts: [{{Name: Src}}]
              Configuration:
{config}
{resources}
"""


def template(config: str, *, head: str = "", resources: str = "") -> str:
    return BASE.format(
        head=textwrap.dedent(head),
        config=textwrap.indent(textwrap.dedent(config), " " * 16),
        resources=textwrap.indent(textwrap.dedent(resources), "  "),
    )


def load(config: str, *, head: str = "", resources: str = "", **kwargs: Any) -> LoadedPipeline:
    kwargs.setdefault("filename", "demo-stack.yaml")
    (pipeline,) = load_pipelines(template(config, head=head, resources=resources), **kwargs)
    return pipeline


def configuration(config: str, **kwargs: Any) -> dict[str, str]:
    return load(config, **kwargs).pipeline["stages"][1]["actions"][0]["configuration"]


def error(config: str, **kwargs: Any) -> DefinitionError:
    with pytest.raises(DefinitionError) as caught:
        load(config, **kwargs)
    return caught.value


PARAMS = """\
Parameters:
  Project: {Type: String, Default: web}
  Count: {Type: Number, Default: 3}
  Flag: {Type: String, Default: false}
  Envs: {Type: CommaDelimitedList, Default: "dev, test,prod"}
  Required: {Type: String}
"""


# -- parameters and pseudo parameters -------------------------------------------


def test_ref_parameter_uses_default_and_strings() -> None:
    conf = configuration(
        "ProjectName: !Ref Project\nCount: !Ref Count\nFlag: !Ref Flag\n", head=PARAMS
    )
    assert conf == {"ProjectName": "web", "Count": "3", "Flag": "false"}


def test_given_parameter_overrides_default() -> None:
    conf = configuration(
        "ProjectName: !Ref Project\nOther: !Ref Required\n",
        head=PARAMS,
        parameters={"Project": "api", "Required": "yes"},
    )
    assert conf == {"ProjectName": "api", "Other": "yes"}


def test_list_parameters_are_lists_for_ref() -> None:
    conf = configuration(
        "A: !Join ['+', !Ref Envs]\nB: !Select [2, !Ref Envs]\n",
        head=PARAMS + "  Names: {Type: 'List<String>'}\n",
    )
    assert conf == {"A": "dev+test+prod", "B": "prod"}


def test_missing_parameter_value_says_how_to_pass_it() -> None:
    exc = error("ProjectName: !Ref Required\n", head=PARAMS)
    assert exc.path == f"{CONFIG}.ProjectName"
    assert "parameter 'Required' has no Default and no value was given" in exc.message
    assert "pass --parameter Required=VALUE" in exc.message


def test_unused_parameter_without_value_does_not_stop_loading() -> None:
    assert configuration("ProjectName: !Ref Project\n", head=PARAMS)["ProjectName"] == "web"


def test_parameter_not_declared_is_refused() -> None:
    exc = error("ProjectName: x\n", head=PARAMS, parameters={"Projet": "x"})
    assert "does not declare" in exc.message
    assert "did you mean 'Project'?" in exc.message


def test_allowed_values_are_enforced() -> None:
    head = "Parameters:\n  Env: {Type: String, Default: dev, AllowedValues: [dev, prod]}\n"
    exc = error("E: !Ref Env\n", head=head, parameters={"Env": "qa"})
    assert exc.path == "Parameters.Env"
    assert "'qa' is not one of the AllowedValues: dev, prod" in exc.message


def test_allowed_pattern_is_enforced() -> None:
    head = "Parameters:\n  Branch: {Type: String, Default: 'a b', AllowedPattern: '[a-z]+'}\n"
    assert "does not match AllowedPattern" in error("B: !Ref Branch\n", head=head).message


def test_ssm_parameter_gets_a_stand_in_and_a_note() -> None:
    head = (
        "Parameters:\n  Token: {Type: 'AWS::SSM::Parameter::Value<String>', Default: /ci/token}\n"
    )
    pipeline = load("OAuthToken: !Ref Token\n", head=head)
    assert pipeline.pipeline["stages"][1]["actions"][0]["configuration"]["OAuthToken"] == (
        "ssm-ci-token"
    )
    assert any("SSM Parameter Store entry '/ci/token'" in n for n in pipeline.notes)


def test_pseudo_parameters() -> None:
    conf = configuration(
        """\
        R: !Ref AWS::Region
        A: !Ref AWS::AccountId
        P: !Ref AWS::Partition
        U: !Ref AWS::URLSuffix
        S: !Ref AWS::StackName
        I: !Ref AWS::StackId
        N: !Join [',', !Ref AWS::NotificationARNs]
        """,
        region="eu-west-1",
        account_id="111122223333",
    )
    assert conf["R"] == "eu-west-1"
    assert conf["A"] == "111122223333"
    assert conf["P"] == "aws"
    assert conf["U"] == "amazonaws.com"
    assert conf["S"] == "demo-stack"  # from the file name
    assert conf["I"].startswith("arn:aws:cloudformation:eu-west-1:111122223333:stack/demo-stack/")
    assert conf["N"] == ""


def test_partition_follows_region_and_stack_name_can_be_given() -> None:
    conf = configuration(
        "V: !Sub '${AWS::Partition} ${AWS::URLSuffix} ${AWS::StackName}'\n",
        region="cn-north-1",
        stack_name="ci",
    )
    assert conf["V"] == "aws-cn amazonaws.com.cn ci"


def test_unknown_pseudo_parameter_is_an_error() -> None:
    exc = error("R: !Ref AWS::Regoin\n")
    assert "did you mean 'AWS::Region'?" in exc.message


# -- AWS::NoValue, conditions and Fn::If ------------------------------------------

CONDITIONS = """\
Parameters:
  Env: {Type: String, Default: prod}
  Debug: {Type: String, Default: false}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDebug: !Equals [!Ref Debug, true]
  NotProd: !Not [!Condition IsProd]
  ProdAndDebug: !And [!Condition IsProd, !Condition IsDebug]
  ProdOrDebug: !Or [!Condition IsProd, !Condition IsDebug]
"""


def test_conditions_and_fn_if() -> None:
    conf = configuration(
        """\
        A: !If [IsProd, T, F]
        B: !If [IsDebug, T, F]
        C: !If [NotProd, T, F]
        D: !If [ProdAndDebug, T, F]
        E: !If [ProdOrDebug, T, F]
        """,
        head=CONDITIONS,
    )
    assert conf == {"A": "T", "B": "F", "C": "F", "D": "F", "E": "T"}


def test_equals_compares_yaml_booleans_as_cloudformation_strings() -> None:
    # Debug's Default is the YAML boolean false; the condition compares it with true.
    conf = configuration("B: !If [IsDebug, T, F]\n", head=CONDITIONS, parameters={"Debug": "true"})
    assert conf == {"B": "T"}


def test_yaml_1_1_booleans_become_cloudformation_strings() -> None:
    # CloudFormation reads YAML 1.1, where yes/no/on/off are booleans.
    assert configuration("A: yes\nB: off\nC: 'yes'\n") == {"A": "true", "B": "false", "C": "yes"}


def test_no_value_removes_the_key() -> None:
    conf = configuration(
        "A: keep\nB: !If [IsProd, !Ref AWS::NoValue, x]\nC: !Ref AWS::NoValue\n", head=CONDITIONS
    )
    assert conf == {"A": "keep"}


def test_no_value_removes_a_list_item() -> None:
    text = template("A: b\n", head=CONDITIONS).replace(
        "InputArtifacts: [{Name: Src}]",
        "InputArtifacts: [{Name: Src}, !If [IsProd, !Ref AWS::NoValue, {Name: Other}]]",
    )
    (pipeline,) = load_pipelines(text)
    assert pipeline.pipeline["stages"][1]["actions"][0]["inputArtifacts"] == [{"name": "Src"}]


def test_whole_action_chosen_by_fn_if() -> None:
    text = textwrap.dedent(
        """\
        Parameters:
          Source: {Type: String, Default: codecommit, AllowedValues: [codecommit, github]}
        Conditions:
          UseGitHub: !Equals [!Ref Source, github]
        Resources:
          Pipeline:
            Type: AWS::CodePipeline::Pipeline
            Properties:
              Name: demo
              RoleArn: arn:aws:iam::123456789012:role/demo
              ArtifactStore: {Type: S3, Location: demo-artifacts}
              Stages:
                - Name: Source
                  Actions:
                    - !If
                      - UseGitHub
                      - Name: GitHub
                        ActionTypeId: {Category: Source, Owner: AWS, Version: '1',
                                       Provider: CodeStarSourceConnection}
                        OutputArtifacts: [{Name: Src}]
                      - Name: CodeCommit
                        ActionTypeId: {Category: Source, Owner: AWS, Version: '1',
                                       Provider: CodeCommit}
                        Configuration: {RepositoryName: repo, BranchName: main}
                        OutputArtifacts: [{Name: Src}]
                - Name: Approve
                  Actions:
                    - Name: Approve
                      ActionTypeId: {Category: Approval, Owner: AWS, Provider: Manual, Version: '1'}
        """
    )
    (default,) = load_pipelines(text)
    assert default.pipeline["stages"][0]["actions"][0]["name"] == "CodeCommit"
    (github,) = load_pipelines(text, parameters={"Source": "github"})
    action = github.pipeline["stages"][0]["actions"][0]
    assert action["actionTypeId"]["provider"] == "CodeStarSourceConnection"
    broken = text.replace("Provider: CodeStarSourceConnection}", "Provider: X, Colour: red}")
    with pytest.raises(DefinitionError) as caught:
        load_pipelines(broken, parameters={"Source": "github"})
    assert caught.value.path == (
        "Resources.Pipeline.Properties.Stages[0].Actions[0].Fn::If[1].ActionTypeId.Colour"
    )


def test_resource_with_false_condition_is_skipped() -> None:
    text = template("A: b\n", head=CONDITIONS).replace(
        "    Type: AWS::CodePipeline::Pipeline\n",
        "    Type: AWS::CodePipeline::Pipeline\n    Condition: NotProd\n",
    )
    with pytest.raises(DefinitionError, match="Condition that is false"):
        load_pipelines(text)
    assert load_pipelines(text, parameters={"Env": "dev"})[0].pipeline["name"] == "demo"


def test_unknown_condition_is_an_error_with_suggestion() -> None:
    exc = error("A: !If [IsProdd, a, b]\n", head=CONDITIONS)
    assert exc.path == f"{CONFIG}.A.Fn::If[0]"
    assert "condition 'IsProdd' is not defined" in exc.message
    assert "did you mean 'IsProd'?" in exc.message


def test_condition_function_outside_conditions_is_an_error() -> None:
    exc = error("A: !Equals [a, a]\n")
    assert "only in the Conditions section" in exc.message


def test_error_inside_taken_branch_points_into_fn_if() -> None:
    exc = error("A: !If [IsProd, !Ref Nope, x]\n", head=CONDITIONS)
    assert exc.path == f"{CONFIG}.A.Fn::If[1]"


# -- string and list functions ------------------------------------------------------


def test_sub_forms() -> None:
    conf = configuration(
        """\
        A: !Sub '${Project}-${AWS::Region}'
        B: !Sub ['${Name}/${Project}', {Name: !Join ['-', [x, y]]}]
        C: !Sub 'echo ${!HOME} ${!PWD##*/}'
        D: !Sub 'no variables'
        """,
        head=PARAMS,
    )
    assert conf == {
        "A": "web-us-east-1",
        "B": "x-y/web",
        "C": "echo ${HOME} ${PWD##*/}",
        "D": "no variables",
    }


def test_sub_with_resource_reference_and_attribute() -> None:
    pipeline = load(
        "A: !Sub '${Repo}|${Role.Arn}'\n",
        resources="Repo: {Type: AWS::ECR::Repository}\nRole: {Type: AWS::IAM::Role}\n",
    )
    conf = pipeline.pipeline["stages"][1]["actions"][0]["configuration"]
    assert conf["A"] == "repo|arn:aws:iam::123456789012:role/Role"
    assert any("${Role.Arn} in Fn::Sub stands for the role" in n for n in pipeline.notes)


def test_sub_of_a_list_parameter_is_an_error() -> None:
    assert "not a string" in error("A: !Sub '${Envs}'\n", head=PARAMS).message


def test_join_select_split() -> None:
    conf = configuration(
        """\
        J: !Join [':', [a, !Ref Project, 3]]
        S: !Select ['1', [a, b, c]]
        P: !Join ['|', !Split [',', 'x,y,z']]
        Q: !Select [1, !Split ['/', 'a/b/c']]
        """,
        head=PARAMS,
    )
    assert conf == {"J": "a:web:3", "S": "b", "P": "x|y|z", "Q": "b"}


def test_select_out_of_range_names_the_path() -> None:
    exc = error("S: !Select [5, [a, b]]\n")
    assert exc.path == f"{CONFIG}.S.Fn::Select"
    assert "index 5 is out of range: the list has 2 item(s)" in exc.message


def test_malformed_join_is_an_error() -> None:
    exc = error("J: !Join [',']\n")
    assert exc.path == f"{CONFIG}.J.Fn::Join"
    assert "Fn::Join takes [Delimiter, [Values]]" in exc.message


MAPPINGS = """\
Mappings:
  Regions:
    us-east-1: {Bucket: east-bucket}
    eu-west-1: {Bucket: west-bucket}
"""


def test_find_in_map() -> None:
    conf = configuration(
        """\
        A: !FindInMap [Regions, !Ref AWS::Region, Bucket]
        B: !FindInMap [Regions, ap-south-1, Bucket, {DefaultValue: fallback}]
        """,
        head=MAPPINGS,
    )
    assert conf == {"A": "east-bucket", "B": "fallback"}


def test_find_in_map_missing_key_suggests() -> None:
    exc = error("A: !FindInMap [Regions, us-east-1, Buckets]\n", head=MAPPINGS)
    assert "has no second-level key 'Buckets'" in exc.message
    assert "did you mean 'Bucket'?" in exc.message


def test_base64_getazs_cidr_tojsonstring() -> None:
    pipeline = load(
        """\
        B: !Base64 hello
        Z: !Select [0, !GetAZs '']
        C: !Join [',', !Cidr ['10.0.0.0/16', 2, 8]]
        J: {'Fn::ToJsonString': [{name: A, value: b, type: PLAINTEXT}]}
        """
    )
    conf = pipeline.pipeline["stages"][1]["actions"][0]["configuration"]
    assert conf["B"] == base64.b64encode(b"hello").decode()
    assert conf["Z"] == "us-east-1a"
    assert conf["C"] == "10.0.0.0/24,10.0.1.0/24"
    assert conf["J"] == '[{"name":"A","value":"b","type":"PLAINTEXT"}]'
    assert any("Fn::GetAZs" in n for n in pipeline.notes)


def test_import_value_gets_a_stand_in_shaped_by_the_property() -> None:
    text = template("P: !ImportValue shared-project\n").replace(
        "RoleArn: arn:aws:iam::123456789012:role/demo", "RoleArn: !ImportValue ci-role"
    )
    (pipeline,) = load_pipelines(text)
    assert pipeline.pipeline["roleArn"] == "arn:aws:iam::123456789012:role/ci-role"
    assert pipeline.pipeline["stages"][1]["actions"][0]["configuration"]["P"] == "shared-project"
    assert (
        "Resources.Pipeline.Properties.RoleArn: Fn::ImportValue 'ci-role' is an export of "
        "another stack" in pipeline.notes[0]
    )


# -- Ref and Fn::GetAtt of resources in the template ----------------------------------


def test_getatt_role_arn_note_reads_as_documented() -> None:
    text = template("P: x\n", resources="PipelineRole: {Type: AWS::IAM::Role}\n").replace(
        "RoleArn: arn:aws:iam::123456789012:role/demo", "RoleArn: !GetAtt PipelineRole.Arn"
    )
    (pipeline,) = load_pipelines(text)
    assert pipeline.pipeline["roleArn"] == "arn:aws:iam::123456789012:role/PipelineRole"
    assert pipeline.notes == [
        "Resources.Pipeline.Properties.RoleArn: Fn::GetAtt PipelineRole.Arn stands for the role "
        "created by this template; used arn:aws:iam::123456789012:role/PipelineRole"
    ]


def test_resource_stand_ins_by_type() -> None:
    conf = configuration(
        """\
        RoleName: !Ref NamedRole
        RoleArn: !GetAtt [NamedRole, Arn]
        Bucket: !Ref ArtifactBucket
        BucketArn: !GetAtt ArtifactBucket.Arn
        Project: !Ref BuildProject
        KeyId: !Ref Key
        KeyArn: !GetAtt Key.Arn
        Topic: !Ref Topic
        Function: !Ref Fn
        FunctionArn: !GetAtt Fn.Arn
        SamFunction: !GetAtt SamFn.Arn
        Other: !Ref Thing
        OtherArn: !GetAtt Thing.Arn
        """,
        head=PARAMS,
        resources="""\
        NamedRole:
          Type: AWS::IAM::Role
          Properties: {RoleName: !Sub '${Project}-ci', Path: /service/}
        ArtifactBucket: {Type: AWS::S3::Bucket}
        BuildProject:
          Type: AWS::CodeBuild::Project
          Properties: {Name: !Sub '${Project}-build'}
        Key: {Type: AWS::KMS::Key}
        Topic: {Type: AWS::SNS::Topic}
        Fn: {Type: AWS::Lambda::Function}
        SamFn: {Type: AWS::Serverless::Function}
        Thing: {Type: AWS::AppRunner::Service}
        """,
    )
    assert conf["RoleName"] == "web-ci"
    assert conf["RoleArn"] == "arn:aws:iam::123456789012:role/service/web-ci"
    assert conf["Bucket"] == "artifactbucket"
    assert conf["BucketArn"] == "arn:aws:s3:::artifactbucket"
    assert conf["Project"] == "web-build"
    assert conf["KeyArn"] == f"arn:aws:kms:us-east-1:123456789012:key/{conf['KeyId']}"
    assert conf["Topic"] == "arn:aws:sns:us-east-1:123456789012:Topic"
    assert conf["Function"] == "Fn"
    assert conf["FunctionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:Fn"
    assert conf["SamFunction"] == "arn:aws:lambda:us-east-1:123456789012:function:SamFn"
    assert conf["Other"] == "Thing"
    assert conf["OtherArn"] == "arn:aws:apprunner:us-east-1:123456789012:Thing"


def test_stand_ins_are_deterministic() -> None:
    resources = "Key: {Type: AWS::KMS::Key}\n"
    first = configuration("K: !Ref Key\n", resources=resources)
    assert configuration("K: !Ref Key\n", resources=resources) == first


def test_ref_to_unknown_name_suggests_the_close_one() -> None:
    exc = error(
        "ProjectName: !Ref BuildProjct\n",
        resources="BuildProject: {Type: AWS::CodeBuild::Project}\n",
    )
    assert str(exc) == (
        f"{CONFIG}.ProjectName: Ref to 'BuildProjct' names no parameter or resource "
        "(did you mean 'BuildProject'?)"
    )


def test_getatt_of_a_parameter_is_an_error() -> None:
    assert "is a parameter" in error("A: !GetAtt Project.Arn\n", head=PARAMS).message


def test_getatt_attribute_with_wrong_case_is_an_error() -> None:
    exc = error("A: !GetAtt Role.ARN\n", resources="Role: {Type: AWS::IAM::Role}\n")
    assert "has no attribute 'ARN' (did you mean 'Arn'?)" in exc.message


def test_ref_to_resource_that_is_not_created_is_an_error() -> None:
    exc = error(
        "A: !Ref Topic\n",
        head=CONDITIONS,
        resources="Topic: {Type: AWS::SNS::Topic, Condition: NotProd}\n",
    )
    assert "which is not created: its Condition 'NotProd' is false" in exc.message


def test_pipeline_referring_to_itself_is_an_error() -> None:
    assert "circular dependency" in error("A: !Ref Pipeline\n").message


# -- things that cannot be resolved -------------------------------------------------


def test_transform_function_is_an_error() -> None:
    exc = error("A: !Transform {Name: AWS::Include, Parameters: {Location: s3://b/k}}\n")
    assert "macro" in exc.message


def test_unknown_function_suggests() -> None:
    exc = error("A: {'Fn::Joyn': [',', [a]]}\n")
    assert "unknown intrinsic function Fn::Joyn (did you mean 'Fn::Join'?)" in exc.message


def test_nesting_is_capped() -> None:
    nested = "x"
    for _ in range(150):
        nested = f"{{'Fn::Join': ['', [{nested}]]}}"
    assert "nested more than" in error(f"A: {nested}\n").message


def test_exponential_growth_is_refused() -> None:
    nested = "abcdefgh"
    for _ in range(90):
        nested = f"{{'Fn::Base64': {nested}}}"
    assert "characters" in error(f"A: {nested}\n").message


def test_repeating_a_long_value_is_refused() -> None:
    head = f"Parameters:\n  Big: {{Type: String, Default: {'x' * 200_000}}}\n"
    refs = ", ".join(["!Ref Big"] * 60)
    exc = error(f"A: !Join ['', [{refs}]]\n", head=head)
    assert "characters" in exc.message
    sub = "${Big}" * 60
    assert "characters" in error(f"A: !Sub '{sub}'\n", head=head).message
    json_string = f"A: {{'Fn::ToJsonString': [{refs}]}}\n"
    assert "characters" in error(json_string, head=head).message
