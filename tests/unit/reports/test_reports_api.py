"""Format names and detection, merging a report group, the CodeBuild wire shapes, the summary line."""

from __future__ import annotations

from pathlib import Path

import pytest

from stageline.api.shapes import service_model, violations_of
from stageline.reports import (
    MAX_TEST_CASES_PER_REPORT,
    CoverageReport,
    FileCoverage,
    ReportFileFormat,
    ReportKind,
    TestCase,
    TestReport,
    TestStatus,
    UnsupportedFileFormat,
    detect_format,
    merge,
    merge_coverage_reports,
    merge_test_reports,
    parse,
    parse_coverage_report,
    parse_group,
    parse_test_report,
    report_status,
    reported_cases,
    shape_code_coverage,
    shape_coverage_summary,
    shape_report,
    shape_test_case,
    shape_test_summary,
    summary_line,
)
from stageline.reports.summary import format_duration

SAMPLES = Path(__file__).parent / "samples"
ARN = (
    "arn:aws:codebuild:us-east-1:123456789012:report/shop-unit:5d3c6f0e-1111-4222-8333-944445555666"
)
GROUP_ARN = "arn:aws:codebuild:us-east-1:123456789012:report-group/shop-unit"

SAMPLE_FORMATS = [
    ("junit.xml", ReportFileFormat.JUNITXML),
    ("cucumber.json", ReportFileFormat.CUCUMBERJSON),
    ("nunit2.xml", ReportFileFormat.NUNITXML),
    ("nunit3.xml", ReportFileFormat.NUNIT3XML),
    ("testng.xml", ReportFileFormat.TESTNGXML),
    ("results.trx", ReportFileFormat.VISUALSTUDIOTRX),
    ("cobertura.xml", ReportFileFormat.COBERTURAXML),
    ("jacoco.xml", ReportFileFormat.JACOCOXML),
    ("clover.xml", ReportFileFormat.CLOVERXML),
    ("lcov.info", ReportFileFormat.LCOVINFO),
    ("resultset.json", ReportFileFormat.SIMPLECOV),
]


def test_the_file_formats_are_codebuilds() -> None:
    assert [f.value for f in ReportFileFormat if f.kind == ReportKind.TEST] == [
        "JUNITXML",
        "CUCUMBERJSON",
        "NUNITXML",
        "NUNIT3XML",
        "TESTNGXML",
        "VISUALSTUDIOTRX",
    ]
    assert [f.value for f in ReportFileFormat if f.kind == ReportKind.CODE_COVERAGE] == [
        "COBERTURAXML",
        "JACOCOXML",
        "CLOVERXML",
        "SIMPLECOV",
        "LCOVINFO",
    ]
    # ReportKind is botocore's ReportType
    assert [k.value for k in ReportKind] == service_model("codebuild").shape_for("ReportType").enum


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("JUNITXML", ReportFileFormat.JUNITXML),
        ("JunitXml", ReportFileFormat.JUNITXML),  # the buildspec value is case-insensitive
        ("VisualStudioTrx", ReportFileFormat.VISUALSTUDIOTRX),
        ("nunit3xml", ReportFileFormat.NUNIT3XML),
        ("LCOV", ReportFileFormat.LCOVINFO),
        ("lcov-info", ReportFileFormat.LCOVINFO),
    ],
)
def test_format_names_are_matched_ignoring_case(name: str, expected: ReportFileFormat) -> None:
    assert ReportFileFormat.named(name) is expected


def test_parse_defaults_to_junit_like_the_buildspec() -> None:
    assert parse(SAMPLES / "junit.xml").format == ReportFileFormat.JUNITXML


def test_typed_entry_points_refuse_the_other_kind() -> None:
    with pytest.raises(UnsupportedFileFormat, match="JACOCOXML is a CODE_COVERAGE report format"):
        parse_test_report(SAMPLES / "jacoco.xml", "JACOCOXML")
    with pytest.raises(UnsupportedFileFormat, match="TESTNGXML is a TEST report format"):
        parse_coverage_report(SAMPLES / "testng.xml", "TESTNGXML")


