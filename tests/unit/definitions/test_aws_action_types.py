"""Integrity checks for the catalog of AWS-owned action types."""

from __future__ import annotations

import re

import pytest

from stageline.definitions.aws_action_types import AWS_ACTION_TYPES
from stageline.definitions.catalog import (
    ActionTypeKey,
    ActionTypeSpec,
    Category,
    ConfigProperty,
    Owner,
)

# Limits from the codepipeline 2015-07-09 service model.
CONFIG_KEY_MAX = 50  # ActionConfigurationKey: 1..50
DESCRIPTION_MAX = 160  # Description: 1..160
PROVIDER_PATTERN = re.compile(r"^[0-9A-Za-z_-]{1,35}$")  # ActionProvider
VERSION_PATTERN = re.compile(r"^[0-9A-Za-z_-]{1,9}$")  # Version
URL_TEMPLATE_MAX = 2048
TIMEOUT_MIN, TIMEOUT_MAX = 5, 86_400  # ActionTimeout
DECLARATION_MEMBERS = {"commands", "outputVariables", "environmentVariables"}
PROPERTY_TYPES = {"String", "Number", "Boolean"}

BY_KEY = {str(spec.key): spec for spec in AWS_ACTION_TYPES}


def spec(key: str) -> ActionTypeSpec:
    assert key in BY_KEY, f"{key} missing from AWS_ACTION_TYPES"
    return BY_KEY[key]


def prop(spec_: ActionTypeSpec, name: str) -> ConfigProperty:
    for candidate in spec_.properties:
        if candidate.name == name:
            return candidate
    raise AssertionError(f"{spec_.key} has no property {name}")


def names(spec_: ActionTypeSpec) -> set[str]:
    return {p.name for p in spec_.properties}


def required(spec_: ActionTypeSpec) -> set[str]:
    return {p.name for p in spec_.required_properties}


def ids(value: ActionTypeSpec) -> str:
    return str(value.key)


# --------------------------------------------------------------------------
# Whole-catalog integrity
# --------------------------------------------------------------------------


def test_catalog_is_a_nonempty_tuple_of_specs() -> None:
    assert isinstance(AWS_ACTION_TYPES, tuple)
    assert AWS_ACTION_TYPES
    assert all(isinstance(s, ActionTypeSpec) for s in AWS_ACTION_TYPES)


def test_no_duplicate_keys() -> None:
    keys = [s.key for s in AWS_ACTION_TYPES]
    duplicates = {str(k) for k in keys if keys.count(k) > 1}
    assert not duplicates


def test_keys_compare_equal_to_plain_string_keys() -> None:
    # Lookups elsewhere build keys from request JSON (plain strings).
    key = ActionTypeKey(category="Source", owner="AWS", provider="CodeCommit", version="1")
    assert key in {s.key for s in AWS_ACTION_TYPES}


@pytest.mark.parametrize("spec_", AWS_ACTION_TYPES, ids=ids)
def test_identity_fields_are_valid(spec_: ActionTypeSpec) -> None:
    assert spec_.category in {c.value for c in Category}
    assert spec_.owner in {Owner.AWS.value, Owner.THIRD_PARTY.value}
    assert PROVIDER_PATTERN.match(spec_.provider)
    assert VERSION_PATTERN.match(spec_.version)


@pytest.mark.parametrize("spec_", AWS_ACTION_TYPES, ids=ids)
def test_type_description_fits_the_api(spec_: ActionTypeSpec) -> None:
    assert spec_.description.strip()
    assert len(spec_.description) <= DESCRIPTION_MAX


@pytest.mark.parametrize("spec_", AWS_ACTION_TYPES, ids=ids)
def test_properties_fit_the_api(spec_: ActionTypeSpec) -> None:
    seen: set[str] = set()
    for p in spec_.properties:
        assert 1 <= len(p.name) <= CONFIG_KEY_MAX, p.name
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", p.name), p.name
        assert p.name not in seen, f"duplicate property {p.name}"
        seen.add(p.name)
        assert p.description.strip(), p.name
        assert len(p.description) <= DESCRIPTION_MAX, (p.name, len(p.description))
        assert p.type in PROPERTY_TYPES, p.name


@pytest.mark.parametrize("spec_", AWS_ACTION_TYPES, ids=ids)
def test_property_flags_are_consistent(spec_: ActionTypeSpec) -> None:
    queryable = [p for p in spec_.properties if p.queryable]
    assert len(queryable) <= 1
    for p in queryable:
        assert p.required and not p.secret
    for p in spec_.properties:
        if p.secret:
            assert not p.key, f"{p.name} is both secret and key"
            assert p.type == "String"


@pytest.mark.parametrize("spec_", AWS_ACTION_TYPES, ids=ids)
def test_artifact_bounds_are_sane(spec_: ActionTypeSpec) -> None:
    for bounds in (spec_.input_artifacts, spec_.output_artifacts):
        assert 0 <= bounds.minimum <= bounds.maximum <= 10


