"""Running commands in one shell: state carries over, failures are named, nothing survives."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from stageline.runner.shell import ShellResult, build_clean_env, run_commands

# Variables a shell adds to its own environment whatever it was given.
SHELL_ADDED = {"PWD", "OLDPWD", "SHLVL", "_"}


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs; a zombie has stopped (only its parent's wait is missing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return False
    return stat[stat.rfind(b")") + 2 :].split()[0] != b"Z"


def read_pid(path: Path) -> int:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return int(path.read_text())
        time.sleep(0.01)
    raise AssertionError(f"{path} was never written")


def run(tmp_path: Path, commands: list[str], **kw: object) -> tuple[ShellResult, list[str]]:
    lines: list[str] = []
    kw.setdefault("env", build_clean_env())
    result = run_commands(commands, cwd=tmp_path, log=lines.append, **kw)  # type: ignore[arg-type]
    return result, lines


@pytest.mark.parametrize("shell", ["bash", "sh"])
def test_cd_and_export_carry_over_between_commands(tmp_path: Path, shell: str) -> None:
    result, lines = run(
        tmp_path,
        ["mkdir sub", "cd sub", "pwd", "export A=1", 'echo "A is $A"'],
        shell=shell,
    )
    assert result.succeeded and result.exit_code == 0
    assert result.failed_index is None and result.failed_command is None
    assert str(tmp_path / "sub") in lines
    assert "A is 1" in lines


def test_each_command_is_announced_before_its_output(tmp_path: Path) -> None:
    _, lines = run(tmp_path, ["echo first", "echo second"])
    assert lines == [
        "Running command: echo first",
        "first",
        "Running command: echo second",
        "second",
    ]


def test_failure_stops_at_the_failing_command_and_names_it(tmp_path: Path) -> None:
    result, lines = run(tmp_path, ["echo one", "ls /no/such/dir", "echo never"])
    assert not result.succeeded
    assert result.exit_code == 2
    assert result.failed_index == 1
    assert result.failed_command == "ls /no/such/dir"
    assert "never" not in lines
    assert "Running command: echo never" not in lines


@pytest.mark.parametrize(
    ("commands", "index", "code"),
    [
        (["echo ok", "exit 4", "echo no"], 1, 4),
        (["set -e", "false", "echo no"], 1, 1),
        (["echo 'unterminated", "echo no"], 0, 2),
        # A user's function cannot hide which command failed.
        (["printf() { :; }", "echo x", "false"], 2, 1),
    ],
)
@pytest.mark.parametrize("shell", ["bash", "sh"])
def test_commands_that_leave_the_shell_are_still_named(
    tmp_path: Path, shell: str, commands: list[str], index: int, code: int
) -> None:
    result, lines = run(tmp_path, commands, shell=shell)
    assert result.failed_index == index
    assert result.exit_code == code
    assert "no" not in lines


def test_stdout_and_stderr_are_interleaved_in_order(tmp_path: Path) -> None:
    _, lines = run(tmp_path, ["echo out1; echo err1 >&2; echo out2; echo err2 >&2"])
    assert lines[1:] == ["out1", "err1", "out2", "err2"]


def test_last_line_without_newline_is_kept(tmp_path: Path) -> None:
    _, lines = run(tmp_path, ["printf 'tail'"])
    assert lines[-1] == "tail"


def test_long_lines_are_split_and_lose_nothing(tmp_path: Path) -> None:
    result, lines = run(
        tmp_path, ["head -c 200000 /dev/zero | tr '\\0' a"], max_line_bytes=64 * 1024
    )
    assert result.succeeded
    output = lines[1:]
    assert [len(line) for line in output] == [65536, 65536, 65536, 3392]
    assert "".join(output) == "a" * 200_000


def test_non_utf8_output_is_replaced_not_fatal(tmp_path: Path) -> None:
    result, lines = run(tmp_path, ["printf 'ok \\377\\376 end\\n'"])
    assert result.succeeded
    assert lines[-1] == "ok \ufffd\ufffd end"


def test_environment_is_exactly_the_one_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGELINE_TEST_SENTINEL", "leaked")
    env = {"PATH": os.environ["PATH"], "ONLY_THIS": "yes"}
    result, lines = run(tmp_path, ["env"], env=env, capture_env=True)
    assert result.exported_env is not None
    assert set(result.exported_env) - SHELL_ADDED == {"PATH", "ONLY_THIS"}
    names = {line.split("=", 1)[0] for line in lines[1:]}
    assert names - SHELL_ADDED == {"PATH", "ONLY_THIS"}
    assert not any("leaked" in line for line in lines)


def test_clean_env_has_the_basics_and_nothing_of_the_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STAGELINE_TEST_SENTINEL", "leaked")
    env = build_clean_env({"EXTRA": "1", "LANG": "en_US.UTF-8"})
    assert "STAGELINE_TEST_SENTINEL" not in env
    assert {"PATH", "HOME", "TMPDIR", "USER"} <= set(env)
    assert env["EXTRA"] == "1"
    assert env["LANG"] == "en_US.UTF-8"  # extra wins
    assert build_clean_env()["LANG"] == "C.UTF-8"


def test_exported_environment_is_captured(tmp_path: Path) -> None:
    result, _ = run(
        tmp_path,
        ["export OUT=value", "NOT_EXPORTED=hidden", "export SPACES='a b\nc'"],
        capture_env=True,
    )
    assert result.exported_env is not None
    assert result.exported_env["OUT"] == "value"
    assert result.exported_env["SPACES"] == "a b\nc"
    assert "NOT_EXPORTED" not in result.exported_env


def test_sh_works_where_bash_is_absent(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh", "env", "mkdir"):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    env = {"PATH": str(bin_dir)}
    assert shutil.which("bash", path=str(bin_dir)) is None
    work = tmp_path / "work"
    work.mkdir()
    result, lines = run(
        work,
        ["mkdir sub", "cd sub", "pwd", "export B=2", 'echo "B=$B"'],
        env=env,
        shell="sh",
        capture_env=True,
    )
    assert result.succeeded, lines
    assert str(work / "sub") in lines and "B=2" in lines
    assert result.exported_env is not None and result.exported_env["B"] == "2"
    with pytest.raises(FileNotFoundError, match="bash"):
        run_commands(["true"], cwd=work, env={"PATH": "/nonexistent"}, log=print, shell="bash")


def test_unknown_shell_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="shell"):
        run_commands(["true"], cwd=tmp_path, env=build_clean_env(), log=print, shell="zsh")


def tree_commands(tmp_path: Path) -> list[str]:
    """A background grandchild and a nested bash with its own child, then a long wait."""
    return [
        f"sleep 1000 & echo $! > {tmp_path}/bg.pid",
        f"bash -c 'sleep 1000 & echo $! > {tmp_path}/nested-child.pid; "
        f"echo $$ > {tmp_path}/nested.pid; echo ready; wait'",
    ]


def tree_pids(tmp_path: Path) -> list[int]:
    return [read_pid(tmp_path / n) for n in ("bg.pid", "nested.pid", "nested-child.pid")]


def test_timeout_kills_the_whole_process_tree(tmp_path: Path) -> None:
    started = time.monotonic()
    result, lines = run(tmp_path, tree_commands(tmp_path), timeout_s=1.0, kill_grace_s=1.0)
    assert time.monotonic() - started < 10
    assert result.timed_out and not result.cancelled and not result.succeeded
    assert result.exit_code is None
    assert result.failed_index == 1
    assert any("timed out" in line for line in lines)
    pids = tree_pids(tmp_path)
    assert [pid for pid in pids if alive(pid)] == []


def test_cancel_kills_the_whole_process_tree(tmp_path: Path) -> None:
    cancel = threading.Event()
    ready = threading.Event()
    lines: list[str] = []

    def log(line: str) -> None:
        lines.append(line)
        if line == "ready":
            ready.set()

    results: list[ShellResult] = []
    worker = threading.Thread(
        target=lambda: results.append(
            run_commands(
                tree_commands(tmp_path),
                cwd=tmp_path,
                env=build_clean_env(),
                log=log,
                cancel=cancel,
                kill_grace_s=1.0,
            )
        )
    )
    worker.start()
    assert ready.wait(10)
    pids = tree_pids(tmp_path)
    assert all(alive(pid) for pid in pids)
    cancel.set()
    worker.join(10)
    assert not worker.is_alive()
    (result,) = results
    assert result.cancelled and not result.timed_out
    assert result.failed_index == 1
    assert [pid for pid in pids if alive(pid)] == []


def test_processes_ignoring_sigterm_are_killed_after_the_grace(tmp_path: Path) -> None:
    command = f"sh -c \"trap '' TERM; echo \\$\\$ > {tmp_path}/stubborn.pid; while :; do sleep 0.05; done\""
    result, _ = run(tmp_path, [command], timeout_s=0.5, kill_grace_s=0.3)
    assert result.timed_out
    assert not alive(read_pid(tmp_path / "stubborn.pid"))


def test_background_processes_do_not_outlive_a_successful_run(tmp_path: Path) -> None:
    result, lines = run(tmp_path, [f"sleep 1000 & echo $! > {tmp_path}/bg.pid", "echo done"])
    assert result.succeeded
    assert not alive(read_pid(tmp_path / "bg.pid"))
    assert any("background process" in line for line in lines)


def test_exit_zero_midway_succeeds_and_says_the_rest_did_not_run(tmp_path: Path) -> None:
    result, lines = run(tmp_path, ["echo a", "exit 0", "echo b"])
    assert result.succeeded
    assert "b" not in lines
    assert any("did not run" in line for line in lines)


def test_an_exception_from_log_still_leaves_nothing_running(tmp_path: Path) -> None:
    def log(line: str) -> None:
        if line == "boom":
            raise RuntimeError("log sink failed")

    with pytest.raises(RuntimeError):
        run_commands(
            [f"sleep 1000 & echo $! > {tmp_path}/bg.pid", "echo boom", "sleep 1000"],
            cwd=tmp_path,
            env=build_clean_env(),
            log=log,
            kill_grace_s=1.0,
        )
    assert not alive(read_pid(tmp_path / "bg.pid"))
