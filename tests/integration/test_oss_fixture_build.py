"""A real open-source project built and tested by its buildspec, through the buildspec runner.

The fixture ``tests/fixtures/oss/toolz`` is toolz's PyPI sdist, unchanged, plus
a ``buildspec.yml`` (see its ``STAGELINE_FIXTURE.md``). The build runs the
project's own test suite with the ``python`` first on PATH, which here is this
virtualenv's (it has pytest), in a real shell, on a copy of the fixture.
"""

from __future__ import annotations

import platform
import shutil
import sys
from pathlib import Path

from stageline.builds import BuildInfo, PhaseType, Status, parse_buildspec, run_build
from stageline.reports import TestReport, TestStatus, parse_group
from stageline.runner.shell import DEFAULT_PATH

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "oss" / "toolz"


def test_toolz_builds_and_passes_its_own_tests(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(FIXTURE, source)
    spec = parse_buildspec((source / "buildspec.yml").read_text(encoding="utf-8"))
    # The virtualenv's bin dir itself, not where its python symlink points: pytest is there.
    venv_bin = Path(sys.executable).parent
    lines: list[str] = []

    result = run_build(
        spec,
        info=BuildInfo(project="toolz", initiator="codepipeline/oss-toolz"),
        workspace=tmp_path / "workspace",
        primary_source=source,
        env={"PATH": f"{venv_bin}:{DEFAULT_PATH}"},
        log=lines.append,
        timeout_s=240,
        artifacts_dir=tmp_path / "artifacts",
    )

    log = "\n".join(lines)
    assert result.status is Status.SUCCEEDED, f"{result.failure}\n{log[-4000:]}"
    build = result.phase(PhaseType.BUILD)
    assert build is not None and build.status is Status.SUCCEEDED
    assert f"Python {platform.python_version()}" in lines  # install ran the venv's python
    assert result.exported_variables == {
        "TOOLZ_VERSION": "1.2.0",
        "PYTHON_VERSION": platform.python_version(),
    }

    junit = source / "reports" / "junit.xml"
    parsed = parse_group([junit], "JUNITXML")
    assert parsed.errors == ()
    report = parsed.report
    assert isinstance(report, TestReport)
    assert report.count(TestStatus.SUCCEEDED) > 100
    assert report.count(TestStatus.FAILED) == report.count(TestStatus.ERROR) == 0

    outputs = {out.identifier: out for out in result.artifacts}
    primary, results = outputs[None], outputs["TestResults"]
    assert primary.name == "toolz-1.2.0"
    shipped = {p.relative_to(primary.directory).as_posix() for p in primary.directory.rglob("*")}
    assert {"toolz/__init__.py", "toolz/curried/__init__.py", "tlz/__init__.py"} <= shipped
    assert {"LICENSE.txt", "PKG-INFO"} <= shipped
    assert not any("/tests/" in path or "__pycache__" in path for path in shipped)
    assert primary.files == len([p for p in primary.directory.rglob("*") if p.is_file()])
    assert (results.directory / "junit.xml").read_bytes() == junit.read_bytes()
    # The build ran on a copy: the vendored tree gained nothing.
    assert not (FIXTURE / "reports").exists() and not (FIXTURE / "toolz.egg-info").exists()
