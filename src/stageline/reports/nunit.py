"""NUnit XML: version 2 (NUNITXML) and version 3 (NUNIT3XML), which differ throughout.

NUnit 2 writes ``<test-results>`` with nested ``<test-suite>``/``<results>``
and ``<test-case result="Success|Failure|Error|Ignored|NotRunnable|...">``,
times in seconds in ``time``. NUnit 3 writes ``<test-run>`` with nested
``<test-suite>`` and ``<test-case result="Passed|Failed|Skipped|Inconclusive"
label="Error|Cancelled|Invalid|Ignored|...">``, times in ``duration``.

As in CodeBuild's own DescribeTestCases output for NUnit, a case's name is its
full name ("Ns.Fixture.Test") and its prefix is the fixture ("Ns.Fixture");
NotRunnable tests are ERROR.
"""

from __future__ import annotations

from collections.abc import Callable
from xml.etree.ElementTree import Element

from stageline.reports.errors import WrongFormat
from stageline.reports.fields import join_message, seconds_to_ns
from stageline.reports.model import (
    CaseCollector,
    Limits,
    ReportFileFormat,
    TestCase,
    TestReport,
    TestStatus,
)
from stageline.reports.safexml import parse_xml, text_of

_IGNORED_TEXT = ("output", "properties", "environment", "settings", "command-line")

_V2_RESULTS = {
    "success": TestStatus.SUCCEEDED,
    "failure": TestStatus.FAILED,
    "error": TestStatus.ERROR,
    "notrunnable": TestStatus.ERROR,
    "invalid": TestStatus.ERROR,
    "cancelled": TestStatus.ERROR,
    "ignored": TestStatus.SKIPPED,
    "skipped": TestStatus.SKIPPED,
    "explicit": TestStatus.SKIPPED,
    "inconclusive": TestStatus.UNKNOWN,
}
_V3_RESULTS = {
    "passed": TestStatus.SUCCEEDED,
    "failed": TestStatus.FAILED,
    "skipped": TestStatus.SKIPPED,
    "inconclusive": TestStatus.UNKNOWN,
}
# NUnit 3 reports errors, cancellations and invalid tests as result="Failed" with a label.
_V3_ERROR_LABELS = frozenset({"error", "cancelled", "invalid", "notrunnable"})


def parse_nunit2(label: str, data: bytes, limits: Limits) -> TestReport:
    root = parse_xml(label, data, limits, skip_text=_IGNORED_TEXT)
    if root.tag != "test-results":
        hint = " (NUnit 3 output: use NUNIT3XML)" if root.tag == "test-run" else ""
        raise WrongFormat(
            label, f"is not NUnit 2 XML: the root element is <{root.tag}>, not <test-results>{hint}"
        )
    collector = CaseCollector(ReportFileFormat.NUNITXML, label, limits.max_cases)
    _walk(root, None, label, collector, _v2_case)
    return collector.report()


def parse_nunit3(label: str, data: bytes, limits: Limits) -> TestReport:
    root = parse_xml(label, data, limits, skip_text=_IGNORED_TEXT)
    if root.tag != "test-run":
        hint = " (NUnit 2 output: use NUNITXML)" if root.tag == "test-results" else ""
        raise WrongFormat(
            label, f"is not NUnit 3 XML: the root element is <{root.tag}>, not <test-run>{hint}"
        )
    collector = CaseCollector(ReportFileFormat.NUNIT3XML, label, limits.max_cases)
    _walk(root, None, label, collector, _v3_case)
    return collector.report()


_CaseMaker = Callable[[Element, Element | None, str], TestCase]


def _walk(
    element: Element, suite: Element | None, label: str, out: CaseCollector, make: _CaseMaker
) -> None:
    for child in element:
        if child.tag == "test-suite":
            _walk(child, child, label, out, make)
        elif child.tag == "results":  # NUnit 2 wraps a suite's children in <results>
            _walk(child, suite, label, out, make)
        elif child.tag == "test-case":
            out.add(make(child, suite, label))


def _fixture_of(full_name: str) -> str:
    # "Ns.Fixture.Test(1, \"a.b\")" -> "Ns.Fixture": parameters may contain dots.
    head = full_name.split("(", 1)[0]
    return head.rsplit(".", 1)[0] if "." in head else ""


def _details(case: Element) -> str | None:
    for tag in ("failure", "reason"):
        marker = case.find(tag)
        if marker is not None:
            return join_message(
                text_of(marker.find("message")), text_of(marker.find("stack-trace"))
            )
    return None


def _v2_case(case: Element, suite: Element | None, label: str) -> TestCase:
    name = case.get("name") or "(unnamed test)"
    result = (case.get("result") or "").replace(" ", "").lower()
    status = _V2_RESULTS.get(result)
    if status is None:
        if case.get("executed", "").lower() == "false":
            status = TestStatus.SKIPPED
        elif case.get("success"):
            success = case.get("success", "").lower() == "true"
            status = TestStatus.SUCCEEDED if success else TestStatus.FAILED
        else:
            status = TestStatus.UNKNOWN
    return TestCase(
        name=name,
        prefix=_fixture_of(name),
        status=status,
        duration_ns=seconds_to_ns(case.get("time")),
        message=_details(case) if status != TestStatus.SUCCEEDED else None,
        suite=suite.get("name") if suite is not None else None,
        report_file=label,
    )


def _v3_case(case: Element, suite: Element | None, label: str) -> TestCase:
    name = case.get("fullname") or case.get("name") or "(unnamed test)"
    result = (case.get("result") or "").lower()
    status = _V3_RESULTS.get(result, TestStatus.UNKNOWN)
    if status == TestStatus.FAILED and (case.get("label") or "").lower() in _V3_ERROR_LABELS:
        status = TestStatus.ERROR
    return TestCase(
        name=name,
        prefix=case.get("classname") or _fixture_of(name),
        status=status,
        duration_ns=seconds_to_ns(case.get("duration")),
        message=_details(case) if status != TestStatus.SUCCEEDED else None,
        suite=(suite.get("fullname") or suite.get("name")) if suite is not None else None,
        report_file=label,
    )
