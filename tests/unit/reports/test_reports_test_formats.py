"""Each test report format read from a hand-written sample: counts, durations, cases, messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from stageline.reports import ReportFileFormat, TestReport, TestStatus, parse, parse_test_report

SAMPLES = Path(__file__).parent / "samples"
S, F, E, K, U = (
    TestStatus.SUCCEEDED,
    TestStatus.FAILED,
    TestStatus.ERROR,
    TestStatus.SKIPPED,
    TestStatus.UNKNOWN,
)

# sample, file-format, {status: count}, duration in ns
COUNTS = [
    ("junit.xml", "JUNITXML", {S: 3, F: 1, E: 1, K: 1}, 3_750_000_000),
    ("cucumber.json", "CUCUMBERJSON", {S: 1, F: 2, K: 1, U: 2}, 12_500_300),
    ("nunit2.xml", "NUNITXML", {S: 1, F: 1, E: 2, K: 1}, 600_000_000),
    ("nunit3.xml", "NUNIT3XML", {S: 2, F: 1, E: 1, K: 1, U: 1}, 1_000_000_000),
    ("testng.xml", "TESTNGXML", {S: 2, F: 1, K: 1}, 1_500_000_000),
    ("results.trx", "VISUALSTUDIOTRX", {S: 2, F: 2, E: 1, K: 1}, 62_500_000_000),
]


@pytest.mark.parametrize(
    ("sample", "fmt", "counts", "duration"), COUNTS, ids=[c[0] for c in COUNTS]
)
def test_counts_and_duration(
    sample: str, fmt: str, counts: dict[TestStatus, int], duration: int
) -> None:
    report = parse(SAMPLES / sample, fmt)
    assert isinstance(report, TestReport)
    assert report.format == ReportFileFormat(fmt)
    assert report.counts == {status: counts.get(status, 0) for status in TestStatus}
    assert report.total == sum(counts.values()) == len(report.cases)
    assert report.duration_ns == duration
    assert report.truncated is False
    assert report.sources == (str(SAMPLES / sample),)
    assert all(case.report_file == str(SAMPLES / sample) for case in report.cases)


# sample, file-format, case index, (prefix, name, status, duration ns, message start or None)
CASES = [
    ("junit.xml", "JUNITXML", 0, ("tests.test_cart", "test_add", S, 500_000_000, None)),
    (
        "junit.xml",
        "JUNITXML",
        1,
        ("tests.test_cart", "test_total", F, 1_250_000_000, "AssertionError: assert 41 == 42\ndef"),
    ),
    (
        "junit.xml",
        "JUNITXML",
        2,
        ("tests.test_cart", "test_remove", K, 250_000_000, "not implemented"),
    ),
    (
        "junit.xml",
        "JUNITXML",
        4,
        (
            "tests.test_checkout",
            "test_refund",
            E,
            750_000_000,
            "payment gateway unreachable\nTrace",
        ),
    ),
    # no classname: the enclosing suite is the prefix; no time: 0
    ("junit.xml", "JUNITXML", 5, ("shop.checkout", "test_receipt", S, 0, None)),
    # the background's step counts towards the scenario after it
    ("cucumber.json", "CUCUMBERJSON", 0, ("Checkout", "Pay by card", S, 6_000_000, None)),
    (
        "cucumber.json",
        "CUCUMBERJSON",
        1,
        ("Checkout", "Pay by voucher", F, 6_000_000, "expected 0 but was 5\n    at features"),
    ),
    (
        "cucumber.json",
        "CUCUMBERJSON",
        2,
        ("Search", "Find by name", U, 500_000, "undefined step: Then"),
    ),
    ("cucumber.json", "CUCUMBERJSON", 3, ("Search", "Find by tag", K, 100, None)),
    (
        "cucumber.json",
        "CUCUMBERJSON",
        4,
        ("Search", "Find nothing", U, 0, "pending step: When I search"),
    ),
    (
        "cucumber.json",
        "CUCUMBERJSON",
        5,
        ("Search", "Search while the index is down", F, 200, "Error: search index unavailable"),
    ),
    (
        "nunit2.xml",
        "NUNITXML",
        1,
        (
            "Shop.Tests.CartTests",
            "Shop.Tests.CartTests.Totals",
            F,
            200_000_000,
            "Expected: 42\n  But",
        ),
    ),
    (
        "nunit2.xml",
        "NUNITXML",
        2,
        ("Shop.Tests.CartTests", "Shop.Tests.CartTests.Removes", K, 0, "not ready"),
    ),
    (
        "nunit2.xml",
        "NUNITXML",
        3,
        ("Shop.Tests.CartTests", "Shop.Tests.CartTests.Throws", E, 300_000_000, "System.NullRef"),
    ),
    # CodeBuild reports NUnit's NotRunnable as ERROR; dots inside the parameters stay in the name
    (
        "nunit2.xml",
        "NUNITXML",
        4,
        ("Shop.Tests.CartTests", 'Shop.Tests.CartTests.NeedsArgs(1, "a.b")', E, 0, "No arguments"),
    ),
    (
        "nunit3.xml",
        "NUNIT3XML",
        2,
        ("Shop.Tests.CartTests", "Shop.Tests.CartTests.Throws", E, 500_000_000, "System.Invalid"),
    ),
    (
        "nunit3.xml",
        "NUNIT3XML",
        3,
        ("Shop.Tests.CartTests", "Shop.Tests.CartTests.Later", K, 0, "later"),
    ),
    (
        "nunit3.xml",
        "NUNIT3XML",
        5,
        ("Shop.Tests.MathTests", "Shop.Tests.MathTests.Adds(2,2)", U, 62_500_000, None),
    ),
    (
        "testng.xml",
        "TESTNGXML",
        1,
        ("com.shop.CartTest", "totals", F, 500_000_000, "expected [42] but found [41]\njava.lang"),
    ),
    ("testng.xml", "TESTNGXML", 3, ("com.shop.PriceTest", "rounds", S, 750_000_000, None)),
    (
        "results.trx",
        "VISUALSTUDIOTRX",
        1,
        (
            "Shop.Tests.CartTests",
            "Totals",
            F,
            1_500_000_000,
            "Assert.Equal() Failure\nExpected: 42",
        ),
    ),
    (
        "results.trx",
        "VISUALSTUDIOTRX",
        2,
        ("Shop.Tests.CartTests", "Removes", K, 0, "Skipped: not ready"),
    ),
    # a data-driven test's rows are the cases, not their parent result
    (
        "results.trx",
        "VISUALSTUDIOTRX",
        3,
        ("Shop.Tests.PriceTests", "Rounds (Data Row 0)", S, 250_000_000, None),
    ),
    (
        "results.trx",
        "VISUALSTUDIOTRX",
        4,
        ("Shop.Tests.PriceTests", "Rounds (Data Row 1)", E, 500_000_000, "System.DivideByZero"),
    ),
    # no test definition: the class comes from the qualified name; a timeout is a failure
    (
        "results.trx",
        "VISUALSTUDIOTRX",
        5,
        ("Shop.Tests.Slow", "Shop.Tests.Slow.Waits", F, 60_000_000_000, None),
    ),
]


@pytest.mark.parametrize(
    ("sample", "fmt", "index", "expected"), CASES, ids=[f"{c[0]}[{c[2]}]" for c in CASES]
)
def test_case_details(
    sample: str, fmt: str, index: int, expected: tuple[str, str, TestStatus, int, str | None]
) -> None:
    case = parse_test_report(SAMPLES / sample, fmt).cases[index]
    prefix, name, status, duration, message = expected
    assert (case.prefix, case.name, case.status, case.duration_ns) == (
        prefix,
        name,
        status,
        duration,
    )
    if message is None:
        assert case.message is None
    else:
        assert case.message is not None and case.message.startswith(message)


def test_junit_keeps_files_and_suites_and_ignores_captured_output() -> None:
    report = parse_test_report(SAMPLES / "junit.xml", "JUNITXML")
    assert [c.file for c in report.cases] == [
        "tests/test_cart.py",
        "tests/test_cart.py",
        "tests/test_cart.py",
        None,
        None,
        "tests/test_receipt.py",
    ]
    assert [c.suite for c in report.cases] == ["shop.cart"] * 3 + ["shop.checkout"] * 3
    assert not any("computing the total" in (c.message or "") for c in report.cases)


def test_junit_single_testsuite_root_and_error_beats_failure() -> None:
    data = b"""<testsuite name="solo" file="t.py">
      <testcase name="a" time="0.5"><failure message="f"/><error message="e"/></testcase>
    </testsuite>"""
    (case,) = parse_test_report(data, "JUNITXML", name="solo.xml").cases
    assert (case.prefix, case.status, case.message, case.file) == ("solo", E, "e", "t.py")


def test_cucumber_features_carry_their_uri() -> None:
    report = parse_test_report(SAMPLES / "cucumber.json", "CUCUMBERJSON")
    assert {c.file for c in report.cases} == {
        "features/checkout.feature",
        "features/search.feature",
    }


def test_testng_leaves_configuration_methods_out() -> None:
    report = parse_test_report(SAMPLES / "testng.xml", "TESTNGXML")
    assert "setUp" not in [c.name for c in report.cases]
    assert {c.suite for c in report.cases} == {"Unit"}
