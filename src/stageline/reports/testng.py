"""TestNG XML (TESTNGXML): ``testng-results.xml``.

``<testng-results>`` holds ``<suite>``s of ``<test>``s of ``<class>``es of
``<test-method status="PASS|FAIL|SKIP">``. Configuration methods
(``is-config="true"``: @BeforeMethod and the like) are not tests, and TestNG's
own totals leave them out, so they are skipped here too. TestNG has no
separate "error" outcome.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from stageline.reports.errors import WrongFormat
from stageline.reports.fields import join_message, millis_to_ns
from stageline.reports.model import (
    CaseCollector,
    Limits,
    ReportFileFormat,
    TestCase,
    TestReport,
    TestStatus,
)
from stageline.reports.safexml import parse_xml, text_of

_IGNORED_TEXT = ("reporter-output", "params", "attributes")
_STATUSES = {"PASS": TestStatus.SUCCEEDED, "FAIL": TestStatus.FAILED, "SKIP": TestStatus.SKIPPED}


def parse_testng(label: str, data: bytes, limits: Limits) -> TestReport:
    root = parse_xml(label, data, limits, skip_text=_IGNORED_TEXT)
    if root.tag != "testng-results":
        raise WrongFormat(
            label, f"is not TestNG XML: the root element is <{root.tag}>, not <testng-results>"
        )
    collector = CaseCollector(ReportFileFormat.TESTNGXML, label, limits.max_cases)
    for suite in root.iter("suite"):
        for test in suite.iter("test"):
            test_name = test.get("name") or suite.get("name")
            for cls in test.iter("class"):
                for method in cls.findall("test-method"):
                    if (method.get("is-config") or "").lower() == "true":
                        continue
                    collector.add(_case(method, cls.get("name") or "", test_name, label))
    return collector.report()


def _case(method: Element, class_name: str, suite: str | None, label: str) -> TestCase:
    status = _STATUSES.get((method.get("status") or "").upper(), TestStatus.UNKNOWN)
    message = None
    exception = method.find("exception")
    if status != TestStatus.SUCCEEDED and exception is not None:
        message = join_message(
            text_of(exception.find("message")) or exception.get("class"),
            text_of(exception.find("full-stacktrace")),
        )
    return TestCase(
        name=method.get("name") or "(unnamed test)",
        prefix=class_name,
        status=status,
        duration_ns=millis_to_ns(method.get("duration-ms")),
        message=message,
        suite=suite,
        report_file=label,
    )
