"""Cobertura XML (COBERTURAXML): what coverage.py, Istanbul, gcovr and Coverlet write.

Figures are counted from the ``<line>`` elements of each ``<class>`` (not from
the root's ``line-rate``, which tools round, nor from ``<methods>``, which
repeat the class's lines). A branch line's ``condition-coverage="50% (1/2)"``
gives its covered and total branch outcomes.
"""

from __future__ import annotations

import re

from stageline.reports.errors import WrongFormat
from stageline.reports.fields import count_attr
from stageline.reports.model import CoverageReport, Limits, ReportFileFormat, coverage_report
from stageline.reports.safexml import parse_xml
from stageline.reports.tally import LineTally

_CONDITIONS = re.compile(r"\((\d+)\s*/\s*(\d+)\)")


def parse_cobertura(label: str, data: bytes, limits: Limits) -> CoverageReport:
    root = parse_xml(label, data, limits, skip_text=("sources",))
    if root.tag != "coverage" or root.find("project") is not None:
        hint = " (it looks like Clover XML: use CLOVERXML)" if root.tag == "coverage" else ""
        raise WrongFormat(
            label,
            f"is not Cobertura XML: expected <coverage> with <packages>, found <{root.tag}>{hint}",
        )
    tally = LineTally()
    for cls in root.iter("class"):
        path = cls.get("filename") or cls.get("name") or "(unnamed file)"
        tally.touch(path)
        lines = cls.find("lines")
        for line in lines.iter("line") if lines is not None else ():
            number = count_attr(label, line, "number")
            tally.line(path, number, count_attr(label, line, "hits"))
            if (line.get("branch") or "").lower() != "true":
                continue
            match = _CONDITIONS.search(line.get("condition-coverage") or "")
            if match:
                tally.branches(path, number, int(match.group(1)), int(match.group(2)))
    return coverage_report(ReportFileFormat.COBERTURAXML, label, tally.files(), limits)
