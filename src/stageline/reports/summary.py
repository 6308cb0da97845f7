"""One line a person reads in the action's summary, for a test or a coverage report.

CodePipeline shows an action's ``summary`` in the console next to its status,
so the line says what went wrong without a click: the counts, the time, and
the first few failing tests with the first line of their message.
"""

from __future__ import annotations

from stageline.reports.model import CoverageReport, TestCase, TestReport, TestStatus

SHOWN_FAILURES = 3
_NAME_CHARS = 120
_MESSAGE_CHARS = 100


def summary_line(report: TestReport | CoverageReport) -> str:
    """E.g. "42 tests: 40 passed, 1 failed, 1 skipped in 3.2 s; failing: test_x (AssertionError: ...)"."""
    if isinstance(report, TestReport):
        return _tests_line(report)
    return _coverage_line(report)


def _tests_line(report: TestReport) -> str:
    if report.total == 0:
        return "no tests"
    parts = [f"{report.passed} passed"]
    if report.failed:
        parts.append(f"{report.failed} failed")
    if report.errors:
        parts.append(_plural(report.errors, "error"))
    if report.skipped:
        parts.append(f"{report.skipped} skipped")
    if report.count(TestStatus.UNKNOWN):
        parts.append(f"{report.count(TestStatus.UNKNOWN)} unknown")
    line = f"{_plural(report.total, 'test')}: {', '.join(parts)} in {format_duration(report.duration_ns)}"
    failing = report.failing_cases
    if failing:
        shown = [_describe(case) for case in failing[:SHOWN_FAILURES]]
        more = report.failed + report.errors - len(shown)
        line += "; failing: " + ", ".join(shown) + (f", and {more} more" if more > 0 else "")
    return line


def _describe(case: TestCase) -> str:
    name = _cut(case.name, _NAME_CHARS)
    first = next((text.strip() for text in (case.message or "").splitlines() if text.strip()), "")
    return f"{name} ({_cut(first, _MESSAGE_CHARS)})" if first else name


def _coverage_line(report: CoverageReport) -> str:
    lines_total = report.lines_covered + report.lines_missed
    if report.line_coverage_pct is None:
        line = "no coverable lines"
    else:
        line = (
            f"line coverage {_pct(report.line_coverage_pct)} "
            f"({report.lines_covered} of {_plural(lines_total, 'line')})"
        )
    if report.branch_coverage_pct is not None:
        branches_total = report.branches_covered + report.branches_missed
        line += (
            f", branch coverage {_pct(report.branch_coverage_pct)} "
            f"({report.branches_covered} of {_plural(branches_total, 'branch', 'branches')})"
        )
    return f"{line} in {_plural(len(report.files), 'file')}"


def format_duration(ns: int) -> str:
    """A duration for people: "250 ms", "3.2 s", "2 min 5 s", "1 h 4 min"."""
    seconds = ns / 1_000_000_000
    if seconds < 0.1:
        return f"{ns / 1_000_000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


def _pct(value: float) -> str:
    return f"{value:g}%"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
