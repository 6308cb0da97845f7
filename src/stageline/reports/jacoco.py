"""JaCoCo XML (JACOCOXML): ``jacoco.xml`` from the Maven and Gradle plugins.

Each ``<sourcefile>`` under a ``<package>`` (possibly inside ``<group>``s, for
multi-module reports) carries ``<counter type="LINE|BRANCH" missed covered>``;
when a file lacks them they are counted from its ``<line mi ci mb cb>``
elements. A file's path is its package path plus its name
("com/example/Foo.java"), as JaCoCo's own HTML report shows it.
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


def parse_jacoco(label: str, data: bytes, limits: Limits) -> CoverageReport:
    root = parse_xml(label, data, limits)
    if root.tag != "report":
        raise WrongFormat(
            label, f"is not JaCoCo XML: the root element is <{root.tag}>, not <report>"
        )
    files: dict[str, FileCoverage] = {}
    for package in root.iter("package"):
        prefix = (package.get("name") or "").strip("/")
        for source in package.findall("sourcefile"):
            name = source.get("name") or "(unnamed file)"
            path = f"{prefix}/{name}" if prefix else name
            figures = _figures(label, source, path)
            seen = files.get(path)
            if seen is not None:  # the same file in two groups: add them up
                figures = FileCoverage(
                    path=path,
                    lines_covered=seen.lines_covered + figures.lines_covered,
                    lines_missed=seen.lines_missed + figures.lines_missed,
                    branches_covered=seen.branches_covered + figures.branches_covered,
                    branches_missed=seen.branches_missed + figures.branches_missed,
                )
            files[path] = figures
    return coverage_report(ReportFileFormat.JACOCOXML, label, files.values(), limits)


def _figures(label: str, source: Element, path: str) -> FileCoverage:
    counters = {c.get("type"): c for c in source.findall("counter")}
    if "LINE" in counters:
        line = counters["LINE"]
        lines = (count_attr(label, line, "covered"), count_attr(label, line, "missed"))
        branch = counters.get("BRANCH")
        branches = (
            (count_attr(label, branch, "covered"), count_attr(label, branch, "missed"))
            if branch is not None
            else (0, 0)
        )
    else:
        lines_covered = lines_missed = branches_covered = branches_missed = 0
        for line in source.findall("line"):
            if count_attr(label, line, "ci") > 0:
                lines_covered += 1
            elif count_attr(label, line, "mi") > 0:
                lines_missed += 1
            branches_covered += count_attr(label, line, "cb")
            branches_missed += count_attr(label, line, "mb")
        lines = (lines_covered, lines_missed)
        branches = (branches_covered, branches_missed)
    return FileCoverage(
        path=path,
        lines_covered=lines[0],
        lines_missed=lines[1],
        branches_covered=branches[0],
        branches_missed=branches[1],
    )
