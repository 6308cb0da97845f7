"""CodeBuild operations: build projects, builds and their reports, AWS-exact.

Shaped by botocore's ``codebuild`` model, so ``boto3.client("codebuild")`` and
``aws codebuild`` work unchanged (botocore speaks Smithy RPC v2 CBOR to
CodeBuild; older clients speak JSON 1.1 with ``X-Amz-Target:
CodeBuild_20161006.*``; both reach these handlers).
"""

from __future__ import annotations

from stageline.api.protocol import ServiceEndpoint
from stageline.codebuild.runner import BuildRunner
from stageline.codebuild.service import BuildService

TARGET_PREFIX = "CodeBuild_20161006"


def build_endpoint(builds: BuildService, runner: BuildRunner) -> ServiceEndpoint:
    endpoint = ServiceEndpoint(service_name="codebuild", target_prefix=TARGET_PREFIX)
    endpoint.handlers.update(
        {
            "CreateProject": builds.create_project,
            "UpdateProject": builds.update_project,
            "DeleteProject": builds.delete_project,
            "BatchGetProjects": builds.batch_get_projects,
            "ListProjects": builds.list_projects,
            "StartBuild": runner.start_build,
            "RetryBuild": runner.retry_build,
            "StopBuild": builds.stop_build,
            "BatchGetBuilds": builds.batch_get_builds,
            "ListBuilds": builds.list_builds,
            "ListBuildsForProject": builds.list_builds_for_project,
            "BatchGetReports": builds.batch_get_reports,
            "DescribeTestCases": builds.describe_test_cases,
            "DescribeCodeCoverages": builds.describe_code_coverages,
            "ListReports": builds.list_reports,
            "ListReportsForReportGroup": builds.list_reports_for_report_group,
            "ListReportGroups": builds.list_report_groups,
            "BatchGetReportGroups": builds.batch_get_report_groups,
        }
    )
    return endpoint
