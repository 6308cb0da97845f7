"""The CloudFormation YAML loader: short-form tags, CloudFormation's scalars, hostile input."""

import pytest
import yaml

from stageline.ascode import DefinitionError
from stageline.ascode.yaml_tags import (
    MAX_EXPANDED_NODES,
    MAX_NESTING,
    SHORT_TAGS,
    CfnYamlLoader,
    load_yaml,
)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("!Ref Bucket", {"Ref": "Bucket"}),
        ("!Condition IsProd", {"Condition": "IsProd"}),
        ("!Sub 'arn:${AWS::Partition}:s3:::x'", {"Fn::Sub": "arn:${AWS::Partition}:s3:::x"}),
        ("!Sub ['${A}-x', {A: !Ref B}]", {"Fn::Sub": ["${A}-x", {"A": {"Ref": "B"}}]}),
        ("!GetAtt Role.Arn", {"Fn::GetAtt": ["Role", "Arn"]}),
        ("!GetAtt [Role, Arn]", {"Fn::GetAtt": ["Role", "Arn"]}),
        ("!GetAtt Stack.Outputs.Name", {"Fn::GetAtt": ["Stack", "Outputs.Name"]}),
        ("!If [IsProd, a, b]", {"Fn::If": ["IsProd", "a", "b"]}),
        ("!Join [':', [a, b]]", {"Fn::Join": [":", ["a", "b"]]}),
        ("!Select [0, [a, b]]", {"Fn::Select": [0, ["a", "b"]]}),
        ("!Split [',', 'a,b']", {"Fn::Split": [",", "a,b"]}),
        ("!FindInMap [M, k1, k2]", {"Fn::FindInMap": ["M", "k1", "k2"]}),
        ("!Equals [a, b]", {"Fn::Equals": ["a", "b"]}),
        ("!Not [!Condition C]", {"Fn::Not": [{"Condition": "C"}]}),
        (
            "!And [!Condition A, !Condition B]",
            {"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]},
        ),
        ("!Or [!Condition A, !Condition B]", {"Fn::Or": [{"Condition": "A"}, {"Condition": "B"}]}),
        ("!ImportValue shared-role", {"Fn::ImportValue": "shared-role"}),
        ("!Base64 text", {"Fn::Base64": "text"}),
        ("!GetAZs ''", {"Fn::GetAZs": ""}),
        ("!GetAZs", {"Fn::GetAZs": ""}),
        ("!Cidr ['10.0.0.0/16', 2, 8]", {"Fn::Cidr": ["10.0.0.0/16", 2, 8]}),
        (
            "!Transform {Name: AWS::Include, Parameters: {Location: s3://b/k}}",
            {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k"}}},
        ),
    ],
)
def test_short_forms_become_long_forms(source: str, expected: object) -> None:
    assert load_yaml(f"value: {source}\n") == {"value": expected}


def test_every_short_tag_named_by_cloudformation_is_supported() -> None:
    wanted = "Ref Sub GetAtt If Join Select Split FindInMap Equals Not And Or Condition"
    wanted += " ImportValue Base64 GetAZs Cidr Transform"
    assert {f"!{name}" for name in wanted.split()} <= set(SHORT_TAGS)


def test_nested_short_forms() -> None:
    doc = load_yaml("v: !Join ['', [!Ref A, !Sub '${B}', !Select [1, !Split [',', !Ref C]]]]")
    assert doc == {
        "v": {
            "Fn::Join": [
                "",
                [
                    {"Ref": "A"},
                    {"Fn::Sub": "${B}"},
                    {"Fn::Select": [1, {"Fn::Split": [",", {"Ref": "C"}]}]},
                ],
            ]
        }
    }


def test_dates_stay_strings_as_in_cloudformation() -> None:
    assert load_yaml("Version: 2012-10-17\n") == {"Version": "2012-10-17"}


def test_merge_keys_may_override_without_counting_as_duplicates() -> None:
    doc = load_yaml("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  x: 3\n")
    assert doc["m"] == {"x": 3, "y": 2}


def test_duplicate_keys_are_refused_with_their_line() -> None:
    with pytest.raises(DefinitionError, match=r"line 3, column 3: found duplicate key 'Name'"):
        load_yaml("Stage:\n  Name: a\n  Name: b\n")


def test_unknown_tag_is_refused_with_line_and_known_tags() -> None:
    with pytest.raises(DefinitionError) as caught:
        load_yaml("a: 1\nb: !GetAttr X.Y\n")
    assert caught.value.path == ""
    assert "line 2" in caught.value.message
    assert "unknown tag !GetAttr" in caught.value.message
    assert "!GetAtt" in caught.value.message


def test_syntax_error_names_line_and_column() -> None:
    with pytest.raises(DefinitionError, match=r"YAML error at line 2, column \d+"):
        load_yaml("a: [1, 2\nb: 3\n")


def test_billion_laughs_is_refused_before_expansion() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    with pytest.raises(DefinitionError, match=f"more than {MAX_EXPANDED_NODES:,} nodes"):
        load_yaml("\n".join(lines))


def test_moderate_alias_use_is_fine() -> None:
    doc = load_yaml("a: &a [1, 2]\nb: [*a, *a]\n")
    assert doc == {"a": [1, 2], "b": [[1, 2], [1, 2]]}


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(DefinitionError, match="contains itself"):
        load_yaml("a: &x [1, *x]\n")


def test_python_tags_are_not_constructed() -> None:
    with pytest.raises(DefinitionError, match="unknown tag"):
        load_yaml("a: !!python/object/apply:os.system ['true']\n")


def test_deep_flow_nesting_is_refused_quickly() -> None:
    depth = 200_000
    with pytest.raises(DefinitionError, match=f"nested more than {MAX_NESTING} levels deep"):
        load_yaml("a: " + "[" * depth + "]" * depth)


def test_deep_block_nesting_is_refused() -> None:
    with pytest.raises(DefinitionError, match="nested"):
        load_yaml("- " * 100_000 + "x\n")


SAMPLE = """\
Parameters:
  Env: {Type: String, Default: prod}
Resources:
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      RoleArn: !GetAtt Role.Arn
      Name: !Sub '${AWS::StackName}-${Env}'
      Stages:
        - Name: Source
          Actions: [{Name: S, Configuration: {Poll: false, When: 2024-01-01, N: 0x10}}]
"""


def test_python_and_libyaml_loaders_read_alike() -> None:
    pure = yaml.load(SAMPLE, Loader=CfnYamlLoader)
    assert load_yaml(SAMPLE) == pure
    action = pure["Resources"]["Pipeline"]["Properties"]["Stages"][0]["Actions"][0]
    assert action["Configuration"] == {"Poll": False, "When": "2024-01-01", "N": 16}
