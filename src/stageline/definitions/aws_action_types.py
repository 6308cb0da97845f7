"""The action types CodePipeline offers out of the box, as data.

Transcribed from AWS's "Action structure reference" in the CodePipeline User
Guide (one page per provider), the "Valid input and output artifacts for each
action type" table and "Quotas in AWS CodePipeline". Facts (names, required
flags, secrets, artifact counts, timeouts) follow those pages; every
description is our own wording and fits the API limit of 160 characters.

Conventions used throughout:

* Artifact bounds are the *documented* numbers. A few types document more
  than the API model's 0..5 (CloudFormation and Commands take up to 10
  inputs); the API layer clamps what it reports, validation uses ours.
* AWS's ``actionConfigurationProperties`` holds at most 10 entries; types that
  document more (Device Farm, StackSets, ECS blue/green) keep every property
  here and the API layer decides what to list.
* Parameters AWS marks "Conditional" are ``required=False``: whether they are
  needed depends on other values, which is for the provider to check.
* ``key`` marks the properties that identify the external resource (the ones
  an entity URL would be built from). unverified: AWS documents neither
  ``key`` nor ``queryable`` for its own types; no AWS type here is queryable.
* ``default_timeout_minutes`` is the quota from "Quotas in AWS CodePipeline"
  (1 hour unless listed). AWS lets only manual approvals set
  ``timeoutInMinutes``; for everything else ``max_timeout_minutes`` is the
  documented ceiling, or the default when AWS documents none.
* URL templates use AWS's ``{Config:Name}`` / ``{ExternalExecutionId}``
  placeholders. AWS-owned types leave them unset: their console links point
  into stageline itself, which the console builds from the configuration.
"""

from __future__ import annotations

from stageline.definitions.catalog import (
    ActionTypeSpec,
    ArtifactBounds,
    Category,
    ConfigProperty,
    Owner,
)

__all__ = ["AWS_ACTION_TYPES"]


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def _prop(
    name: str,
    description: str,
    *,
    required: bool = False,
    key: bool = False,
    secret: bool = False,
    type: str = "String",
) -> ConfigProperty:
    """One configuration property; never queryable for AWS-owned types."""
    # unverified: AWS does not publish the key/queryable flags of its own types;
    # key=True is set on the properties that name the external resource.
    return ConfigProperty(
        name=name,
        required=required,
        key=key,
        secret=secret,
        queryable=False,
        description=description,
        type=type,
    )


def _bool(name: str, description: str, *, required: bool = False) -> ConfigProperty:
    return _prop(name, description, required=required, type="Boolean")


def _num(name: str, description: str, *, required: bool = False) -> ConfigProperty:
    return _prop(name, description, required=required, type="Number")


def _count(minimum: int, maximum: int | None = None) -> ArtifactBounds:
    """Artifact bounds; ``_count(1)`` is exactly one, ``_count(0, 5)`` zero to five."""
    return ArtifactBounds(minimum=minimum, maximum=minimum if maximum is None else maximum)


NONE = _count(0)
ONE = _count(1)

# Timeouts in minutes, from "Quotas in AWS CodePipeline".
ONE_HOUR = 60  # "All other actions"
S3_DEPLOY_TIMEOUT = 90
CODEBUILD_TIMEOUT = 8 * 60
LAMBDA_INVOKE_TIMEOUT = 24 * 60
CLOUDFORMATION_TIMEOUT = 3 * 24 * 60
CODEDEPLOY_TIMEOUT = 5 * 24 * 60
SEVEN_DAYS = 7 * 24 * 60
APPROVAL_MAX_TIMEOUT = 86_400  # 60 days; the minimum an approval accepts is 5
COMMANDS_TIMEOUT = 55  # fixed by the managed CodeBuild compute behind Commands


# Properties shared by more than one type.

_POLL_FOR_SOURCE_CHANGES = _bool(
    "PollForSourceChanges",
    "Poll the source for changes (the default when omitted); set false when an event rule "
    "or webhook starts the pipeline instead.",
)

_OUTPUT_ARTIFACT_FORMAT = _prop(
    "OutputArtifactFormat",
    "CODE_ZIP (default) for a zip of the commit, or CODEBUILD_CLONE_REF for a clone "
    "reference that only CodeBuild actions can consume.",
)

_CODEBUILD_PROPERTIES = (
    _prop("ProjectName", "Name of the CodeBuild project to run.", required=True, key=True),
    _prop(
        "PrimarySource",
        "Input artifact whose directory holds the buildspec; needed when the action has "
        "more than one input artifact.",
    ),
    _bool("BatchEnabled", "Run the build as a batch build (several builds in one execution)."),
    _prop(
        "BuildspecOverride",
        "Inline buildspec or buildspec file path used for this build instead of the "
        "project's own buildspec.",
    ),
    _bool(
        "CombineArtifacts",
        "Merge the artifacts of all builds in a batch into one output artifact; "
        "needs BatchEnabled.",
    ),
    _prop(
        "EnvironmentVariables",
        "JSON array of {name, value, type} objects; type is PLAINTEXT (default), "
        "PARAMETER_STORE or SECRETS_MANAGER.",
    ),
)

