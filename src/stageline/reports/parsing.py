"""The entry points: read a report file as the format its report group declares.

A buildspec names one ``file-format`` per report group (JUNITXML when it names
none), so ``parse`` is told the format rather than guessing it; when the file
turns out to be something else, the error says what it looks like, since a
wrong ``file-format`` is the usual mistake. ``detect_format`` is the guess, for
tools and error messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from stageline.reports.clover import parse_clover
from stageline.reports.cobertura import parse_cobertura
from stageline.reports.cucumber import parse_cucumber
from stageline.reports.errors import (
    MalformedReport,
    ReportError,
    UnsupportedFileFormat,
    WrongFormat,
)
from stageline.reports.jacoco import parse_jacoco
from stageline.reports.junit import parse_junit
from stageline.reports.lcov import parse_lcov
from stageline.reports.merge import merge
from stageline.reports.model import (
    CoverageReport,
    Limits,
    ReportFileFormat,
    ReportKind,
    TestReport,
)
from stageline.reports.nunit import parse_nunit2, parse_nunit3
from stageline.reports.safexml import sniff_root
from stageline.reports.simplecov import looks_like_simplecov, parse_simplecov
from stageline.reports.source import Source, load_json, read_source
from stageline.reports.testng import parse_testng
from stageline.reports.trx import parse_trx

Report = TestReport | CoverageReport
Parser = Callable[[str, bytes, Limits], Report]

PARSERS: dict[ReportFileFormat, Parser] = {
    ReportFileFormat.JUNITXML: parse_junit,
    ReportFileFormat.CUCUMBERJSON: parse_cucumber,
    ReportFileFormat.NUNITXML: parse_nunit2,
    ReportFileFormat.NUNIT3XML: parse_nunit3,
    ReportFileFormat.TESTNGXML: parse_testng,
    ReportFileFormat.VISUALSTUDIOTRX: parse_trx,
    ReportFileFormat.COBERTURAXML: parse_cobertura,
    ReportFileFormat.JACOCOXML: parse_jacoco,
    ReportFileFormat.CLOVERXML: parse_clover,
    ReportFileFormat.SIMPLECOV: parse_simplecov,
    ReportFileFormat.LCOVINFO: parse_lcov,
}

_XML_ROOTS = {
    "testsuites": ReportFileFormat.JUNITXML,
    "testsuite": ReportFileFormat.JUNITXML,
    "test-results": ReportFileFormat.NUNITXML,
    "test-run": ReportFileFormat.NUNIT3XML,
    "testng-results": ReportFileFormat.TESTNGXML,
    "TestRun": ReportFileFormat.VISUALSTUDIOTRX,
    "report": ReportFileFormat.JACOCOXML,
}


def parse(
    source: Source,
    file_format: ReportFileFormat | str = ReportFileFormat.JUNITXML,
    *,
    name: str | None = None,
    limits: Limits | None = None,
) -> Report:
    """Read one report file (a path, or its bytes) as ``file_format``.

    Raises a ReportError subclass naming the file (``name``, else the path)
    and what is wrong with it; UnsupportedFileFormat for an unknown format name.
    """
    fmt = ReportFileFormat.named(file_format)
    limits = limits or Limits()
    label, data = read_source(source, limits.max_bytes, name)
    try:
        return PARSERS[fmt](label, data, limits)
    except (WrongFormat, MalformedReport) as exc:
        # A wrong file-format is the usual mistake: say what the file looks like.
        guess = detect_format(data)
        if guess is not None and guess != fmt:
            raise WrongFormat(
                label, f"{exc.problem}; it looks like {guess.value}, not {fmt.value}"
            ) from None
        raise
    except ReportError:
        raise
    except RecursionError:
        raise MalformedReport(label, "is nested too deeply to read") from None
    except Exception as exc:  # a hostile file must never surface as a crash
        raise MalformedReport(label, f"could not be read as {fmt.value}: {exc}") from exc


def parse_test_report(
    source: Source,
    file_format: ReportFileFormat | str = ReportFileFormat.JUNITXML,
    *,
    name: str | None = None,
    limits: Limits | None = None,
) -> TestReport:
    """``parse`` for a TEST report group; refuses a coverage format."""
    _require_kind(file_format, ReportKind.TEST)
    report = parse(source, file_format, name=name, limits=limits)
    assert isinstance(report, TestReport)
    return report


def parse_coverage_report(
    source: Source,
    file_format: ReportFileFormat | str,
    *,
    name: str | None = None,
    limits: Limits | None = None,
) -> CoverageReport:
    """``parse`` for a CODE_COVERAGE report group; refuses a test format."""
    _require_kind(file_format, ReportKind.CODE_COVERAGE)
    report = parse(source, file_format, name=name, limits=limits)
    assert isinstance(report, CoverageReport)
    return report


def _require_kind(file_format: ReportFileFormat | str, kind: ReportKind) -> None:
    fmt = ReportFileFormat.named(file_format)
    if fmt.kind != kind:
        raise UnsupportedFileFormat(
            f"{fmt.value} is a {fmt.kind.value} report format, not a {kind.value} one"
        )


@dataclass(frozen=True, kw_only=True)
class GroupResult:
    """A report group's files read and merged; files that could not be read are in ``errors``."""

    report: Report | None
    errors: tuple[ReportError, ...]


def parse_group(
    sources: Iterable[Source],
    file_format: ReportFileFormat | str = ReportFileFormat.JUNITXML,
    *,
    limits: Limits | None = None,
) -> GroupResult:
    """Every file of one report group, merged into one report.

    One broken file does not cost the group its other files: it is reported
    in ``errors`` and the rest are merged (``report`` is None when none could
    be read).
    """
    fmt = ReportFileFormat.named(file_format)
    limits = limits or Limits()
    reports: list[Report] = []
    errors: list[ReportError] = []
    for source in sources:
        try:
            reports.append(parse(source, fmt, limits=limits))
        except ReportError as exc:
            errors.append(exc)
    merged = merge(reports, max_cases=limits.max_cases) if reports else None
    return GroupResult(report=merged, errors=tuple(errors))


def detect_format(data: bytes) -> ReportFileFormat | None:
    """The format ``data`` appears to be in, from its root element or top-level shape; None if unknown."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return _detect_xml(data)
    if head[:1] in (b"{", b"["):
        return _detect_json(data)
    return _detect_text(data)


def _detect_xml(data: bytes) -> ReportFileFormat | None:
    root = sniff_root(data)
    if root is None:
        return None
    tag, attrs = root
    if tag == "coverage":
        if "line-rate" in attrs or "lines-valid" in attrs:
            return ReportFileFormat.COBERTURAXML
        if "clover" in attrs or "generated" in attrs:
            return ReportFileFormat.CLOVERXML
        return None
    return _XML_ROOTS.get(tag)


def _detect_json(data: bytes) -> ReportFileFormat | None:
    try:
        document = load_json("<sniff>", data)
    except ReportError:
        return None
    if isinstance(document, list) and document and isinstance(document[0], dict):
        feature = document[0]
        if "elements" in feature or feature.get("keyword") == "Feature":
            return ReportFileFormat.CUCUMBERJSON
    if looks_like_simplecov(document):
        return ReportFileFormat.SIMPLECOV
    return None


def _detect_text(data: bytes) -> ReportFileFormat | None:
    for raw in data[: 64 * 1024].splitlines()[:50]:
        line = raw.strip()
        if line.startswith(b"SF:"):
            return ReportFileFormat.LCOVINFO
        if line and not line.startswith((b"TN:", b"#")):
            return None
    return None
