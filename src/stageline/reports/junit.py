"""JUnit XML (JUNITXML), the format most test runners can write.

There is no single JUnit schema; this follows what Ant, Maven Surefire, Gradle,
pytest, Jest and Mocha write: a ``<testsuites>`` or ``<testsuite>`` root,
suites nested to any depth, and ``<testcase>`` elements whose first
``<error>``, ``<failure>`` or ``<skipped>`` child gives the status. Surefire's
``<flakyFailure>``/``<rerunFailure>`` record reruns of a test whose final
result is its own status, so they are not failures by themselves.
"""

from __future__ import annotations

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

_IGNORED_TEXT = ("system-out", "system-err", "properties")
# Which outcome wins when a runner writes more than one marker on a case.
_MARKERS = (
    ("error", TestStatus.ERROR),
    ("failure", TestStatus.FAILED),
    ("skipped", TestStatus.SKIPPED),
)


def parse_junit(label: str, data: bytes, limits: Limits) -> TestReport:
    root = parse_xml(label, data, limits, skip_text=_IGNORED_TEXT)
    if root.tag not in ("testsuites", "testsuite"):
        raise WrongFormat(
            label, f"is not JUnit XML: the root element is <{root.tag}>, not <testsuites>"
        )
    collector = CaseCollector(ReportFileFormat.JUNITXML, label, limits.max_cases)
    if root.tag == "testsuite":
        _walk(root, root.get("name"), root.get("file"), label, collector)
    else:
        _walk(root, None, None, label, collector)
    return collector.report()


def _walk(
    suite: Element, suite_name: str | None, file: str | None, label: str, out: CaseCollector
) -> None:
    for child in suite:
        if child.tag == "testsuite":
            _walk(child, child.get("name") or suite_name, child.get("file") or file, label, out)
        elif child.tag == "testcase":
            out.add(_case(child, suite_name, file, label))


def _case(element: Element, suite_name: str | None, file: str | None, label: str) -> TestCase:
    status = TestStatus.SUCCEEDED
    message = None
    for tag, marker_status in _MARKERS:
        marker = element.find(tag)
        if marker is not None:
            status = marker_status
            message = join_message(marker.get("message") or marker.get("type"), text_of(marker))
            break
    return TestCase(
        name=element.get("name") or "(unnamed test)",
        prefix=element.get("classname") or suite_name or "",
        status=status,
        duration_ns=seconds_to_ns(element.get("time")),
        message=message,
        file=element.get("file") or file,
        suite=suite_name,
        report_file=label,
    )