_STACK_SET_TARGETS = (
    _prop(
        "DeploymentTargets",
        "Account IDs (self-managed) or organization/OU IDs (service-managed), as a comma "
        "list or an Artifact::file path.",
    ),
    _prop(
        "Regions",
        "Comma-separated Regions in which stack instances are created or updated, "
        "processed in the order given.",
    ),
)

_STACK_SET_TOLERANCES = (
    _num(
        "FailureTolerancePercentage",
        "Percentage of accounts per Region that may fail before the operation stops in "
        "that Region.",
    ),
    _num(
        "MaxConcurrentPercentage",
        "Largest percentage of accounts that are worked on at the same time.",
    ),
)


def _ecs_image_properties() -> tuple[ConfigProperty, ...]:
    """Image1..Image4 ArtifactName/ContainerName of the ECS blue/green action."""
    props: list[ConfigProperty] = []
    for n in range(1, 5):
        props.append(
            _prop(
                f"Image{n}ArtifactName",
                f"Input artifact (usually an ECR source output) holding the imageDetail.json "
                f"for image {n}.",
            )
        )
        props.append(
            _prop(
                f"Image{n}ContainerName",
                f"Placeholder name for image {n}; <NAME> in the task definition is replaced "
                f"by the image URI.",
            )
        )
    return tuple(props)


_VPC_PROPERTIES = (
    _prop("Subnets", "Comma-separated subnet IDs for the VPC the action needs to reach."),
    _prop("SecurityGroupIds", "Comma-separated security group IDs for that VPC."),
)


# --------------------------------------------------------------------------
# Source
# --------------------------------------------------------------------------

_SOURCE_TYPES = (
    ActionTypeSpec(
        category=Category.SOURCE,
        owner=Owner.AWS,
        provider="S3",
        description="Starts the pipeline when a new version of an object lands in a "
        "versioned S3 bucket, and outputs that object.",
        properties=(
            _prop(
                "S3Bucket",
                "Versioned bucket that holds the source object.",
                required=True,
                key=True,
            ),
            _prop(
                "S3ObjectKey",
                "Key of the source object (usually a .zip) to watch.",
                required=True,
                key=True,
            ),
            _bool(
                "AllowOverrideForS3ObjectKey",
                "Let a source revision override on StartPipelineExecution replace "
                "S3ObjectKey (default false).",
            ),
            _POLL_FOR_SOURCE_CHANGES,
        ),
        input_artifacts=NONE,
        output_artifacts=ONE,
        default_timeout_minutes=ONE_HOUR,
        max_timeout_minutes=ONE_HOUR,
    ),
    ActionTypeSpec(
        category=Category.SOURCE,
        owner=Owner.AWS,
        provider="CodeCommit",
        description="Starts the pipeline on a new commit to a branch of a hosted git "
        "repository and outputs that commit.",
        properties=(
            _prop("RepositoryName", "Repository to watch.", required=True, key=True),
            _prop("BranchName", "Branch to watch for new commits.", required=True, key=True),
            _POLL_FOR_SOURCE_CHANGES,
            _OUTPUT_ARTIFACT_FORMAT,
        ),
        input_artifacts=NONE,
        output_artifacts=ONE,
        default_timeout_minutes=ONE_HOUR,
        max_timeout_minutes=ONE_HOUR,
    ),
    ActionTypeSpec(
        category=Category.SOURCE,
        owner=Owner.AWS,
        provider="ECR",
        description="Starts the pipeline when an image is pushed to a container repository; "
        "outputs an imageDetail.json with the image URI.",
        properties=(
            _prop(
                "RepositoryName",
                "Container image repository to watch.",
                required=True,
                key=True,
            ),
            _prop("ImageTag", "Image tag to watch; latest when omitted.", key=True),
        ),
        input_artifacts=NONE,
        output_artifacts=ONE,
        default_timeout_minutes=ONE_HOUR,
        max_timeout_minutes=ONE_HOUR,
    ),
    # The provider is still called CodeStarSourceConnection after the service
    # was renamed CodeConnections; there is no separate "CodeConnections"
    # provider. The artifact table lists its owner as ThirdParty, but the action
    # reference (and every real declaration) uses AWS.
    ActionTypeSpec(
        category=Category.SOURCE,
        owner=Owner.AWS,
        provider="CodeStarSourceConnection",
        description="Starts the pipeline on commits to Bitbucket Cloud, GitHub, GitHub "
        "Enterprise Server or GitLab through a connection.",
        properties=(
            _prop(
                "ConnectionArn",
                "ARN of an authorized connection (codestar-connections or codeconnections).",
                required=True,
            ),
            _prop(
                "FullRepositoryId",
                "Owner and repository name, such as some-user/my-repo; case matters.",
                required=True,
                key=True,
            ),
            _prop("BranchName", "Branch to watch for new commits.", required=True, key=True),
            _OUTPUT_ARTIFACT_FORMAT,
            _bool(
                "DetectChanges",
                "Start the pipeline automatically on new commits (default true).",
            ),
        ),
        input_artifacts=NONE,
        output_artifacts=ONE,
        default_timeout_minutes=ONE_HOUR,
        max_timeout_minutes=ONE_HOUR,
    ),
    # GitHub (via OAuth app), the "version 1" GitHub action; AWS discourages it
    # but keeps existing pipelines working.
    ActionTypeSpec(
        category=Category.SOURCE,
        owner=Owner.THIRD_PARTY,
        provider="GitHub",
        description="Starts the pipeline on commits to a GitHub branch, authenticated "
        "with an OAuth or personal access token (legacy action).",
        properties=(
            _prop(
                "Owner",
                "GitHub user or organization that owns the repository.",
                required=True,
                key=True,
            ),
            _prop("Repo", "Repository to watch.", required=True, key=True),
            _prop("Branch", "Branch to watch for new commits.", required=True, key=True),
            _prop(
                "OAuthToken",
                "GitHub token used to read the repository; always shown as ****.",
                required=True,
                secret=True,
            ),
            _POLL_FOR_SOURCE_CHANGES,
        ),
        input_artifacts=NONE,
        output_artifacts=ONE,
        default_timeout_minutes=ONE_HOUR,
        max_timeout_minutes=ONE_HOUR,
        # unverified: AWS's own settings for this type are not documented; these
        # are the obvious github.com pages for the configured repository.
        entity_url_template="https://github.com/{Config:Owner}/{Config:Repo}/tree/{Config:Branch}",
        execution_url_template=(
            "https://github.com/{Config:Owner}/{Config:Repo}/commit/{ExternalExecutionId}"
        ),
        third_party_configuration_url="https://github.com/settings/tokens",
    ),
)