@pytest.mark.parametrize(("sample", "fmt"), SAMPLE_FORMATS, ids=[s for s, _ in SAMPLE_FORMATS])
def test_detect_format(sample: str, fmt: ReportFileFormat) -> None:
    assert detect_format((SAMPLES / sample).read_bytes()) is fmt


@pytest.mark.parametrize(
    "data", [b"", b"hello", b"<html><body/></html>", b'{"a": 1}', b"[1]", b"<coverage/>"]
)
def test_detect_format_gives_none_for_other_files(data: bytes) -> None:
    assert detect_format(data) is None


def _case(
    name: str, status: TestStatus, duration_ns: int = 0, message: str | None = None
) -> TestCase:
    return TestCase(name=name, prefix="p", status=status, duration_ns=duration_ns, message=message)


def _report(*cases: TestCase) -> TestReport:
    counts = dict.fromkeys(TestStatus, 0)
    for case in cases:
        counts[case.status] += 1
    return TestReport(
        format=ReportFileFormat.JUNITXML,
        cases=cases,
        counts=counts,
        duration_ns=sum(c.duration_ns for c in cases),
        sources=("r.xml",),
    )


def test_merging_a_group_adds_counts_and_durations() -> None:
    junit = parse_test_report(SAMPLES / "junit.xml", "JUNITXML")
    extra = _report(_case("a", TestStatus.SUCCEEDED, 250), _case("b", TestStatus.FAILED, 750))
    merged = merge_test_reports([junit, extra])
    assert (merged.total, merged.passed, merged.failed, merged.errors, merged.skipped) == (
        8,
        4,
        2,
        1,
        1,
    )
    assert merged.duration_ns == 3_750_001_000
    assert len(merged.cases) == 8 and merged.truncated is False
    assert merged.sources == (str(SAMPLES / "junit.xml"), "r.xml")
    capped = merge_test_reports([junit, extra], max_cases=7)
    assert (len(capped.cases), capped.total, capped.truncated) == (7, 8, True)


def test_merging_refuses_mixed_formats_and_kinds() -> None:
    junit = parse(SAMPLES / "junit.xml", "JUNITXML")
    testng = parse(SAMPLES / "testng.xml", "TESTNGXML")
    lcov = parse(SAMPLES / "lcov.info", "LCOVINFO")
    with pytest.raises(ValueError, match="these reports mix JUNITXML, TESTNGXML"):
        merge([junit, testng])
    with pytest.raises(ValueError, match="cannot merge test reports with coverage reports"):
        merge([junit, lcov])


def test_merging_coverage_keeps_the_better_entry_for_a_repeated_file() -> None:
    first = CoverageReport(
        format=ReportFileFormat.LCOVINFO,
        files=(
            FileCoverage(path="a.js", lines_covered=2, lines_missed=8),
            FileCoverage(path="b.js", lines_covered=1),
        ),
    )
    second = CoverageReport(
        format=ReportFileFormat.LCOVINFO,
        files=(
            FileCoverage(path="a.js", lines_covered=6, lines_missed=4),
            FileCoverage(path="c.js", lines_missed=3),
        ),
    )
    merged = merge_coverage_reports([first, second])
    assert [(f.path, f.lines_covered, f.lines_missed) for f in merged.files] == [
        ("a.js", 6, 4),
        ("b.js", 1, 0),
        ("c.js", 0, 3),
    ]
    assert (merged.lines_covered, merged.lines_missed, merged.line_coverage_pct) == (7, 7, 50.0)


