"""Clover XML (CLOVERXML): what PHPUnit, Istanbul and OpenClover write.

Each ``<file>`` (under ``<project>``, directly or inside ``<package>``s) has a
``<metrics>`` element whose ``statements``/``coveredstatements`` are the
lines and ``conditionals``/``coveredconditionals`` the branch outcomes. A file
without metrics is counted from its ``<line type="stmt|cond">`` elements, a
condition line being a line with two branch outcomes (``truecount``,
``falsecount``).
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from stageline.reports.errors import WrongFormat
from stageline.reports.fields import count_attr
from stageline.reports.model import (
    CoverageReport,
    FileCoverage,
    Limits,
    ReportFileFormat,
    coverage_report,
)
from stageline.reports.safexml import parse_xml


def parse_clover(label: str, data: bytes, limits: Limits) -> CoverageReport:
    root = parse_xml(label, data, limits)
    project = root.find("project") if root.tag == "coverage" else None
    if project is None:
        hint = " (it looks like Cobertura XML: use COBERTURAXML)" if root.tag == "coverage" else ""
        raise WrongFormat(
            label,
            f"is not Clover XML: expected <coverage> with <project>, found <{root.tag}>{hint}",
        )
    files = [_figures(label, file) for file in project.iter("file")]
    return coverage_report(ReportFileFormat.CLOVERXML, label, files, limits)


def _figures(label: str, file: Element) -> FileCoverage:
    path = file.get("path") or file.get("name") or "(unnamed file)"
    metrics = file.find("metrics")
    if metrics is not None:
        statements = count_attr(label, metrics, "statements")
        covered = count_attr(label, metrics, "coveredstatements")
        conditionals = count_attr(label, metrics, "conditionals")
        covered_conditionals = count_attr(label, metrics, "coveredconditionals")
    else:
        statements = covered = conditionals = covered_conditionals = 0
        for line in file.findall("line"):
            kind = line.get("type")
            if kind in ("stmt", "cond"):  # a line with a condition is a statement too
                statements += 1
                covered += count_attr(label, line, "count") > 0
            if kind == "cond":
                conditionals += 2
                covered_conditionals += (count_attr(label, line, "truecount") > 0) + (
                    count_attr(label, line, "falsecount") > 0
                )
    return FileCoverage(
        path=path,
        lines_covered=min(covered, statements),
        lines_missed=max(statements - covered, 0),
        branches_covered=min(covered_conditionals, conditionals),
        branches_missed=max(conditionals - covered_conditionals, 0),
    )
