"""Visual Studio TRX (VISUALSTUDIOTRX): what ``dotnet test --logger trx`` and vstest write.

``<TestRun>`` (in the TeamTest 2010 namespace) lists ``<UnitTestResult>``s
under ``<Results>``, each pointing by ``testId`` at a ``<UnitTest>`` under
``<TestDefinitions>`` whose ``<TestMethod className=...>`` gives the class.
A data-driven test's result nests one result per data row under
``<InnerResults>``; the rows are the test cases then, not the parent.
Durations are .NET TimeSpans ("00:00:01.2500000").
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from stageline.reports.errors import WrongFormat
from stageline.reports.fields import join_message, timespan_to_ns
from stageline.reports.model import (
    CaseCollector,
    Limits,
    ReportFileFormat,
    TestCase,
    TestReport,
    TestStatus,
)
from stageline.reports.safexml import parse_xml, text_of

_IGNORED_TEXT = ("StdOut", "StdErr", "DebugTrace", "TextMessages", "RunInfos")
# TRX's TestOutcome values; anything else ("Pending", "InProgress", "Warning") is UNKNOWN.
_OUTCOMES = {
    "passed": TestStatus.SUCCEEDED,
    "passedbutrunaborted": TestStatus.SUCCEEDED,
    "completed": TestStatus.SUCCEEDED,
    "failed": TestStatus.FAILED,
    "timeout": TestStatus.FAILED,
    "error": TestStatus.ERROR,
    "aborted": TestStatus.ERROR,
    "notrunnable": TestStatus.ERROR,
    "disconnected": TestStatus.ERROR,
    "notexecuted": TestStatus.SKIPPED,
    "inconclusive": TestStatus.UNKNOWN,
}


def parse_trx(label: str, data: bytes, limits: Limits) -> TestReport:
    root = parse_xml(label, data, limits, skip_text=_IGNORED_TEXT)
    if root.tag != "TestRun":
        raise WrongFormat(
            label,
            f"is not a Visual Studio TRX file: the root element is <{root.tag}>, not <TestRun>",
        )
    classes: dict[str, str] = {}
    for definitions in root.findall("TestDefinitions"):
        for test in definitions:
            method = test.find("TestMethod")
            if test.get("id") and method is not None and method.get("className"):
                classes[test.get("id", "")] = method.get("className", "")
    collector = CaseCollector(ReportFileFormat.VISUALSTUDIOTRX, label, limits.max_cases)
    for results in root.findall("Results"):
        _collect(results, classes, label, collector)
    return collector.report()


def _collect(results: Element, classes: dict[str, str], label: str, out: CaseCollector) -> None:
    for result in results:
        inner = result.find("InnerResults")
        if inner is not None and len(inner):
            _collect(inner, classes, label, out)
        elif result.tag.endswith("TestResult"):
            out.add(_case(result, classes, label))


def _case(result: Element, classes: dict[str, str], label: str) -> TestCase:
    name = result.get("testName") or "(unnamed test)"
    status = _OUTCOMES.get((result.get("outcome") or "").lower(), TestStatus.UNKNOWN)
    class_name = classes.get(result.get("testId") or "")
    if class_name is None:
        head = name.split("(", 1)[0]
        class_name = head.rsplit(".", 1)[0] if "." in head else ""
    message = None
    if status != TestStatus.SUCCEEDED:
        info = result.find("Output/ErrorInfo")
        if info is not None:
            message = join_message(text_of(info.find("Message")), text_of(info.find("StackTrace")))
    return TestCase(
        name=name,
        prefix=class_name,
        status=status,
        duration_ns=timespan_to_ns(result.get("duration")),
        message=message,
        report_file=label,
    )