# --------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------

_BUILD_TYPES = (
    ActionTypeSpec(
        category=Category.BUILD,
        owner=Owner.AWS,
        provider="CodeBuild",
        description="Runs a build project: the buildspec of the primary input artifact, "
        "with every input extracted beside it.",
        properties=_CODEBUILD_PROPERTIES,
        input_artifacts=_count(1, 5),
        output_artifacts=_count(0, 5),
        # The current quota page no longer lists CodeBuild; the earlier one gave
        # 8 hours, which matches how long a build is allowed to run.
        default_timeout_minutes=CODEBUILD_TIMEOUT,
        # unverified: ceiling taken from CodeBuild's own longest build timeout (36 h).
        max_timeout_minutes=36 * 60,
    ),
    ActionTypeSpec(
        category=Category.BUILD,
        owner=Owner.AWS,
        provider="ECRBuildAndPublish",
        description="Builds a Docker image from the input artifact's Dockerfile and pushes "
        "it to a container repository (V2 pipelines).",
        properties=(
            _prop(
                "ECRRepositoryName",
                "Repository the built image is pushed to.",
                required=True,
                key=True,
            ),
            _prop(
                "DockerFilePath",
                "Directory of the Dockerfile inside the input artifact; its root when omitted.",
            ),
            _prop("ImageTags", "Comma-separated tags for the image; latest when omitted."),
            _prop("RegistryType", "private (default) or public repository."),
        ),
        input_artifacts=ONE,
        output_artifacts=NONE,
        # unverified: runs on managed build compute like Commands; AWS lists no
        # timeout for it, so the general one hour applies.
        default_timeout_minutes=ONE_HOUR,
        max_timeout_minutes=ONE_HOUR,
    ),
)


# --------------------------------------------------------------------------
# Test
# --------------------------------------------------------------------------

_TEST_TYPES = (
    ActionTypeSpec(
        category=Category.TEST,
        owner=Owner.AWS,
        provider="CodeBuild",
        description="Runs a build project as a test step; fails the action when the build fails.",
        properties=_CODEBUILD_PROPERTIES,
        input_artifacts=_count(1, 5),
        output_artifacts=_count(0, 5),
        default_timeout_minutes=CODEBUILD_TIMEOUT,
        # unverified: see Build/AWS/CodeBuild/1.
        max_timeout_minutes=36 * 60,
    ),
    ActionTypeSpec(
        category=Category.TEST,
        owner=Owner.AWS,
        provider="DeviceFarm",
        description="Tests a built mobile or web app on a pool of real devices with the "
        "chosen test framework.",
        properties=(
            _prop("AppType", "iOS, Android or Web.", required=True),
            _prop("ProjectId", "ID of the device testing project.", required=True, key=True),
            _prop(
                "App",
                "Path of the application file inside the input artifact.",
                required=True,
            ),
            # Documented as required, yet the value is ignored and AWS's own
            # example omits it, so it is not enforced here.
            _prop(
                "AppiumVersion",
                "Appium version to test with; accepted but ignored (the default is used).",
            ),
            _prop("DevicePoolArn", "ARN of the device pool to run on.", required=True),
            _prop(
                "TestType",
                "Test framework, such as APPIUM_PYTHON, BUILTIN_FUZZ, INSTRUMENTATION or XCTEST.",
                required=True,
            ),
            _bool("RadioBluetoothEnabled", "Turn Bluetooth on when the test starts."),
            _bool(
                "RecordAppPerformanceData",
                "Record CPU, frame rate and memory use during the test.",
            ),
            _bool("RecordVideo", "Record a video of the test."),
            _bool("RadioWifiEnabled", "Turn Wi-Fi on when the test starts."),
            _bool("RadioNfcEnabled", "Turn NFC on when the test starts."),
            _bool("RadioGpsEnabled", "Turn GPS on when the test starts."),
            _prop(
                "Test",
                "Path of the test definition file, relative to the input artifact's root.",
            ),
            _num("FuzzEventCount", "Number of UI events a fuzz test performs (1 to 10,000)."),
            _num(
                "FuzzEventThrottle",
                "Milliseconds a fuzz test waits between UI events (1 to 1,000).",
            ),
            _num(
                "FuzzRandomizerSeed",
                "Seed for the fuzz test; the same seed repeats the same event sequence.",
            ),
            _prop(
                "CustomHostMachineArtifacts",
                "Where on the host machine custom artifacts are stored.",
            ),
            _prop("CustomDeviceArtifacts", "Where on the device custom artifacts are stored."),
            _bool("UnmeteredDevicesOnly", "Use only unmetered devices for this run."),
            _num("JobTimeoutMinutes", "Minutes a test run may take per device."),
            _num("Latitude", "Device latitude in degrees."),
            _num("Longitude", "Device longitude in degrees."),
        ),
        input_artifacts=ONE,
        output_artifacts=NONE,
        default_timeout_minutes=ONE_HOUR,
        max_timeout_minutes=ONE_HOUR,
    ),
)


