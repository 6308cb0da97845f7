"""LCOV tracefiles (LCOVINFO): ``lcov.info`` from lcov/geninfo, Istanbul, c8, cargo-llvm-cov.

A tracefile is a list of records, ``SF:<path>`` ... ``end_of_record``, with
``DA:<line>,<hits>`` per line and ``BRDA:<line>,<block>,<branch>,<taken>``
per branch outcome (``-`` meaning the branch was never reached). Figures are
counted from DA/BRDA; the ``LF/LH/BRF/BRH`` summary lines are used only for a
record that has no line-level data. A record left open at the end of the file
means the file was cut short, and is refused rather than under-counted.
"""

from __future__ import annotations

from stageline.reports.errors import MalformedReport, WrongFormat
from stageline.reports.model import (
    CoverageReport,
    FileCoverage,
    Limits,
    ReportFileFormat,
    coverage_report,
)
from stageline.reports.source import decode_text
from stageline.reports.tally import LineTally


def parse_lcov(label: str, data: bytes, limits: Limits) -> CoverageReport:
    text = decode_text(label, data)
    tally = LineTally()
    summaries: dict[str, FileCoverage] = {}
    path: str | None = None
    detailed = False
    summary: dict[str, int] = {}
    records = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(":")
        if key == "SF":
            if path is not None:
                raise MalformedReport(
                    label, f"line {number}: SF before the end_of_record of {path!r}"
                )
            path, detailed, summary = value, False, {}
            tally.touch(path)
            records += 1
        elif key == "end_of_record":
            if path is None:
                raise MalformedReport(label, f"line {number}: end_of_record without an SF line")
            if not detailed and summary:
                summaries[path] = _from_summary(path, summary)
            path = None
        elif key in ("DA", "BRDA", "LF", "LH", "BRF", "BRH"):
            if path is None:
                raise MalformedReport(
                    label, f"line {number}: {key} outside a record (no SF before it)"
                )
            fields = _numbers(label, number, key, value)
            if key == "DA":
                tally.line(path, fields[0], fields[1])
                detailed = True
            elif key == "BRDA":
                tally.branches(path, (fields[0], fields[1], fields[2]), int(fields[3] > 0), 1)
                detailed = True
            else:
                summary[key] = fields[0]
        # TN, FN, FNDA, FNF, FNH, VER and anything newer carry nothing counted here.
    if path is not None:
        raise MalformedReport(
            label,
            f"ends inside the record for {path!r} (no end_of_record): the file looks truncated",
        )
    if records == 0:
        raise WrongFormat(label, "is not an LCOV tracefile: it has no SF: records")
    files = [summaries.get(f.path, f) for f in tally.files()]
    return coverage_report(ReportFileFormat.LCOVINFO, label, files, limits)


_ARITY = {"DA": 2, "BRDA": 4, "LF": 1, "LH": 1, "BRF": 1, "BRH": 1}


def _numbers(label: str, number: int, key: str, value: str) -> list[int]:
    wanted = _ARITY[key]
    parts = value.split(",", wanted)[:wanted]  # DA may end with a checksum
    if len(parts) < wanted:
        raise MalformedReport(label, f"line {number}: {key} needs {wanted} values, got {value!r}")
    try:
        return [int(part) for part in parts]
    except ValueError:
        return [_number(label, number, key, part) for part in parts]


def _number(label: str, number: int, key: str, part: str) -> int:
    text = part.strip()
    if text == "-" and key == "BRDA":  # a branch that was never reached
        return 0
    try:
        return int(float(text))  # some tools write hit counts as floats ("DA:3,1.0")
    except (ValueError, OverflowError):
        raise MalformedReport(
            label, f"line {number}: {key} has {text!r} where a number belongs"
        ) from None


def _from_summary(path: str, summary: dict[str, int]) -> FileCoverage:
    found, hit = max(summary.get("LF", 0), 0), max(summary.get("LH", 0), 0)
    branches, taken = max(summary.get("BRF", 0), 0), max(summary.get("BRH", 0), 0)
    return FileCoverage(
        path=path,
        lines_covered=min(hit, found),
        lines_missed=max(found - hit, 0),
        branches_covered=min(taken, branches),
        branches_missed=max(branches - taken, 0),
    )
