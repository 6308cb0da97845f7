"""Test and coverage reports: CodeBuild's report file formats read into one typed model.

``parse(path_or_bytes, file_format)`` reads one file as a buildspec report
group's ``file-format`` declares it and returns a TestReport or a
CoverageReport; ``parse_group`` reads and merges a group's files;
``summary_line`` and the ``shape_*`` functions present a report to people
and to the CodeBuild API. Every file is treated as hostile (size, element and
case caps; XML entities refused); what cannot be read raises a ReportError
naming the file and the problem.
"""

from stageline.reports.errors import (
    MalformedReport,
    ReportError,
    ReportTooLarge,
    UnsafeReport,
    UnsupportedFileFormat,
    WrongFormat,
)
from stageline.reports.merge import merge, merge_coverage_reports, merge_test_reports
from stageline.reports.model import (
    CoverageReport,
    FileCoverage,
    Limits,
    ReportFileFormat,
    ReportKind,
    TestCase,
    TestReport,
    TestStatus,
)
from stageline.reports.parsing import (
    GroupResult,
    detect_format,
    parse,
    parse_coverage_report,
    parse_group,
    parse_test_report,
)
from stageline.reports.shapes import (
    MAX_TEST_CASES_PER_REPORT,
    report_status,
    reported_cases,
    shape_code_coverage,
    shape_coverage_summary,
    shape_report,
    shape_test_case,
    shape_test_summary,
)
from stageline.reports.summary import format_duration, summary_line

__all__ = [
    "MAX_TEST_CASES_PER_REPORT",
    "CoverageReport",
    "FileCoverage",
    "GroupResult",
    "Limits",
    "MalformedReport",
    "ReportError",
    "ReportFileFormat",
    "ReportKind",
    "ReportTooLarge",
    "TestCase",
    "TestReport",
    "TestStatus",
    "UnsafeReport",
    "UnsupportedFileFormat",
    "WrongFormat",
    "detect_format",
    "format_duration",
    "merge",
    "merge_coverage_reports",
    "merge_test_reports",
    "parse",
    "parse_coverage_report",
    "parse_group",
    "parse_test_report",
    "report_status",
    "reported_cases",
    "shape_code_coverage",
    "shape_coverage_summary",
    "shape_report",
    "shape_test_case",
    "shape_test_summary",
    "summary_line",
]