# --------------------------------------------------------------------------
# Deploy
# --------------------------------------------------------------------------

_DEPLOY_TYPES = (
    ActionTypeSpec(
        category=Category.DEPLOY,
        owner=Owner.AWS,
        provider="S3",
        description="Copies the input artifact into an S3 bucket, either extracted (for "
        "static sites) or as one object.",
        properties=(
            _prop("BucketName", "Bucket the files are deployed to.", required=True, key=True),
            _bool(
                "Extract",
                "true to unzip the artifact into the bucket; false to upload the zip as ObjectKey.",
                required=True,
            ),
            _prop(
                "ObjectKey",
                "Key (or key prefix when extracting) to write; needed when Extract is false.",
                key=True,
            ),
            _prop(
                "KMSEncryptionKeyARN",
                "Symmetric KMS key (ID, ARN or alias ARN) used to encrypt what is uploaded.",
            ),
            _prop("CannedACL", "Canned ACL applied to every deployed object."),
            _prop(
                "CacheControl",
                "Cache-Control header for the deployed objects, such as public, max-age=0.",
            ),
        ),
        input_artifacts=ONE,
        output_artifacts=NONE,
        default_timeout_minutes=S3_DEPLOY_TIMEOUT,
        max_timeout_minutes=S3_DEPLOY_TIMEOUT,
    ),
    ActionTypeSpec(
        category=Category.DEPLOY,
        owner=Owner.AWS,
        provider="CloudFormation",
        description="Creates, updates or deletes a stack, or creates and executes a change "
        "set, from a template in an input artifact.",
        properties=(
            _prop(
                "ActionMode",
                "CREATE_UPDATE, REPLACE_ON_FAILURE, DELETE_ONLY, CHANGE_SET_REPLACE or "
                "CHANGE_SET_EXECUTE.",
                required=True,
            ),
            _prop("StackName", "Stack to create or operate on.", required=True, key=True),
            _prop(
                "Capabilities",
                "Comma-separated acknowledgements: CAPABILITY_IAM, CAPABILITY_NAMED_IAM, "
                "CAPABILITY_AUTO_EXPAND.",
            ),
            _prop(
                "ChangeSetName",
                "Change set to create or execute; needed by the two CHANGE_SET modes.",
            ),
            _prop(
                "RoleArn",
                "Role the stack operation runs as; needed by every mode except CHANGE_SET_EXECUTE.",
            ),
            _prop(
                "TemplatePath",
                "Template file as ArtifactName::path; needed by CREATE_UPDATE, "
                "REPLACE_ON_FAILURE and CHANGE_SET_REPLACE.",
            ),
            _prop(
                "OutputFileName",
                "File in the output artifact that receives the stack outputs as JSON.",
            ),
            _prop(
                "ParameterOverrides",
                "JSON object of template parameter values; overrides the template "
                "configuration file.",
            ),
            _prop(
                "TemplateConfiguration",
                "Template configuration file (parameters, tags, stack policy) as "
                "ArtifactName::path.",
            ),
        ),
        input_artifacts=_count(0, 10),
        output_artifacts=_count(0, 1),
        default_timeout_minutes=CLOUDFORMATION_TIMEOUT,
        max_timeout_minutes=CLOUDFORMATION_TIMEOUT,
    ),
    ActionTypeSpec(
        category=Category.DEPLOY,
        owner=Owner.AWS,
        provider="CloudFormationStackSet",
        description="Creates or updates a stack set from a template and deploys the change "
        "to the chosen accounts and Regions.",
        properties=(
            _prop(
                "StackSetName",
                "Name of the stack set, unique in the Region.",
                required=True,
                key=True,
            ),
            _prop("Description", "Free-text description of the stack set."),
            _prop(
                "TemplatePath",
                "Template of the stack set as ArtifactName::path.",
                required=True,
            ),
            _prop(
                "Parameters",
                "Template parameters in shorthand (ParameterKey=...,ParameterValue=...) or "
                "as ArtifactName::path.",
            ),
            _prop(
                "Capabilities",
                "Comma-separated acknowledgements: CAPABILITY_IAM, CAPABILITY_NAMED_IAM.",
            ),
            _prop("PermissionModel", "SELF_MANAGED (default) or SERVICE_MANAGED."),
            _prop(
                "AdministrationRoleArn",
                "Administrator role used for stack set operations (self-managed only).",
            ),
            _prop(
                "ExecutionRoleName",
                "Role name assumed in target accounts (self-managed only).",
            ),
            _prop(
                "OrganizationsAutoDeployment",
                "Enabled, Disabled (default) or EnabledWithStackRetention; service-managed only.",
            ),
            *_STACK_SET_TARGETS,
            *_STACK_SET_TOLERANCES,
        ),
        input_artifacts=_count(1, 3),
        output_artifacts=NONE,
        # unverified: the quota page names only the stack action (3 days); a stack
        # set rollout is at least as long, so the same limit is used.
        default_timeout_minutes=CLOUDFORMATION_TIMEOUT,
        max_timeout_minutes=CLOUDFORMATION_TIMEOUT,
    ),
    ActionTypeSpec(
        category=Category.DEPLOY,
        owner=Owner.AWS,
        provider="CloudFormationStackInstances",
        description="Creates or updates the stack instances of an existing stack set, "
        "optionally overriding parameters per instance.",
        properties=(
            _prop(
                "StackSetName",
                "Stack set whose instances are deployed.",
                required=True,
                key=True,
            ),
            _STACK_SET_TARGETS[0],
            _prop(
                "Regions",
                "Comma-separated Regions in which stack instances are created or updated, "
                "processed in the order given.",
                required=True,
            ),
            _prop(
                "ParameterOverrides",
                "Parameter values for the selected instances, in shorthand or as "
                "ArtifactName::path.",
            ),
            *_STACK_SET_TOLERANCES,
        ),
        input_artifacts=_count(0, 2),
        output_artifacts=NONE,
        # unverified: as for CloudFormationStackSet.
        default_timeout_minutes=CLOUDFORMATION_TIMEOUT,
        max_timeout_minutes=CLOUDFORMATION_TIMEOUT,
    ),
    ActionTypeSpec(
        category=Category.DEPLOY,
        owner=Owner.AWS,
        provider="CodeDeploy",
        description="Deploys the input artifact to a deployment group of EC2 or on-premises "
        "instances, driven by its AppSpec file.",
        properties=(
            _prop("ApplicationName", "Deployment application.", required=True, key=True),
            _prop(
                "DeploymentGroupName",
                "Deployment group that receives the revision.",
                required=True,
                key=True,
            ),
        ),
        input_artifacts=ONE,
        output_artifacts=NONE,
        default_timeout_minutes=CODEDEPLOY_TIMEOUT,
        max_timeout_minutes=CODEDEPLOY_TIMEOUT,
    ),
    ActionTypeSpec(
        category=Category.DEPLOY,
        owner=Owner.AWS,
        provider="CodeDeployToECS",
        description="Blue/green deployment of a container service: registers a task "
        "definition with new images and shifts traffic to it.",
        properties=(
            _prop("ApplicationName", "Deployment application.", required=True, key=True),
            _prop(
                "DeploymentGroupName",
                "Deployment group for the service's task sets.",
                required=True,
                key=True,
            ),
            _prop(
                "TaskDefinitionTemplateArtifact",
                "Input artifact that holds the task definition file.",
                required=True,
            ),
            _prop(
                "AppSpecTemplateArtifact",
                "Input artifact that holds the AppSpec file.",
                required=True,
            ),
            _prop("AppSpecTemplatePath", "Path of the AppSpec file; appspec.yaml by default."),
            _prop(
                "TaskDefinitionTemplatePath",
                "Path of the task definition file; taskdef.json by default.",
            ),
            *_ecs_image_properties(),
        ),
        input_artifacts=_count(1, 5),
        output_artifacts=NONE,
        default_timeout_minutes=CODEDEPLOY_TIMEOUT,
        max_timeout_minutes=CODEDEPLOY_TIMEOUT,
    ),
    ActionTypeSpec(
        category=Category.DEPLOY,
        owner=Owner.AWS,
        provider="ECS",
        description="Rolling update of a container service to the images named in an "
        "imagedefinitions.json file.",
        properties=(
            _prop("ClusterName", "Cluster that runs the service.", required=True, key=True),
            _prop("ServiceName", "Service to update.", required=True, key=True),
            _prop(
                "FileName",
                "Image definitions file in the input artifact; imagedefinitions.json by default.",
            ),
            _num(
                "DeploymentTimeout",
                "Minutes to wait for the deployment, up to the action's one-hour limit.",
            ),
        ),
        input_artifacts=ONE,
        output_artifacts=NONE,
        default_timeout_minutes=ONE_HOUR,
        max_timeout_minutes=ONE_HOUR,
    ),
    ActionTypeSpec(
        category=Category.DEPLOY,
        owner=Owner.AWS,
        provider="EKS",
        description="Deploys to a Kubernetes cluster with kubectl manifests or a Helm chart "
        "from the input artifact (V2 pipelines).",
        properties=(
            _prop("ClusterName", "Kubernetes cluster to deploy to.", required=True, key=True),
            _prop("HelmReleaseName", "Release name; needed when deploying with Helm."),
            _prop(
                "HelmChartLocation",
                "Chart location in the input artifact; needed when deploying with Helm.",
            ),
            _prop(
                "HelmValuesFiles",
                "Comma-separated Helm values files inside the chart location.",
            ),
            _prop(
                "ManifestFiles",
                "Manifest files to apply; needed when deploying with kubectl.",
            ),
            _prop("Namespace", "Kubernetes namespace used by kubectl or helm."),
            *_VPC_PROPERTIES,
        ),
        input_artifacts=ONE,
        output_artifacts=NONE,
        default_timeout_minutes=ONE_HOUR,
        max_timeout_minutes=ONE_HOUR,
        # Key/value pairs substituted into manifests and values files.
        # unverified: documented as "Environment variables" of the action; taken to
        # be ActionDeclaration.environmentVariables as for Commands.
        declaration_fields=("environmentVariables",),
    ),
    ActionTypeSpec(
        category=Category.DEPLOY,
        owner=Owner.AWS,
        provider="EC2",
        description="Deploys the input artifact to tagged Linux instances through the SSM "
        "agent, running scripts before and after (V2 pipelines).",
        properties=(
            _prop(
                "InstanceTagKey",
                "Tag key that selects the target instances, such as Name.",
                required=True,
                key=True,
            ),
            _prop(
                "InstanceTagValue",
                "Tag value to match; every instance with the tag key when omitted.",
                key=True,
            ),
            _prop("InstanceType", "EC2 or SSM_MANAGED_NODE.", required=True),
            _prop(
                "TargetDirectory",
                "Directory on the instance where scripts run; needed without DeploySpec.",
            ),
            _prop(
                "DeploySpec",
                "Deploy spec file describing files, scripts and hooks; replaces the "
                "script settings.",
            ),
            _prop("MaxBatch", "Largest number of instances deployed in parallel."),
            _prop("MaxError", "Largest number of instance failures tolerated."),
            _prop(
                "TargetGroupNameList",
                "Target groups the instances leave before and rejoin after deployment.",
            ),
            _prop("PreScript", "Script run before the deploy phase."),
            # Documented "Required: Yes", but AWS's deploy-spec example omits it:
            # it is needed only when no DeploySpec is given.
            _prop("PostScript", "Script run after the deploy phase; needed without DeploySpec."),
        ),
        input_artifacts=ONE,
        output_artifacts=NONE,
        default_timeout_minutes=ONE_HOUR,
        max_timeout_minutes=ONE_HOUR,
    ),
    ActionTypeSpec(
        category=Category.DEPLOY,
        owner=Owner.AWS,
        provider="Lambda",
        description="Deploys function code or a published version to a function alias, "
        "all at once or by canary/linear traffic shifting (V2).",
        properties=(
            _prop("FunctionName", "Function to deploy.", required=True, key=True),
            _prop(
                "FunctionAlias",
                "Alias that receives the new version; without it code goes to $LATEST.",
            ),
            _prop(
                "PublishedTargetVersion",
                "Already published version to shift the alias to; needed when there is no "
                "input artifact.",
            ),
            _prop(
                "DeployStrategy",
                "AllAtOnce (default), CanaryNPercentMMinutes or LinearNPercentEveryMMinutes.",
            ),
            _prop(
                "Alarms",
                "Up to 10 comma-separated alarm names; the action fails if one goes to ALARM.",
            ),
        ),
        # Documented as 1 input, but PublishedTargetVersion is "required if no
        # input artifact is provided", so none is also accepted.
        input_artifacts=_count(0, 1),
        output_artifacts=NONE,
        default_timeout_minutes=ONE_HOUR,
        # unverified: traffic shifting may wait up to 2 days in total.
        max_timeout_minutes=2 * 24 * 60,
    ),
    ActionTypeSpec(
        category=Category.DEPLOY,
        owner=Owner.AWS,
        provider="ElasticBeanstalk",
        description="Deploys the input artifact as a new application version to an Elastic "
        "Beanstalk environment.",
        properties=(
            _prop("ApplicationName", "Elastic Beanstalk application.", required=True, key=True),
            _prop(
                "EnvironmentName",
                "Environment that runs the new version.",
                required=True,
                key=True,
            ),
        ),
        input_artifacts=ONE,
        output_artifacts=NONE,
        default_timeout_minutes=ONE_HOUR,
        max_timeout_minutes=ONE_HOUR,
    ),
    ActionTypeSpec(
        category=Category.DEPLOY,
        owner=Owner.AWS,
        provider="AppConfig",
        description="Deploys configuration data from the input artifact to an AppConfig "
        "application, environment and profile.",
        properties=(
            _prop("Application", "ID of the AppConfig application.", required=True, key=True),
            _prop("Environment", "ID of the target environment.", required=True, key=True),
            _prop(
                "ConfigurationProfile",
                "ID of the configuration profile to deploy.",
                required=True,
                key=True,
            ),
            _prop(
                "InputArtifactConfigurationPath",
                "Path of the configuration data inside the input artifact.",
                required=True,
            ),
            _prop("DeploymentStrategy", "Deployment strategy that paces the rollout."),
        ),
        input_artifacts=ONE,
        output_artifacts=NONE,
        default_timeout_minutes=ONE_HOUR,
        max_timeout_minutes=ONE_HOUR,
    ),
    ActionTypeSpec(
        category=Category.DEPLOY,
        owner=Owner.AWS,
        provider="ServiceCatalog",
        description="Publishes the template in the input artifact as a new version of a "
        "Service Catalog product.",
        # The template fields are documented as required, but AWS's second form
        # gives only ConfigurationFilePath and ProductId, so they are not enforced.
        properties=(
            _prop("ProductId", "ID of the product to update.", required=True, key=True),
            _prop("TemplateFilePath", "Path of the product template in the input artifact."),
            _prop("ProductVersionName", "Name of the new product version."),
            _prop("ProductType", "Product type, such as CLOUD_FORMATION_TEMPLATE."),
            _prop("ProductVersionDescription", "Description of the new product version."),
            _prop(
                "ConfigurationFilePath",
                "Configuration file that supplies the product version settings instead.",
            ),
        ),
        input_artifacts=ONE,
        output_artifacts=NONE,
        default_timeout_minutes=ONE_HOUR,
        max_timeout_minutes=ONE_HOUR,
    ),
    ActionTypeSpec(
        category=Category.DEPLOY,
        owner=Owner.AWS,
        provider="OpsWorks",
        description="Deploys an app to an OpsWorks stack, optionally limited to one layer.",
        properties=(
            _prop("Stack", "OpsWorks stack to deploy to.", required=True, key=True),
            _prop("Layer", "Layer of the stack to limit the deployment to."),
            _prop("App", "OpsWorks app to deploy.", required=True, key=True),
        ),
        input_artifacts=ONE,
        # The artifact table says 0 outputs; the action reference says 0 to 1.
        output_artifacts=_count(0, 1),
        default_timeout_minutes=ONE_HOUR,
        max_timeout_minutes=ONE_HOUR,
    ),
    ActionTypeSpec(
        category=Category.DEPLOY,
        owner=Owner.THIRD_PARTY,
        provider="AlexaSkillsKit",
        description="Deploys an Alexa skill package from the input artifact to the "
        "skill, using Login with Amazon credentials.",
        properties=(
            _prop("ClientId", "Login with Amazon client ID.", required=True),
            _prop(
                "ClientSecret",
                "Login with Amazon client secret; shown as ****.",
                required=True,
                secret=True,
            ),
            _prop(
                "RefreshToken",
                "Refresh token for the developer account; shown as ****.",
                required=True,
                secret=True,
            ),
            _prop("SkillId", "ID of the skill to update.", required=True, key=True),
        ),
        input_artifacts=_count(1, 2),
        output_artifacts=NONE,
        default_timeout_minutes=ONE_HOUR,
        max_timeout_minutes=ONE_HOUR,
    ),
)