def test_parse_group_merges_what_it_can_and_reports_the_rest(tmp_path: Path) -> None:
    broken = tmp_path / "TEST-broken.xml"
    broken.write_bytes(b"<testsuites><testsuite>")
    result = parse_group([SAMPLES / "junit.xml", broken, SAMPLES / "junit.xml"], "junitxml")
    assert isinstance(result.report, TestReport)
    assert (result.report.total, result.report.failed) == (12, 2)
    (error,) = result.errors
    assert str(error).startswith(f"{broken}: is not well-formed XML")
    assert parse_group([broken], "JUNITXML").report is None


def test_report_status_is_failed_only_for_failed_or_errored_cases() -> None:
    assert (
        report_status(_report(_case("a", TestStatus.SUCCEEDED), _case("b", TestStatus.SKIPPED)))
        == "SUCCEEDED"
    )
    assert report_status(_report(_case("a", TestStatus.UNKNOWN))) == "SUCCEEDED"
    assert report_status(_report(_case("a", TestStatus.ERROR))) == "FAILED"
    assert report_status(parse(SAMPLES / "lcov.info", "LCOV")) == "SUCCEEDED"


def _violations(shape_name: str, value: object) -> list[str]:
    shape = service_model("codebuild").shape_for(shape_name)
    return [v.render() for v in violations_of(shape, value)]


def test_test_report_shapes_match_the_codebuild_model() -> None:
    report = parse_test_report(SAMPLES / "junit.xml", "JUNITXML")
    summary = shape_test_summary(report)
    assert summary == {
        "total": 6,
        "statusCounts": {"SUCCEEDED": 3, "FAILED": 1, "ERROR": 1, "SKIPPED": 1, "UNKNOWN": 0},
        "durationInNanoSeconds": 3_750_000_000,
    }
    shape = shape_report(
        report,
        arn=ARN,
        report_group_arn=GROUP_ARN,
        name="shop-unit",
        created_ms=1_700_000_000_000,
        execution_id="arn:build",
    )
    assert _violations("Report", shape) == []
    assert shape["type"] == "TEST" and shape["status"] == "FAILED" and shape["truncated"] is False
    assert shape["testSummary"] == summary
    # CodeBuild's reports expire 30 days after they are created
    assert shape["expired"] - shape["created"] == 30 * 24 * 3600
    case = shape_test_case(report.cases[1], report_arn=ARN, expired_ms=1_702_592_000_000)
    assert _violations("TestCase", case) == []
    assert case["status"] == "FAILED" and case["prefix"] == "tests.test_cart"
    assert case["testRawDataPath"] == str(SAMPLES / "junit.xml")
    assert case["testSuiteName"] == "shop.cart"


def test_coverage_report_shapes_match_the_codebuild_model() -> None:
    report = parse_coverage_report(SAMPLES / "jacoco.xml", "JACOCOXML")
    summary = shape_coverage_summary(report)
    assert summary == {
        "lineCoveragePercentage": 72.73,
        "linesCovered": 8,
        "linesMissed": 3,
        "branchCoveragePercentage": 62.5,
        "branchesCovered": 5,
        "branchesMissed": 3,
    }
    assert _violations("CodeCoverageReportSummary", summary) == []
    shape = shape_report(
        report, arn=ARN, report_group_arn=GROUP_ARN, name="cov", created_ms=1_700_000_000_000
    )
    assert _violations("Report", shape) == []
    assert (shape["type"], shape["status"], shape["codeCoverageSummary"]) == (
        "CODE_COVERAGE",
        "SUCCEEDED",
        summary,
    )
    files = [shape_code_coverage(f, report_arn=ARN) for f in report.files]
    assert all(_violations("CodeCoverage", f) == [] for f in files)
    assert files[1]["filePath"] == "com/shop/billing/Invoice.java"
    assert files[1]["lineCoveragePercentage"] == 66.67
    assert files[0]["id"] != files[1]["id"]
    assert shape_code_coverage(report.files[0], report_arn=ARN)["id"] == files[0]["id"]


