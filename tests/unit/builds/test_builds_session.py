"""One shell for the whole build: state carries over, a dying shell is replaced, nothing survives."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from stageline.builds import PhaseType, Status
from tests.unit.builds.conftest import RunSpec, alive, wait_for_file


@pytest.mark.parametrize("shell", ["bash", "/bin/sh"])
def test_cd_and_export_carry_over_between_commands_and_phases(
    run_spec: RunSpec, source: Path, shell: str
) -> None:
    ran = run_spec(
        f"""
        version: 0.2
        env:
          shell: {shell}
        phases:
          install:
            commands:
              - mkdir -p deep/er
              - cd deep
              - export FROM_INSTALL=yes
              - UNEXPORTED=kept
          build:
            commands:
              - cd er
          post_build:
            commands:
              - pwd
              - echo "$FROM_INSTALL $UNEXPORTED"
        """
    )
    assert ran.output == [str(source / "deep" / "er"), "yes kept"]


def test_version_0_1_runs_each_command_in_its_own_shell(run_spec: RunSpec) -> None:
    ran = run_spec(
        """
        version: 0.1
        environment_variables:
          plaintext:
            GREETING: hello
        phases:
          build:
            commands:
              - mkdir sub && cd sub && export A=1
              - basename "$PWD"
              - echo "A=${A:-unset} $GREETING"
        """
    )
    assert ran.output == ["src", "A=unset hello"]


def test_a_command_that_exits_the_shell_fails_its_phase_and_the_build_goes_on(
    run_spec: RunSpec, source: Path
) -> None:
    ran = run_spec(
        """
        version: 0.2
        phases:
          build:
            commands:
              - mkdir -p here && cd here && export KEEP=1
              - exit 3
              - echo never
            finally:
              - echo "finally in $(basename "$PWD") with $KEEP"
          post_build:
            commands: ['echo "post $CODEBUILD_BUILD_SUCCEEDING"']
        """
    )
    build = ran.result.phase(PhaseType.BUILD)
    assert build is not None and build.contexts[0].message.endswith("exit status 3")
    assert ran.output == ["finally in here with 1", "post 0"]


def test_timeout_stops_the_whole_process_tree(run_spec: RunSpec, source: Path) -> None:
    started = time.monotonic()
    ran = run_spec(
        """
        version: 0.2
        phases:
          build:
            commands:
              - sleep 1000 & echo $! > background.pid
              - sh -c 'echo $$ > child.pid; sleep 1000'
          post_build:
            commands: [echo never]
        """,
        timeout_s=1.0,
    )
    assert time.monotonic() - started < 8
    assert ran.result.status is Status.TIMED_OUT
    build = ran.result.phase(PhaseType.BUILD)
    assert build is not None and build.status is Status.TIMED_OUT
    assert build.contexts[0].status_code == "BUILD_TIMED_OUT"
    assert ran.status(PhaseType.POST_BUILD) is None
    assert ran.status(PhaseType.FINALIZING) == "SUCCEEDED"
    for name in ("background.pid", "child.pid"):
        pid = int((source / name).read_text())
        assert not alive(pid), f"{name} {pid} survived the timeout"


def test_cancel_stops_the_build(run_spec: RunSpec, source: Path) -> None:
    cancel = threading.Event()

    def cancel_when_started() -> None:
        wait_for_file(source / "started")
        cancel.set()

    thread = threading.Thread(target=cancel_when_started)
    thread.start()
    ran = run_spec(
        """
        version: 0.2
        phases:
          build:
            commands:
              - sh -c 'echo $$ > started; exec sleep 1000'
        """,
        cancel=cancel,
    )
    thread.join()
    assert ran.result.status is Status.STOPPED
    assert ran.status(PhaseType.BUILD) == "STOPPED"
    assert not alive(int((source / "started").read_text()))


def test_background_processes_are_stopped_when_the_build_ends(
    run_spec: RunSpec, source: Path
) -> None:
    ran = run_spec(
        """
        version: 0.2
        phases:
          build:
            commands:
              - sleep 1000 & echo $! > background.pid
        """
    )
    assert ran.result.status is Status.SUCCEEDED
    assert not alive(int((source / "background.pid").read_text()))


def test_commands_cannot_read_the_control_channel(run_spec: RunSpec) -> None:
    ran = run_spec(
        """
        version: 0.2
        phases:
          build:
            commands:
              - cat; echo "read $? bytes-free"
              - exec > redirected.log
              - echo hidden
          post_build:
            commands: [echo still running]
        """
    )
    assert ran.result.status is Status.SUCCEEDED
    assert ran.output[0] == "read 0 bytes-free"


@pytest.mark.parametrize("shell", ["bash", "sh"])
def test_set_e_and_syntax_errors_fail_the_command_not_the_runner(
    run_spec: RunSpec, shell: str
) -> None:
    ran = run_spec(
        f"""
        version: 0.2
        env:
          shell: {shell}
        phases:
          install:
            on-failure: CONTINUE
            commands: [set -e, export KEEP=1, "false"]
          pre_build:
            on-failure: CONTINUE
            commands: ["if then fi"]
          build:
            commands: ['echo "build $KEEP"']
        """
    )
    assert ran.status(PhaseType.INSTALL) == "FAILED"
    assert ran.status(PhaseType.PRE_BUILD) == "FAILED"
    assert ran.status(PhaseType.BUILD) == "SUCCEEDED"
    assert ran.output[-1] == "build 1"


def test_set_x_traces_the_commands_not_the_runner(run_spec: RunSpec) -> None:
    ran = run_spec(
        """
        version: 0.2
        env:
          shell: bash
          exported-variables: [A]
        phases:
          build:
            commands: [set -x, export A=1, "false"]
          post_build:
            commands: [echo post]
        """
    )
    assert "++ export A=1" in ran.output and "post" in ran.output
    assert not any("__sl_" in line or "printf" in line for line in ran.output)
    assert dict(ran.result.exported_variables) == {"A": "1"}