# --------------------------------------------------------------------------
# Invoke
# --------------------------------------------------------------------------

_INVOKE_TYPES = (
    ActionTypeSpec(
        category=Category.INVOKE,
        owner=Owner.AWS,
        provider="Lambda",
        description="Calls a function with the job as its event; the function must report "
        "success or failure through the job API itself.",
        properties=(
            _prop("FunctionName", "Function to invoke.", required=True, key=True),
            _prop("UserParameters", "Free-form string handed to the function with the job."),
        ),
        input_artifacts=_count(0, 5),
        output_artifacts=_count(0, 5),
        default_timeout_minutes=LAMBDA_INVOKE_TIMEOUT,
        max_timeout_minutes=LAMBDA_INVOKE_TIMEOUT,
        # a function's side effects (and its callback) must not happen twice
        requeue_on_lost_worker=False,
    ),
    ActionTypeSpec(
        category=Category.INVOKE,
        owner=Owner.AWS,
        provider="StepFunctions",
        description="Starts a state machine execution; waits for standard workflows to end, "
        "succeeds at once for express workflows.",
        properties=(
            _prop("StateMachineArn", "ARN of the state machine.", required=True, key=True),
            _prop(
                "ExecutionNamePrefix",
                "Prefix joined to the action execution ID to name the state machine execution.",
            ),
            _prop("InputType", "Literal (default) or FilePath."),
            _prop(
                "Input",
                "Literal JSON input, or the input file's path in the input artifact when "
                "InputType is FilePath.",
            ),
        ),
        input_artifacts=_count(0, 1),
        output_artifacts=_count(0, 1),
        # From the action reference ("default of 7 days"); the quota page does not
        # list Step Functions separately.
        default_timeout_minutes=SEVEN_DAYS,
        max_timeout_minutes=SEVEN_DAYS,
    ),
    ActionTypeSpec(
        category=Category.INVOKE,
        owner=Owner.AWS,
        provider="CodePipeline",
        description="Starts another pipeline, passing it variables and source revision "
        "overrides (V2 pipelines).",
        properties=(
            _prop("PipelineName", "Pipeline to start.", required=True, key=True),
            _prop(
                "SourceRevisions",
                "JSON list of {actionName, revisionType, revisionValue} overrides for the "
                "started execution.",
            ),
            _prop(
                "Variables",
                "JSON list of {name, value} pipeline variables for the started execution.",
            ),
        ),
        input_artifacts=NONE,
        output_artifacts=NONE,
        default_timeout_minutes=ONE_HOUR,
        max_timeout_minutes=ONE_HOUR,
    ),
    ActionTypeSpec(
        category=Category.INVOKE,
        owner=Owner.AWS,
        provider="InspectorScan",
        description="Scans source code or a container image for vulnerabilities, outputs an "
        "SBOM and fails past the set thresholds.",
        properties=(
            _prop(
                "InspectorRunMode",
                "SourceCodeScan or ECRImageScan.",
                required=True,
            ),
            _prop("ECRRepositoryName", "Repository of the image to scan (ECRImageScan).", key=True),
            _prop("ImageTag", "Tag of the image to scan (ECRImageScan)."),
            _num(
                "CriticalThreshold",
                "Critical findings allowed before the action fails.",
            ),
            _num("HighThreshold", "High-severity findings allowed before the action fails."),
            _num(
                "MediumThreshold",
                "Medium-severity findings allowed before the action fails.",
            ),
            _num("LowThreshold", "Low-severity findings allowed before the action fails."),
        ),
        # Documented as 1 input, which an image scan does not need.
        input_artifacts=_count(0, 1),
        output_artifacts=ONE,
        default_timeout_minutes=ONE_HOUR,
        max_timeout_minutes=ONE_HOUR,
    ),
    # Snyk's reference documents only the type ID and one input / one output;
    # its configuration is set up on Snyk's side, so its keys are left open.
    ActionTypeSpec(
        category=Category.INVOKE,
        owner=Owner.THIRD_PARTY,
        provider="Snyk",
        description="Third-party scan of source code or container images for open source "
        "vulnerabilities, configured through Snyk.",
        properties=(),
        input_artifacts=ONE,
        output_artifacts=ONE,
        default_timeout_minutes=ONE_HOUR,
        max_timeout_minutes=ONE_HOUR,
        # unverified: configuration keys are not documented by AWS.
        open_configuration=True,
        # unverified: Snyk's sign-up page.
        third_party_configuration_url="https://snyk.io/",
    ),
)


