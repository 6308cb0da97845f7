"""Reports in the wire shapes of botocore's codebuild model (camelCase, epoch seconds).

These build the members of ``Report`` (BatchGetReports), ``TestCase``
(DescribeTestCases) and ``CodeCoverage`` (DescribeCodeCoverages), checked
member for member against the model by the tests. They stay dictionaries of
plain values so the API layer can serve them as they are.
"""

from __future__ import annotations

import uuid
from typing import Any

from stageline.reports.model import (
    CoverageReport,
    FileCoverage,
    ReportKind,
    TestCase,
    TestReport,
    TestStatus,
)

# "A test report can have a maximum of 500 test case results. If more than 500
# test cases are run, CodeBuild prioritizes tests with the status FAILED and
# truncates the test case results." (CodeBuild, Test report statuses)
MAX_TEST_CASES_PER_REPORT = 500
# "Reports expire 30 days after they are created." (CodeBuild, Test reports)
REPORT_RETENTION_MS = 30 * 24 * 3600 * 1000


def report_status(report: TestReport | CoverageReport) -> str:
    """``ReportStatusType`` of a finished report: FAILED when some test case did not succeed.

    Skipped and unknown cases do not fail a report, failed and errored ones do.
    """
    if isinstance(report, TestReport) and not report.succeeded:
        return "FAILED"
    return "SUCCEEDED"


def shape_test_summary(report: TestReport) -> dict[str, Any]:
    """``TestReportSummary``: every status is present in ``statusCounts``, zero or not."""
    return {
        "total": report.total,
        "statusCounts": {status.value: report.count(status) for status in TestStatus},
        "durationInNanoSeconds": report.duration_ns,
    }


def shape_coverage_summary(report: CoverageReport) -> dict[str, Any]:
    """``CodeCoverageReportSummary``; a percentage with nothing to measure is left out."""
    return _coverage_members(report)


def shape_report(
    report: TestReport | CoverageReport,
    *,
    arn: str,
    report_group_arn: str,
    name: str,
    created_ms: int,
    execution_id: str | None = None,
    expired_ms: int | None = None,
) -> dict[str, Any]:
    """``Report`` for BatchGetReports; ``expired`` defaults to CodeBuild's 30 days after creation."""
    shape: dict[str, Any] = {
        "arn": arn,
        "type": _kind(report).value,
        "name": name,
        "reportGroupArn": report_group_arn,
        "status": report_status(report),
        "created": created_ms / 1000,
        "expired": (expired_ms if expired_ms is not None else created_ms + REPORT_RETENTION_MS)
        / 1000,
    }
    if execution_id is not None:
        shape["executionId"] = execution_id
    if isinstance(report, TestReport):
        shape["truncated"] = report.truncated or report.total > MAX_TEST_CASES_PER_REPORT
        shape["testSummary"] = shape_test_summary(report)
    else:
        shape["truncated"] = False
        shape["codeCoverageSummary"] = shape_coverage_summary(report)
    return shape


def reported_cases(
    report: TestReport, limit: int = MAX_TEST_CASES_PER_REPORT
) -> tuple[TestCase, ...]:
    """The cases CodeBuild would keep: FAILED first, then ERROR, then the rest, in file order."""
    order = {TestStatus.FAILED: 0, TestStatus.ERROR: 1}
    ranked = sorted(report.cases, key=lambda case: order.get(case.status, 2))
    return tuple(ranked[:limit])


def shape_test_case(
    case: TestCase, *, report_arn: str, expired_ms: int | None = None
) -> dict[str, Any]:
    """``TestCase`` for DescribeTestCases; ``testRawDataPath`` is the file the case was read from."""
    shape: dict[str, Any] = {
        "reportArn": report_arn,
        "prefix": case.prefix,
        "name": case.name,
        "status": case.status.value,
        "durationInNanoSeconds": case.duration_ns,
    }
    optional = {
        "testRawDataPath": case.report_file,
        "message": case.message,
        "testSuiteName": case.suite,
        "expired": expired_ms / 1000 if expired_ms is not None else None,
    }
    shape.update({key: value for key, value in optional.items() if value is not None})
    return shape


def shape_code_coverage(
    file: FileCoverage, *, report_arn: str, expired_ms: int | None = None
) -> dict[str, Any]:
    """``CodeCoverage`` for DescribeCodeCoverages, with an id stable for the same report and file."""
    shape: dict[str, Any] = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{report_arn}#{file.path}")),
        "reportARN": report_arn,
        "filePath": file.path,
        **_coverage_members(file),
    }
    if expired_ms is not None:
        shape["expired"] = expired_ms / 1000
    return shape


def _coverage_members(figures: CoverageReport | FileCoverage) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "linesCovered": figures.lines_covered,
        "linesMissed": figures.lines_missed,
        "branchesCovered": figures.branches_covered,
        "branchesMissed": figures.branches_missed,
    }
    if figures.line_coverage_pct is not None:
        shape["lineCoveragePercentage"] = figures.line_coverage_pct
    if figures.branch_coverage_pct is not None:
        shape["branchCoveragePercentage"] = figures.branch_coverage_pct
    return shape


def _kind(report: TestReport | CoverageReport) -> ReportKind:
    return ReportKind.TEST if isinstance(report, TestReport) else ReportKind.CODE_COVERAGE
