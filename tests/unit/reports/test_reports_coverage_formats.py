"""Each coverage format read from a hand-written sample: totals, percentages, per-file figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from stageline.reports import CoverageReport, FileCoverage, parse, parse_coverage_report

SAMPLES = Path(__file__).parent / "samples"

# path, lines covered, lines missed, branches covered, branches missed
FileRow = tuple[str, int, int, int, int]

TABLE: list[
    tuple[str, str, tuple[int, int, int, int], tuple[float | None, float | None], list[FileRow]]
] = [
    (
        # an inner class repeats line 5 of cart.py: counted once, covered by either
        "cobertura.xml",
        "COBERTURAXML",
        (7, 2, 3, 3),
        (77.78, 50.0),
        [("shop/cart.py", 4, 2, 1, 3), ("shop/pay.py", 3, 0, 2, 0)],
    ),
    (
        # Invoice.java has no counters: figures come from its <line> elements
        "jacoco.xml",
        "JACOCOXML",
        (8, 3, 5, 3),
        (72.73, 62.5),
        [("com/shop/Cart.java", 6, 2, 3, 1), ("com/shop/billing/Invoice.java", 2, 1, 2, 2)],
    ),
    (
        # helpers.js has no <metrics>: figures come from its stmt and cond lines
        "clover.xml",
        "CLOVERXML",
        (9, 3, 4, 2),
        (75.0, 66.67),
        [("/src/Shop/Cart.php", 6, 2, 3, 1), ("src/helpers.js", 3, 1, 1, 1)],
    ),
    (
        # cart.js appears under two test names: lines and branches merged; util.js only has LF/LH
        "lcov.info",
        "LCOVINFO",
        (9, 5, 3, 1),
        (64.29, 75.0),
        [("src/cart.js", 4, 0, 3, 1), ("src/util.js", 5, 5, 0, 0)],
    ),
    (
        # two commands in one resultset, merged line by line; null and "ignored" are not lines
        "resultset.json",
        "SIMPLECOV",
        (6, 1, 2, 0),
        (85.71, 100.0),
        [("/app/lib/cart.rb", 4, 1, 2, 0), ("/app/lib/price.rb", 2, 0, 0, 0)],
    ),
]


@pytest.mark.parametrize(
    ("sample", "fmt", "totals", "percentages", "files"), TABLE, ids=[t[0] for t in TABLE]
)
def test_coverage_figures(
    sample: str,
    fmt: str,
    totals: tuple[int, int, int, int],
    percentages: tuple[float | None, float | None],
    files: list[FileRow],
) -> None:
    report = parse(SAMPLES / sample, fmt)
    assert isinstance(report, CoverageReport)
    assert (
        report.lines_covered,
        report.lines_missed,
        report.branches_covered,
        report.branches_missed,
    ) == totals
    assert (report.line_coverage_pct, report.branch_coverage_pct) == percentages
    assert [
        (f.path, f.lines_covered, f.lines_missed, f.branches_covered, f.branches_missed)
        for f in report.files
    ] == files


def test_per_file_percentages() -> None:
    report = parse_coverage_report(SAMPLES / "cobertura.xml", "COBERTURAXML")
    cart, pay = report.files
    assert (cart.line_coverage_pct, cart.branch_coverage_pct) == (66.67, 25.0)
    assert (pay.line_coverage_pct, pay.branch_coverage_pct) == (100.0, 100.0)


def test_a_file_without_branches_has_no_branch_percentage() -> None:
    report = parse_coverage_report(SAMPLES / "lcov.info", "LCOV")
    util = report.files[1]
    assert util.branch_coverage_pct is None
    assert FileCoverage(path="empty.py").line_coverage_pct is None


def test_simplecov_json_formatter_layout() -> None:
    data = b"""{"meta": {"simplecov_version": "0.22.0"},
      "coverage": {"/app/a.rb": {"lines": [1, 0, null],
        "branches": [{"type": "then", "start_line": 1, "coverage": 1},
                     {"type": "else", "start_line": 1, "coverage": 0},
                     {"type": "else", "start_line": 2, "coverage": "ignored"}]}},
      "groups": {}}"""
    report = parse_coverage_report(data, "SIMPLECOV", name="coverage.json")
    assert (report.lines_covered, report.lines_missed) == (1, 1)
    assert (report.branches_covered, report.branches_missed) == (1, 1)
    assert (report.line_coverage_pct, report.branch_coverage_pct) == (50.0, 50.0)


def test_simplecov_old_resultset_with_bare_line_arrays() -> None:
    data = b'{"RSpec": {"coverage": {"/app/a.rb": [1, null, 0, 3]}, "timestamp": 1}}'
    report = parse_coverage_report(data, "SIMPLECOV")
    assert (report.lines_covered, report.lines_missed, report.branch_coverage_pct) == (2, 1, None)


def test_an_empty_report_has_no_percentages() -> None:
    report = parse_coverage_report(
        b'<coverage line-rate="0"><packages/></coverage>', "COBERTURAXML"
    )
    assert report.files == ()
    assert (report.line_coverage_pct, report.branch_coverage_pct) == (None, None)