# --------------------------------------------------------------------------
# Approval
# --------------------------------------------------------------------------

_APPROVAL_TYPES = (
    ActionTypeSpec(
        category=Category.APPROVAL,
        owner=Owner.AWS,
        provider="Manual",
        description="Pauses the pipeline until someone approves or rejects; can notify a "
        "topic and show a link and comments.",
        properties=(
            _prop("CustomData", "Comments shown to the approver and sent in the notification."),
            _prop(
                "ExternalEntityLink",
                "URL the approver should review, such as a test site.",
            ),
            _prop(
                "NotificationArn",
                "ARN of the topic notified when the approval is waiting.",
            ),
        ),
        input_artifacts=NONE,
        output_artifacts=NONE,
        default_timeout_minutes=SEVEN_DAYS,
        max_timeout_minutes=APPROVAL_MAX_TIMEOUT,
    ),
)


# --------------------------------------------------------------------------
# Compute
# --------------------------------------------------------------------------

_COMPUTE_TYPES = (
    # The shell commands themselves are ActionDeclaration.commands (1 to 50,
    # required by this type), not configuration keys; so are outputVariables
    # and environmentVariables.
    ActionTypeSpec(
        category=Category.COMPUTE,
        owner=Owner.AWS,
        provider="Commands",
        description="Runs the action's shell commands in a managed build container with the "
        "input artifacts; no build project needed (V2).",
        properties=(
            _prop(
                "EnvironmentType",
                "LINUX_CONTAINER (default) or WINDOWS_SERVER_2022_CONTAINER.",
            ),
            _prop(
                "ComputeType",
                "BUILD_GENERAL1_SMALL (default), BUILD_GENERAL1_MEDIUM or BUILD_GENERAL1_LARGE.",
            ),
            _prop("VpcId", "VPC the commands need to reach."),
            *_VPC_PROPERTIES,
        ),
        input_artifacts=_count(1, 10),
        output_artifacts=_count(0, 1),
        default_timeout_minutes=COMMANDS_TIMEOUT,
        max_timeout_minutes=COMMANDS_TIMEOUT,
        declaration_fields=("commands", "outputVariables", "environmentVariables"),
    ),
)


AWS_ACTION_TYPES: tuple[ActionTypeSpec, ...] = (
    *_SOURCE_TYPES,
    *_BUILD_TYPES,
    *_TEST_TYPES,
    *_DEPLOY_TYPES,
    *_INVOKE_TYPES,
    *_APPROVAL_TYPES,
    *_COMPUTE_TYPES,
)
