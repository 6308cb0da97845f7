"""The runner's own lines start a new log line even after output without a final newline."""

from __future__ import annotations

from pathlib import Path

from stageline.runner.lines import LineSplitter
from stageline.runner.shell import build_clean_env, run_commands


def test_command_lines_are_not_glued_to_unterminated_output(tmp_path: Path) -> None:
    lines: list[str] = []
    result = run_commands(
        ["printf 'no newline'", "echo next"],
        cwd=tmp_path,
        env=build_clean_env({}),
        log=lines.append,
        timeout_s=30,
    )
    assert result.exit_code == 0
    assert lines == [
        "Running command: printf 'no newline'",
        "no newline",
        "Running command: echo next",
        "next",
    ]


def test_the_marker_splits_lines_wherever_it_arrives() -> None:
    lines: list[str] = []
    splitter = LineSplitter(lines.append)
    for chunk in (b"part", b"ial\x1eRunn", b"ing\n", b"\x1eagain\nend"):
        splitter.feed(chunk)
    splitter.close()
    assert lines == ["partial", "Running", "again", "end"]