@pytest.mark.parametrize("spec_", AWS_ACTION_TYPES, ids=ids)
def test_timeouts_are_sane(spec_: ActionTypeSpec) -> None:
    assert TIMEOUT_MIN <= spec_.default_timeout_minutes <= spec_.max_timeout_minutes <= TIMEOUT_MAX


@pytest.mark.parametrize("spec_", AWS_ACTION_TYPES, ids=ids)
def test_settings_fit_the_api(spec_: ActionTypeSpec) -> None:
    for url in (
        spec_.entity_url_template,
        spec_.execution_url_template,
        spec_.revision_url_template,
        spec_.third_party_configuration_url,
    ):
        if url is not None:
            assert url.startswith("https://")
            assert len(url) <= URL_TEMPLATE_MAX
    # Placeholders may only name configuration keys the type has.
    for template in (spec_.entity_url_template, spec_.execution_url_template):
        for name in re.findall(r"\{Config:([^}]+)\}", template or ""):
            assert name in names(spec_)


@pytest.mark.parametrize("spec_", AWS_ACTION_TYPES, ids=ids)
def test_declaration_fields_are_actiondeclaration_members(spec_: ActionTypeSpec) -> None:
    assert set(spec_.declaration_fields) <= DECLARATION_MEMBERS


def test_source_actions_take_no_input_and_give_one_output() -> None:
    sources = [s for s in AWS_ACTION_TYPES if s.category == Category.SOURCE]
    assert sources
    for s in sources:
        assert (s.input_artifacts.minimum, s.input_artifacts.maximum) == (0, 0), s.key
        assert (s.output_artifacts.minimum, s.output_artifacts.maximum) == (1, 1), s.key


def test_every_category_is_covered() -> None:
    assert {s.category for s in AWS_ACTION_TYPES} == {c.value for c in Category}


# --------------------------------------------------------------------------
# Well-known types
# --------------------------------------------------------------------------


def test_codecommit_source() -> None:
    s = spec("Source/AWS/CodeCommit/1")
    assert {"RepositoryName", "BranchName"} <= required(s)
    assert prop(s, "PollForSourceChanges").type == "Boolean"
    assert not prop(s, "PollForSourceChanges").required
    assert not prop(s, "OutputArtifactFormat").required
    assert s.secret_names == frozenset()


def test_s3_source() -> None:
    s = spec("Source/AWS/S3/1")
    assert required(s) == {"S3Bucket", "S3ObjectKey"}
    assert "PollForSourceChanges" in names(s)


def test_ecr_source() -> None:
    s = spec("Source/AWS/ECR/1")
    assert required(s) == {"RepositoryName"}
    assert "ImageTag" in names(s)


def test_codestar_source_connection() -> None:
    s = spec("Source/AWS/CodeStarSourceConnection/1")
    assert required(s) == {"ConnectionArn", "FullRepositoryId", "BranchName"}
    assert prop(s, "DetectChanges").type == "Boolean"
    assert not prop(s, "OutputArtifactFormat").required
    # CodeConnections is the service's new name, not a separate provider.
    assert not any(t.provider == "CodeConnections" for t in AWS_ACTION_TYPES)


def test_github_v1_source_has_secret_oauth_token() -> None:
    s = spec("Source/ThirdParty/GitHub/1")
    assert required(s) == {"Owner", "Repo", "Branch", "OAuthToken"}
    assert s.secret_names == frozenset({"OAuthToken"})
    assert prop(s, "OAuthToken").secret
    assert not prop(s, "PollForSourceChanges").required


@pytest.mark.parametrize("category", ["Build", "Test"])
def test_codebuild_build_and_test(category: str) -> None:
    s = spec(f"{category}/AWS/CodeBuild/1")
    assert required(s) == {"ProjectName"}
    assert (s.input_artifacts.minimum, s.input_artifacts.maximum) == (1, 5)
    assert (s.output_artifacts.minimum, s.output_artifacts.maximum) == (0, 5)
    assert {"PrimarySource", "EnvironmentVariables", "BatchEnabled"} <= names(s)


def test_manual_approval() -> None:
    s = spec("Approval/AWS/Manual/1")
    assert (s.input_artifacts.minimum, s.input_artifacts.maximum) == (0, 0)
    assert (s.output_artifacts.minimum, s.output_artifacts.maximum) == (0, 0)
    assert names(s) == {"CustomData", "ExternalEntityLink", "NotificationArn"}
    assert required(s) == set()
    assert s.default_timeout_minutes == 7 * 24 * 60
    assert s.max_timeout_minutes == 86_400


