"""The one typed model every report format is read into.

CodeBuild keeps two kinds of report (``ReportType``): TEST reports, made of test
cases with a status each, and CODE_COVERAGE reports, made of per-file line and
branch figures. Every parser in this package produces one of the two dataclasses
below, so storage, the API and the action summary never see a file format.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from stageline.reports.errors import ReportTooLarge, UnsupportedFileFormat


class ReportKind(StrEnum):
    """CodeBuild's ``ReportType``."""

    TEST = "TEST"
    CODE_COVERAGE = "CODE_COVERAGE"


class ReportFileFormat(StrEnum):
    """The buildspec's ``reports.<group>.file-format`` values.

    botocore's codebuild model has no enum for these (they live only in the
    buildspec), so the names come from CodeBuild's buildspec reference. The
    buildspec value is case-insensitive and defaults to JUNITXML.
    """

    JUNITXML = "JUNITXML"
    CUCUMBERJSON = "CUCUMBERJSON"
    NUNITXML = "NUNITXML"
    NUNIT3XML = "NUNIT3XML"
    TESTNGXML = "TESTNGXML"
    VISUALSTUDIOTRX = "VISUALSTUDIOTRX"
    COBERTURAXML = "COBERTURAXML"
    JACOCOXML = "JACOCOXML"
    CLOVERXML = "CLOVERXML"
    SIMPLECOV = "SIMPLECOV"
    LCOVINFO = "LCOVINFO"

    @property
    def kind(self) -> ReportKind:
        return ReportKind.TEST if self in _TEST_FORMATS else ReportKind.CODE_COVERAGE

    @classmethod
    def named(cls, name: str | ReportFileFormat) -> ReportFileFormat:
        """The format a buildspec names, matched the way CodeBuild does: ignoring case."""
        if isinstance(name, ReportFileFormat):
            return name
        key = name.strip().upper().replace("-", "").replace("_", "")
        key = _ALIASES.get(key, key)
        try:
            return cls(key)
        except ValueError:
            known = ", ".join(f.value for f in cls)
            raise UnsupportedFileFormat(
                f"unknown report file-format {name!r}; expected one of {known}"
            ) from None


_TEST_FORMATS = frozenset(
    {
        ReportFileFormat.JUNITXML,
        ReportFileFormat.CUCUMBERJSON,
        ReportFileFormat.NUNITXML,
        ReportFileFormat.NUNIT3XML,
        ReportFileFormat.TESTNGXML,
        ReportFileFormat.VISUALSTUDIOTRX,
    }
)
# The coverage docs call the format "LCOV INFO"; accept the obvious spellings of it.
_ALIASES = {"LCOV": "LCOVINFO", "SIMPLECOVJSON": "SIMPLECOV"}


class TestStatus(StrEnum):
    """A test case's status as CodeBuild reports it (DescribeTestCases ``status``).

    UNKNOWN is CodeBuild's bucket for "a status other than SUCCEEDED, FAILED,
    ERROR, or SKIPPED" (Cucumber's pending and undefined, NUnit's inconclusive).
    """

    __test__ = False  # not a pytest test class, despite the name

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    ERROR = "ERROR"
    SKIPPED = "SKIPPED"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True, kw_only=True, slots=True)
class Limits:
    """Caps that keep a hostile or runaway report file from exhausting memory."""

    max_bytes: int = 50 * 1024 * 1024
    max_cases: int = 100_000
    max_files: int = 100_000
    max_elements: int = 2_000_000
    max_depth: int = 256


@dataclass(frozen=True, kw_only=True, slots=True)
class TestCase:
    """One test's outcome; ``prefix`` is its class, fixture or feature."""

    __test__ = False

    name: str
    prefix: str
    status: TestStatus
    duration_ns: int = 0
    message: str | None = None
    file: str | None = None
    suite: str | None = None
    report_file: str | None = None

    @property
    def failing(self) -> bool:
        return self.status in (TestStatus.FAILED, TestStatus.ERROR)