def test_percentages_are_left_out_when_there_is_nothing_to_measure() -> None:
    summary = shape_coverage_summary(CoverageReport(format=ReportFileFormat.LCOVINFO, files=()))
    assert summary == {
        "linesCovered": 0,
        "linesMissed": 0,
        "branchesCovered": 0,
        "branchesMissed": 0,
    }


def test_codebuild_keeps_500_cases_failed_first() -> None:
    passing = [_case(f"ok{i}", TestStatus.SUCCEEDED) for i in range(600)]
    report = _report(*passing, _case("bad", TestStatus.FAILED), _case("err", TestStatus.ERROR))
    kept = reported_cases(report)
    assert len(kept) == MAX_TEST_CASES_PER_REPORT == 500
    assert [c.name for c in kept[:3]] == ["bad", "err", "ok0"]
    shape = shape_report(report, arn=ARN, report_group_arn=GROUP_ARN, name="n", created_ms=0)
    assert shape["truncated"] is True


SUMMARIES = [
    (
        "junit.xml",
        "JUNITXML",
        "6 tests: 3 passed, 1 failed, 1 error, 1 skipped in 3.8 s; failing: "
        "test_total (AssertionError: assert 41 == 42), test_refund (payment gateway unreachable)",
    ),
    (
        "results.trx",
        "VISUALSTUDIOTRX",
        "6 tests: 2 passed, 2 failed, 1 error, 1 skipped in 1 min 2 s; failing: Totals (Assert.Equal() Failure), "
        "Rounds (Data Row 1) (System.DivideByZeroException: Attempted to divide by zero.), Shop.Tests.Slow.Waits",
    ),
    (
        "cucumber.json",
        "CUCUMBERJSON",
        "6 tests: 1 passed, 2 failed, 1 skipped, 2 unknown in 13 ms; failing: Pay by voucher "
        "(expected 0 but was 5), Search while the index is down (Error: search index unavailable)",
    ),
    (
        "cobertura.xml",
        "COBERTURAXML",
        "line coverage 77.78% (7 of 9 lines), branch coverage 50% (3 of 6 branches) in 2 files",
    ),
    (
        "lcov.info",
        "LCOVINFO",
        "line coverage 64.29% (9 of 14 lines), branch coverage 75% (3 of 4 branches) in 2 files",
    ),
]


@pytest.mark.parametrize(("sample", "fmt", "line"), SUMMARIES, ids=[s[0] for s in SUMMARIES])
def test_summary_line(sample: str, fmt: str, line: str) -> None:
    assert summary_line(parse(SAMPLES / sample, fmt)) == line


def test_summary_line_lists_three_failures_then_a_count() -> None:
    failures = [
        _case(f"test_{i}", TestStatus.FAILED, 10**9, f"AssertionError: {i}\ntraceback")
        for i in range(5)
    ]
    report = _report(_case("test_ok", TestStatus.SUCCEEDED, 10**9), *failures)
    assert summary_line(report) == (
        "6 tests: 1 passed, 5 failed in 6.0 s; failing: test_0 (AssertionError: 0), "
        "test_1 (AssertionError: 1), test_2 (AssertionError: 2), and 2 more"
    )
    assert (
        summary_line(_report(_case("only", TestStatus.SUCCEEDED, 42_000_000)))
        == "1 test: 1 passed in 42 ms"
    )
    assert summary_line(_report()) == "no tests"


def test_summary_line_cuts_long_messages() -> None:
    report = _report(_case("t", TestStatus.FAILED, 0, "x" * 500))
    assert summary_line(report) == f"1 test: 0 passed, 1 failed in 0 ms; failing: t ({'x' * 99}…)"


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0 ms"),
        (99_000_000, "99 ms"),
        (3_240_000_000, "3.2 s"),
        (125 * 10**9, "2 min 5 s"),
        (3840 * 10**9, "1 h 4 min"),
    ],
)
def test_format_duration(ns: int, text: str) -> None:
    assert format_duration(ns) == text
