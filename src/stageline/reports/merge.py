"""Merging the files of one report group into the single report CodeBuild makes of them.

A buildspec report group can match many files (``files: ['**/*.xml']``, one
JUnit file per test class with Surefire); CodeBuild shows one report per group
per build, so the files' figures are added up.
"""

from __future__ import annotations

from collections.abc import Sequence

from stageline.reports.model import (
    CoverageReport,
    FileCoverage,
    Limits,
    TestCase,
    TestReport,
    TestStatus,
)


def merge_test_reports(
    reports: Sequence[TestReport], *, max_cases: int = Limits().max_cases
) -> TestReport:
    """One report holding every case, counts and durations added up.

    At most ``max_cases`` cases are kept (in file order); counts still cover
    every case and ``truncated`` says some were dropped.
    """
    if not reports:
        raise ValueError("no test reports to merge")
    _same_format(reports)
    counts = dict.fromkeys(TestStatus, 0)
    cases: list[TestCase] = []
    truncated = False
    for report in reports:
        for status, count in report.counts.items():
            counts[status] += count
        room = max_cases - len(cases)
        cases.extend(report.cases[:room])
        truncated = truncated or report.truncated or len(report.cases) > room
    return TestReport(
        format=reports[0].format,
        cases=tuple(cases),
        counts=counts,
        duration_ns=sum(r.duration_ns for r in reports),
        truncated=truncated,
        sources=tuple(s for r in reports for s in r.sources),
    )


def merge_coverage_reports(reports: Sequence[CoverageReport]) -> CoverageReport:
    """One report holding every file; totals are recomputed from the files.

    The same file in two reports (unit and integration runs, say) cannot be
    unioned line by line from per-file figures, so the better-covered entry is
    kept: the merged figures never claim more coverage than one run measured.
    """
    if not reports:
        raise ValueError("no coverage reports to merge")
    _same_format(reports)
    files: dict[str, FileCoverage] = {}
    for report in reports:
        for file in report.files:
            seen = files.get(file.path)
            if seen is None or _better(file, seen):
                files[file.path] = file
    return CoverageReport(
        format=reports[0].format,
        files=tuple(files.values()),
        sources=tuple(s for r in reports for s in r.sources),
    )


def merge(
    reports: Sequence[TestReport | CoverageReport], *, max_cases: int = Limits().max_cases
) -> TestReport | CoverageReport:
    """Merge reports of one kind (all test, or all coverage)."""
    tests = [r for r in reports if isinstance(r, TestReport)]
    coverage = [r for r in reports if isinstance(r, CoverageReport)]
    if tests and coverage:
        raise ValueError("cannot merge test reports with coverage reports")
    if tests:
        return merge_test_reports(tests, max_cases=max_cases)
    return merge_coverage_reports(coverage)


def _same_format(reports: Sequence[TestReport] | Sequence[CoverageReport]) -> None:
    formats = {r.format for r in reports}
    if len(formats) > 1:
        names = ", ".join(sorted(f.value for f in formats))
        raise ValueError(f"a report group has one file format; these reports mix {names}")


def _better(candidate: FileCoverage, current: FileCoverage) -> bool:
    return (candidate.lines_covered, candidate.branches_covered) > (
        current.lines_covered,
        current.branches_covered,
    )