@dataclass(frozen=True, kw_only=True)
class TestReport:
    """The cases of one report file (or of a report group's files, merged).

    ``counts`` and ``duration_ns`` cover every case read, even past
    ``Limits.max_cases``; ``cases`` then holds only the first ones and
    ``truncated`` says so. The duration is the sum of the cases' durations, so
    merging reports adds their durations.
    """

    __test__ = False

    format: ReportFileFormat
    cases: tuple[TestCase, ...]
    counts: dict[TestStatus, int]
    duration_ns: int
    truncated: bool = False
    sources: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count(self, status: TestStatus) -> int:
        return self.counts.get(status, 0)

    @property
    def passed(self) -> int:
        return self.count(TestStatus.SUCCEEDED)

    @property
    def failed(self) -> int:
        return self.count(TestStatus.FAILED)

    @property
    def errors(self) -> int:
        return self.count(TestStatus.ERROR)

    @property
    def skipped(self) -> int:
        return self.count(TestStatus.SKIPPED)

    @property
    def failing_cases(self) -> tuple[TestCase, ...]:
        return tuple(case for case in self.cases if case.failing)

    @property
    def succeeded(self) -> bool:
        """CodeBuild's report status: FAILED when "some of the test cases were not successful"."""
        return self.failed == 0 and self.errors == 0


class CaseCollector:
    """Accumulates a report's cases, counting all of them but keeping at most ``max_cases``."""

    def __init__(self, fmt: ReportFileFormat, source: str, max_cases: int) -> None:
        self._format = fmt
        self._source = source
        self._max = max_cases
        self._cases: list[TestCase] = []
        self._counts = dict.fromkeys(TestStatus, 0)
        self._duration = 0
        self._truncated = False

    def add(self, case: TestCase) -> None:
        self._counts[case.status] += 1
        self._duration += case.duration_ns
        if len(self._cases) < self._max:
            self._cases.append(case)
        else:
            self._truncated = True

    def report(self) -> TestReport:
        return TestReport(
            format=self._format,
            cases=tuple(self._cases),
            counts=dict(self._counts),
            duration_ns=self._duration,
            truncated=self._truncated,
            sources=(self._source,),
        )


def percentage(covered: int, missed: int) -> float | None:
    """Covered over total as a percentage with two decimals; None when there is nothing to cover."""
    total = covered + missed
    if total <= 0:
        return None
    return round(100.0 * covered / total, 2)


@dataclass(frozen=True, kw_only=True, slots=True)
class FileCoverage:
    """One source file's figures (DescribeCodeCoverages' ``CodeCoverage``)."""

    path: str
    lines_covered: int = 0
    lines_missed: int = 0
    branches_covered: int = 0
    branches_missed: int = 0

    @property
    def line_coverage_pct(self) -> float | None:
        return percentage(self.lines_covered, self.lines_missed)

    @property
    def branch_coverage_pct(self) -> float | None:
        return percentage(self.branches_covered, self.branches_missed)


@dataclass(frozen=True, kw_only=True)
class CoverageReport:
    """A coverage report: totals are always the sums of ``files``.

    CodeBuild defines line coverage as covered lines over all lines and branch
    coverage as covered branches over all branches, whole-report, never an
    average of per-file percentages. A percentage is None when there is nothing
    to measure (a report without branch data has no branch coverage, not 0%).
    """

    format: ReportFileFormat
    files: tuple[FileCoverage, ...]
    sources: tuple[str, ...] = ()
    lines_covered: int = field(init=False)
    lines_missed: int = field(init=False)
    branches_covered: int = field(init=False)
    branches_missed: int = field(init=False)

    def __post_init__(self) -> None:
        totals = {
            "lines_covered": sum(f.lines_covered for f in self.files),
            "lines_missed": sum(f.lines_missed for f in self.files),
            "branches_covered": sum(f.branches_covered for f in self.files),
            "branches_missed": sum(f.branches_missed for f in self.files),
        }
        for name, value in totals.items():
            object.__setattr__(self, name, value)

    @property
    def line_coverage_pct(self) -> float | None:
        return percentage(self.lines_covered, self.lines_missed)

    @property
    def branch_coverage_pct(self) -> float | None:
        return percentage(self.branches_covered, self.branches_missed)


def coverage_report(
    fmt: ReportFileFormat, source: str, files: Iterable[FileCoverage], limits: Limits
) -> CoverageReport:
    """A CoverageReport, refusing more than ``limits.max_files`` files.

    Unlike test cases, files cannot be dropped past a cap without making the
    totals lie, so a report that large is refused outright.
    """
    kept = tuple(files)
    if len(kept) > limits.max_files:
        raise ReportTooLarge(
            source, f"{len(kept)} covered files is more than the limit of {limits.max_files}"
        )
    return CoverageReport(format=fmt, files=kept, sources=(source,))
