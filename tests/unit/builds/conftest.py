"""Running buildspecs for real (bash and sh subprocesses) in a temporary workspace."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stageline.builds import BuildInfo, BuildResult, PhaseType, parse_buildspec, run_build


@dataclass
class Ran:
    """A finished build and everything it logged."""

    result: BuildResult
    lines: list[str]

    @property
    def output(self) -> list[str]:
        """What the commands printed (the runner's own lines left out)."""
        return [line for line in self.lines if not line.startswith("[Container] ")]

    @property
    def runner_lines(self) -> list[str]:
        """The runner's own lines without their timestamps."""
        return [line.split(" ", 3)[3] for line in self.lines if line.startswith("[Container] ")]

    def status(self, phase: PhaseType) -> str | None:
        result = self.result.phase(phase)
        if result is None:
            return None
        return result.status.value if result.status is not None else "-"

    @property
    def phase_types(self) -> list[str]:
        return [p.phase_type.value for p in self.result.phases]


RunSpec = Callable[..., Ran]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "src"
    path.mkdir()
    return path


@pytest.fixture
def run_spec(tmp_path: Path, source: Path) -> RunSpec:
    """``run_spec(yaml_text, **run_build_kwargs)`` runs the buildspec in ``source``."""
    workspace = tmp_path / "ws"
    workspace.mkdir()

    def run(text: str, **kwargs: Any) -> Ran:
        lines: list[str] = []
        kwargs.setdefault("info", BuildInfo(project="demo"))
        kwargs.setdefault("kill_grace_s", 1.0)
        result = run_build(
            parse_buildspec(textwrap.dedent(text)),
            workspace=workspace,
            primary_source=kwargs.pop("primary_source", source),
            log=lines.append,
            **kwargs,
        )
        return Ran(result=result, lines=lines)

    return run


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie has stopped: only its parent's wait is missing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return False
    return stat[stat.rfind(b")") + 2 :].split()[0] != b"Z"


def wait_for_file(path: Path, timeout_s: float = 10.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.01)
    raise AssertionError(f"{path} was never written")
