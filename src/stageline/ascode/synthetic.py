"""Stand-in values for things only AWS knows: resources a template creates, exports.

A pipeline template usually creates the pipeline's role, bucket and build
projects in the same stack and points at them with ``Ref`` / ``Fn::GetAtt``.
Their real values exist only once CloudFormation has created them, so each is
replaced by a value of the same shape, derived from the logical id (or the
resource's own name property when the template sets it, since that is what
``Ref`` returns on AWS). Every stand-in is reported as a note by the caller.

The table lists what ``Ref`` and each attribute return for the resource types
pipeline templates use; other types fall back to the logical id and a
generic ARN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from stageline.ascode.stack import StackContext


@dataclass(frozen=True)
class _Kind:
    noun: str
    name_property: str | None
    ref: str
    attributes: dict[str, str] = field(default_factory=dict)
    lower_case: bool = False  # S3 buckets and ECR repositories take lower-case names
    generated: bool = False  # unnamed, CloudFormation generates <stack>-<id>-<suffix>


_ARN = "arn:{p}:{service}:{r}:{a}"

_KINDS: dict[str, _Kind] = {
    "AWS::IAM::Role": _Kind(
        "the role",
        "RoleName",
        "{name}",
        {"Arn": "arn:{p}:iam::{a}:role{path}{name}", "RoleId": "AROA{HEX17}"},
    ),
    "AWS::IAM::User": _Kind(
        "the IAM user", "UserName", "{name}", {"Arn": "arn:{p}:iam::{a}:user{path}{name}"}
    ),
    "AWS::IAM::ManagedPolicy": _Kind(
        "the managed policy",
        "ManagedPolicyName",
        "arn:{p}:iam::{a}:policy{path}{name}",
        {"PolicyArn": "arn:{p}:iam::{a}:policy{path}{name}", "PolicyId": "ANPA{HEX17}"},
    ),
    "AWS::IAM::Policy": _Kind("the policy", "PolicyName", "{name}", {"Id": "{name}"}),
    "AWS::IAM::InstanceProfile": _Kind(
        "the instance profile",
        "InstanceProfileName",
        "{name}",
        {"Arn": "arn:{p}:iam::{a}:instance-profile{path}{name}"},
    ),
    "AWS::S3::Bucket": _Kind(
        "the bucket",
        "BucketName",
        "{name}",
        {
            "Arn": "arn:{p}:s3:::{name}",
            "DomainName": "{name}.s3.{suffix}",
            "RegionalDomainName": "{name}.s3.{r}.{suffix}",
            "DualStackDomainName": "{name}.s3.dualstack.{r}.{suffix}",
            "WebsiteURL": "http://{name}.s3-website-{r}.{suffix}",
        },
        lower_case=True,
    ),
    "AWS::CodeBuild::Project": _Kind(
        "the CodeBuild project",
        "Name",
        "{name}",
        {"Arn": "arn:{p}:codebuild:{r}:{a}:project/{name}"},
    ),
    "AWS::CodeCommit::Repository": _Kind(
        "the CodeCommit repository",
        "RepositoryName",
        "{uid}",
        {
            "Arn": "arn:{p}:codecommit:{r}:{a}:{name}",
            "Name": "{name}",
            "CloneUrlHttp": "https://git-codecommit.{r}.{suffix}/v1/repos/{name}",
            "CloneUrlSsh": "ssh://git-codecommit.{r}.{suffix}/v1/repos/{name}",
        },
    ),
    "AWS::ECR::Repository": _Kind(
        "the ECR repository",
        "RepositoryName",
        "{name}",
        {
            "Arn": "arn:{p}:ecr:{r}:{a}:repository/{name}",
            "RepositoryUri": "{a}.dkr.ecr.{r}.{suffix}/{name}",
        },
        lower_case=True,
    ),
    "AWS::KMS::Key": _Kind(
        "the KMS key", None, "{uid}", {"Arn": "arn:{p}:kms:{r}:{a}:key/{uid}", "KeyId": "{uid}"}
    ),
    "AWS::KMS::Alias": _Kind("the KMS alias", "AliasName", "{name}"),
    "AWS::SNS::Topic": _Kind(
        "the SNS topic",
        "TopicName",
        "arn:{p}:sns:{r}:{a}:{name}",
        {"TopicArn": "arn:{p}:sns:{r}:{a}:{name}", "TopicName": "{name}"},
    ),
    "AWS::SQS::Queue": _Kind(
        "the SQS queue",
        "QueueName",
        "https://sqs.{r}.{suffix}/{a}/{name}",
        {
            "Arn": "arn:{p}:sqs:{r}:{a}:{name}",
            "QueueName": "{name}",
            "QueueUrl": "https://sqs.{r}.{suffix}/{a}/{name}",
        },
    ),
    "AWS::Lambda::Function": _Kind(
        "the Lambda function",
        "FunctionName",
        "{name}",
        {"Arn": "arn:{p}:lambda:{r}:{a}:function:{name}"},
    ),
    "AWS::Serverless::Function": _Kind(
        "the SAM function",
        "FunctionName",
        "{name}",
        {"Arn": "arn:{p}:lambda:{r}:{a}:function:{name}"},
    ),
    "AWS::ECS::Cluster": _Kind(
        "the ECS cluster", "ClusterName", "{name}", {"Arn": "arn:{p}:ecs:{r}:{a}:cluster/{name}"}
    ),
    "AWS::ECS::Service": _Kind(
        "the ECS service",
        "ServiceName",
        "arn:{p}:ecs:{r}:{a}:service/{name}",
        {"Name": "{name}", "ServiceArn": "arn:{p}:ecs:{r}:{a}:service/{name}"},
    ),
    "AWS::ECS::TaskDefinition": _Kind(
        "the ECS task definition",
        "Family",
        "arn:{p}:ecs:{r}:{a}:task-definition/{name}:1",
        {"TaskDefinitionArn": "arn:{p}:ecs:{r}:{a}:task-definition/{name}:1"},
    ),
    "AWS::CodeDeploy::Application": _Kind(
        "the CodeDeploy application", "ApplicationName", "{name}"
    ),
    "AWS::CodeDeploy::DeploymentGroup": _Kind(
        "the CodeDeploy deployment group", "DeploymentGroupName", "{name}"
    ),
    "AWS::ElasticBeanstalk::Application": _Kind(
        "the Elastic Beanstalk application", "ApplicationName", "{name}"
    ),
    "AWS::ElasticBeanstalk::Environment": _Kind(
        "the Elastic Beanstalk environment",
        "EnvironmentName",
        "{name}",
        {"EndpointURL": "{name}.{r}.elasticbeanstalk.com"},
    ),
    "AWS::CodeStarConnections::Connection": _Kind(
        "the connection",
        "ConnectionName",
        "arn:{p}:codestar-connections:{r}:{a}:connection/{uid}",
        {"ConnectionArn": "arn:{p}:codestar-connections:{r}:{a}:connection/{uid}"},
    ),
    "AWS::CodeConnections::Connection": _Kind(
        "the connection",
        "ConnectionName",
        "arn:{p}:codeconnections:{r}:{a}:connection/{uid}",
        {"ConnectionArn": "arn:{p}:codeconnections:{r}:{a}:connection/{uid}"},
    ),
    "AWS::CodePipeline::Pipeline": _Kind(
        "the pipeline", "Name", "{name}", {"Version": "1"}, generated=True
    ),
    "AWS::CodePipeline::Webhook": _Kind(
        "the webhook",
        "Name",
        "{uid}",
        {"Url": "https://{r}.webhooks.aws/trigger?t={HEX17}"},
    ),
    "AWS::CodePipeline::CustomActionType": _Kind("the custom action type", None, "{logical}"),
    "AWS::CloudFormation::Stack": _Kind(
        "the nested stack", None, "arn:{p}:cloudformation:{r}:{a}:stack/{stack}-{logical}/{uid}"
    ),
    "AWS::SecretsManager::Secret": _Kind(
        "the secret", "Name", "arn:{p}:secretsmanager:{r}:{a}:secret:{name}-{hex6}"
    ),
    "AWS::SSM::Parameter": _Kind("the SSM parameter", "Name", "{name}", {"Type": "String"}),
    "AWS::Events::Rule": _Kind(
        "the EventBridge rule", "Name", "{name}", {"Arn": "arn:{p}:events:{r}:{a}:rule/{name}"}
    ),
    "AWS::Logs::LogGroup": _Kind(
        "the log group",
        "LogGroupName",
        "{name}",
        {"Arn": "arn:{p}:logs:{r}:{a}:log-group:{name}:*"},
    ),
    "AWS::StepFunctions::StateMachine": _Kind(
        "the state machine",
        "StateMachineName",
        "arn:{p}:states:{r}:{a}:stateMachine:{name}",
        {"Arn": "arn:{p}:states:{r}:{a}:stateMachine:{name}", "Name": "{name}"},
    ),
    "AWS::EC2::VPC": _Kind("the VPC", None, "vpc-{hex17}"),
    "AWS::EC2::Subnet": _Kind("the subnet", None, "subnet-{hex17}"),
    "AWS::EC2::SecurityGroup": _Kind(
        "the security group", None, "sg-{hex17}", {"GroupId": "sg-{hex17}"}
    ),
}


@dataclass(frozen=True, kw_only=True)
class StandIn:
    """A stand-in value and what it stands for ("the role", "the bucket", ...)."""

    value: str
    noun: str


def name_property(resource_type: str) -> str | None:
    """The property that sets the physical name ``Ref`` returns, if the type has one."""
    kind = _KINDS.get(resource_type)
    return kind.name_property if kind else None


def known_attributes(resource_type: str) -> list[str] | None:
    kind = _KINDS.get(resource_type)
    return list(kind.attributes) if kind else None


def _service(resource_type: str) -> str:
    parts = resource_type.split("::")
    return parts[1].lower() if len(parts) > 2 else "custom"


def _fields(
    logical_id: str, resource_type: str, name: str | None, iam_path: str, ctx: StackContext
) -> dict[str, str]:
    kind = _KINDS.get(resource_type)
    if name is None:
        if kind and kind.generated:
            name = ctx.generated_name(logical_id)
        elif kind and kind.lower_case:
            name = bucket_like(logical_id)
        else:
            name = logical_id
    digest = ctx.hex_for(logical_id, 32)
    return {
        "name": name,
        "logical": logical_id,
        "uid": ctx.uuid_for(logical_id),
        "hex17": digest[:17],
        "hex6": digest[:6],
        "HEX17": digest[:17].upper(),
        "path": iam_path if iam_path.startswith("/") and iam_path.endswith("/") else "/",
        "p": ctx.partition,
        "r": ctx.region,
        "a": ctx.account_id,
        "suffix": ctx.url_suffix,
        "stack": ctx.stack_name,
        "service": _service(resource_type),
    }


def ref_value(
    logical_id: str, resource_type: str, name: str | None, iam_path: str, ctx: StackContext
) -> StandIn:
    """What ``Ref`` of a resource created by the template would return."""
    kind = _KINDS.get(resource_type)
    fields = _fields(logical_id, resource_type, name, iam_path, ctx)
    if kind is None:
        return StandIn(value=fields["name"], noun=f"the {resource_type} resource")
    return StandIn(value=kind.ref.format(**fields), noun=kind.noun)


def attribute_value(
    logical_id: str,
    resource_type: str,
    attribute: str,
    name: str | None,
    iam_path: str,
    ctx: StackContext,
    hint: str | None,
) -> StandIn:
    """What ``Fn::GetAtt`` would return; unknown attributes get a value shaped by ``hint``."""
    kind = _KINDS.get(resource_type)
    fields = _fields(logical_id, resource_type, name, iam_path, ctx)
    noun = kind.noun if kind else f"the {resource_type} resource"
    if kind and attribute in kind.attributes:
        return StandIn(value=kind.attributes[attribute].format(**fields), noun=noun)
    if attribute.startswith("Outputs."):
        output = attribute.split(".", 1)[1]
        raw = f"{logical_id}-{output}"
        return StandIn(value=hinted_value(raw, hint, ctx), noun=f"output '{output}' of {noun}")
    if attribute == "Arn":
        return StandIn(value=(_ARN + ":{name}").format(**fields), noun=noun)
    raw = f"{fields['name']}-{attribute.replace('.', '-')}"
    return StandIn(value=hinted_value(raw, hint, ctx), noun=f"attribute {attribute} of {noun}")


def bucket_like(text: str) -> str:
    """A valid S3 bucket name from ``text``: lower case, 3 to 63 of [a-z0-9.-]."""
    name = re.sub(r"[^a-z0-9.-]+", "-", text.lower()).strip("-.")
    return (name or "bucket").ljust(3, "0")[:63]


def hinted_value(raw: str, hint: str | None, ctx: StackContext) -> str:
    """A stand-in for an unknowable value, shaped for the property it is put in.

    ``hint`` is the name of the property the value lands in ("RoleArn",
    "Location", ...): a role ARN for a role member, a bucket name for an
    artifact store location, so later checks of the declaration's patterns
    test the template and not the stand-in.
    """
    clean = re.sub(r"[^A-Za-z0-9_.-]+", "-", raw).strip("-") or "value"
    p, r, a = ctx.partition, ctx.region, ctx.account_id
    if hint is None:
        return clean
    if hint.endswith("RoleArn") or hint in ("RoleARN", "ServiceRole"):
        return f"arn:{p}:iam::{a}:role/{clean}"
    if hint in ("Location", "S3Bucket", "BucketName"):
        return bucket_like(clean)
    if hint in ("NotificationArn", "TopicArn"):
        return f"arn:{p}:sns:{r}:{a}:{clean}"
    if hint in ("Id", "KmsKeyId", "KMSKeyArn", "EncryptionKey"):
        return f"arn:{p}:kms:{r}:{a}:key/{ctx.uuid_for('import/' + raw)}"
    if hint == "ConnectionArn":
        return f"arn:{p}:codestar-connections:{r}:{a}:connection/{ctx.uuid_for('import/' + raw)}"
    return clean
