"""Cucumber JSON (CUCUMBERJSON): one test case per scenario.

The file is a list of features, each with ``elements`` (scenarios, and in
cucumber-jvm/ruby output the background that precedes each scenario), each with
``steps`` and optional ``before``/``after`` hooks carrying a ``result``.
Durations are in nanoseconds (cucumber-js 7, the newest CodeBuild supports,
cucumber-jvm and cucumber-ruby all agree).

A scenario's status is its worst step: failed beats pending/undefined/ambiguous
(CodeBuild's UNKNOWN: "a status other than SUCCEEDED, FAILED, ERROR, or
SKIPPED"), which beat skipped, which beats passed.
"""

from __future__ import annotations

from typing import Any

from stageline.reports.errors import MalformedReport, WrongFormat
from stageline.reports.fields import clip, number_to_ns
from stageline.reports.model import (
    CaseCollector,
    Limits,
    ReportFileFormat,
    TestCase,
    TestReport,
    TestStatus,
)
from stageline.reports.source import load_json

_RANK = {
    TestStatus.SUCCEEDED: 0,
    TestStatus.SKIPPED: 1,
    TestStatus.UNKNOWN: 2,
    TestStatus.FAILED: 3,
}
_STEP_STATUS = {
    "passed": TestStatus.SUCCEEDED,
    "skipped": TestStatus.SKIPPED,
    "failed": TestStatus.FAILED,
}


def parse_cucumber(label: str, data: bytes, limits: Limits) -> TestReport:
    document = load_json(label, data)
    if not isinstance(document, list):
        raise WrongFormat(label, "is not Cucumber JSON: the top level is not a list of features")
    collector = CaseCollector(ReportFileFormat.CUCUMBERJSON, label, limits.max_cases)
    for index, feature in enumerate(document):
        _require_object(label, feature, f"feature #{index + 1}")
        feature_name = str(feature.get("name") or feature.get("id") or "")
        uri = feature.get("uri")
        background: list[dict[str, Any]] = []
        for element in _list(label, feature, "elements", f"feature {feature_name!r}"):
            _require_object(label, element, f"an element of feature {feature_name!r}")
            steps = _steps(label, element)
            if element.get("type") == "background" or element.get("keyword") == "Background":
                background = steps
                continue
            collector.add(
                _scenario(element, background + steps, feature_name, uri, label),
            )
            background = []
    return collector.report()


def _require_object(label: str, value: Any, what: str) -> None:
    if not isinstance(value, dict):
        raise MalformedReport(label, f"{what} is a JSON {type(value).__name__}, not an object")


def _list(label: str, holder: dict[str, Any], key: str, what: str) -> list[Any]:
    value = holder.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedReport(label, f"'{key}' of {what} is not a list")
    return value


def _steps(label: str, element: dict[str, Any]) -> list[dict[str, Any]]:
    what = f"scenario {element.get('name')!r}"
    steps = []
    for key in ("before", "steps", "after"):
        for step in _list(label, element, key, what):
            _require_object(label, step, f"a step of {what}")
            steps.append(step)
    return steps


def _scenario(
    element: dict[str, Any], steps: list[dict[str, Any]], feature: str, uri: Any, label: str
) -> TestCase:
    status = TestStatus.SUCCEEDED
    message: str | None = None
    duration = 0
    for step in steps:
        result = step.get("result")
        result = result if isinstance(result, dict) else {}
        duration += number_to_ns(result.get("duration"))
        raw = str(result.get("status") or "undefined").lower()
        step_status = _STEP_STATUS.get(raw, TestStatus.UNKNOWN)
        if _RANK[step_status] > _RANK[status]:
            status = step_status
            message = (
                _step_message(step, result, raw) if step_status != TestStatus.SKIPPED else None
            )
    return TestCase(
        name=str(element.get("name") or element.get("id") or "(unnamed scenario)"),
        prefix=feature,
        status=status,
        duration_ns=duration,
        message=message,
        file=str(uri) if uri else None,
        suite=feature or None,
        report_file=label,
    )


def _step_message(step: dict[str, Any], result: dict[str, Any], raw: str) -> str | None:
    error = result.get("error_message")
    if isinstance(error, str) and error.strip():
        return clip(error.strip())
    text = f"{step.get('keyword') or ''}{step.get('name') or ''}".strip() or "a hook"
    return clip(f"{raw} step: {text}")
