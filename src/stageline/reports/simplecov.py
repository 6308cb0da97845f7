"""SimpleCov JSON (SIMPLECOV): the JSON simplecov itself writes, not simplecov-json's.

Two layouts come from simplecov: ``.resultset.json`` (``{"<command>":
{"coverage": {"<path>": {"lines": [...], "branches": {...}}}}}``, or a bare
lines array per path in old versions) and ``coverage.json`` from its JSON
formatter (``{"meta": ..., "coverage": {"<path>": {"lines": [...],
"branches": [...]}}}``). In ``lines``, index i is line i+1: null (or
"ignored") is not executable, a number is its hit count. Several commands in
one resultset are merged line by line.
"""

from __future__ import annotations

import json
from typing import Any

from stageline.reports.errors import MalformedReport, WrongFormat
from stageline.reports.model import CoverageReport, Limits, ReportFileFormat, coverage_report
from stageline.reports.source import load_json
from stageline.reports.tally import LineTally


def looks_like_simplecov(document: Any) -> bool:
    """True for either simplecov layout (used to tell it from other JSON)."""
    if not isinstance(document, dict) or not document:
        return False
    if isinstance(document.get("coverage"), dict):
        return True
    return all(
        isinstance(v, dict) and isinstance(v.get("coverage"), dict) for v in document.values()
    )


def parse_simplecov(label: str, data: bytes, limits: Limits) -> CoverageReport:
    document = load_json(label, data)
    if not looks_like_simplecov(document):
        raise WrongFormat(
            label, "is not SimpleCov JSON: expected an object with a 'coverage' map of files"
        )
    if isinstance(document.get("coverage"), dict):
        runs = [document["coverage"]]
    else:
        runs = [run["coverage"] for run in document.values()]
    tally = LineTally()
    for run in runs:
        for path, entry in run.items():
            _file(label, tally, str(path), entry)
    return coverage_report(ReportFileFormat.SIMPLECOV, label, tally.files(), limits)


def _file(label: str, tally: LineTally, path: str, entry: Any) -> None:
    tally.touch(path)
    lines = entry.get("lines") if isinstance(entry, dict) else entry
    if not isinstance(lines, list):
        raise MalformedReport(label, f"the coverage of {path!r} has no 'lines' array")
    for index, hits in enumerate(lines):
        if hits is None or isinstance(hits, str):  # null or "ignored"
            continue
        if isinstance(hits, bool) or not isinstance(hits, int | float):
            raise MalformedReport(label, f"line {index + 1} of {path!r} has hits {hits!r}")
        tally.line(path, index + 1, int(hits))
    branches = entry.get("branches") if isinstance(entry, dict) else None
    if isinstance(branches, dict):  # resultset: {condition: {branch: hits}}
        for condition, outcomes in branches.items():
            if isinstance(outcomes, dict):
                for branch, hits in outcomes.items():
                    _branch(tally, path, (condition, branch), hits)
    elif isinstance(branches, list):  # JSON formatter: [{"type":..., "coverage": hits}, ...]
        for branch in branches:
            if isinstance(branch, dict):
                key = json.dumps(
                    {k: v for k, v in branch.items() if k != "coverage"}, sort_keys=True
                )
                _branch(tally, path, key, branch.get("coverage"))


def _branch(tally: LineTally, path: str, key: object, hits: Any) -> None:
    if isinstance(hits, bool) or not isinstance(hits, int | float):
        return  # "ignored" branches are not counted
    tally.branches(path, key, int(hits > 0), 1)