def test_s3_deploy_takes_exactly_one_input() -> None:
    s = spec("Deploy/AWS/S3/1")
    assert (s.input_artifacts.minimum, s.input_artifacts.maximum) == (1, 1)
    assert (s.output_artifacts.minimum, s.output_artifacts.maximum) == (0, 0)
    assert {"BucketName", "Extract"} <= required(s)
    assert "ObjectKey" not in required(s)  # only when Extract is false


def test_lambda_invoke() -> None:
    s = spec("Invoke/AWS/Lambda/1")
    assert required(s) == {"FunctionName"}
    assert (s.input_artifacts.minimum, s.input_artifacts.maximum) == (0, 5)
    assert (s.output_artifacts.minimum, s.output_artifacts.maximum) == (0, 5)
    assert s.default_timeout_minutes == 24 * 60


def test_lambda_deploy_is_a_separate_type() -> None:
    s = spec("Deploy/AWS/Lambda/1")
    assert "FunctionName" in required(s)
    assert {"FunctionAlias", "DeployStrategy"} <= names(s)


def test_cloudformation_deploy() -> None:
    s = spec("Deploy/AWS/CloudFormation/1")
    assert (s.input_artifacts.minimum, s.input_artifacts.maximum) == (0, 10)
    assert (s.output_artifacts.minimum, s.output_artifacts.maximum) == (0, 1)
    assert required(s) == {"ActionMode", "StackName"}
    assert s.default_timeout_minutes == 3 * 24 * 60


def test_commands_compute_action_uses_declaration_fields() -> None:
    s = spec("Compute/AWS/Commands/1")
    assert s.declaration_fields == ("commands", "outputVariables", "environmentVariables")
    assert (s.input_artifacts.minimum, s.input_artifacts.maximum) == (1, 10)
    assert (s.output_artifacts.minimum, s.output_artifacts.maximum) == (0, 1)
    assert "Commands" not in names(s)  # the commands live in ActionDeclaration.commands


def test_alexa_secrets() -> None:
    s = spec("Deploy/ThirdParty/AlexaSkillsKit/1")
    assert s.secret_names == frozenset({"ClientSecret", "RefreshToken"})
    assert (s.input_artifacts.minimum, s.input_artifacts.maximum) == (1, 2)


@pytest.mark.parametrize(
    ("key", "timeout"),
    [
        ("Deploy/AWS/CodeDeploy/1", 5 * 24 * 60),
        ("Deploy/AWS/CodeDeployToECS/1", 5 * 24 * 60),
        ("Deploy/AWS/S3/1", 90),
        ("Build/AWS/CodeBuild/1", 8 * 60),
        ("Source/AWS/CodeCommit/1", 60),
    ],
)
def test_default_timeouts(key: str, timeout: int) -> None:
    assert spec(key).default_timeout_minutes == timeout


def test_types_with_more_than_ten_properties_keep_them_all() -> None:
    s = spec("Deploy/AWS/CodeDeployToECS/1")
    assert {f"Image{n}ArtifactName" for n in range(1, 5)} <= names(s)
    assert {f"Image{n}ContainerName" for n in range(1, 5)} <= names(s)
    assert len(spec("Test/AWS/DeviceFarm/1").properties) > 10


def test_expected_catalog() -> None:
    assert set(BY_KEY) == {
        "Source/AWS/S3/1",
        "Source/AWS/CodeCommit/1",
        "Source/AWS/ECR/1",
        "Source/AWS/CodeStarSourceConnection/1",
        "Source/ThirdParty/GitHub/1",
        "Build/AWS/CodeBuild/1",
        "Build/AWS/ECRBuildAndPublish/1",
        "Test/AWS/CodeBuild/1",
        "Test/AWS/DeviceFarm/1",
        "Deploy/AWS/S3/1",
        "Deploy/AWS/CloudFormation/1",
        "Deploy/AWS/CloudFormationStackSet/1",
        "Deploy/AWS/CloudFormationStackInstances/1",
        "Deploy/AWS/CodeDeploy/1",
        "Deploy/AWS/CodeDeployToECS/1",
        "Deploy/AWS/ECS/1",
        "Deploy/AWS/EKS/1",
        "Deploy/AWS/EC2/1",
        "Deploy/AWS/Lambda/1",
        "Deploy/AWS/ElasticBeanstalk/1",
        "Deploy/AWS/AppConfig/1",
        "Deploy/AWS/ServiceCatalog/1",
        "Deploy/AWS/OpsWorks/1",
        "Deploy/ThirdParty/AlexaSkillsKit/1",
        "Invoke/AWS/Lambda/1",
        "Invoke/AWS/StepFunctions/1",
        "Invoke/AWS/CodePipeline/1",
        "Invoke/AWS/InspectorScan/1",
        "Invoke/ThirdParty/Snyk/1",
        "Approval/AWS/Manual/1",
        "Compute/AWS/Commands/1",
    }
