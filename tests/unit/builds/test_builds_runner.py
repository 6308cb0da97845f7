"""Running buildspecs as CodeBuild does: phase order, failure rules, retries, sources."""

from __future__ import annotations

from pathlib import Path

from stageline.builds import PhaseType, Status
from tests.unit.builds.conftest import RunSpec

ALL_PHASES = [
    "SUBMITTED",
    "QUEUED",
    "PROVISIONING",
    "DOWNLOAD_SOURCE",
    "INSTALL",
    "PRE_BUILD",
    "BUILD",
    "POST_BUILD",
    "UPLOAD_ARTIFACTS",
    "FINALIZING",
    "COMPLETED",
]


def test_phases_run_in_codebuild_order(run_spec: RunSpec) -> None:
    ran = run_spec(
        """
        version: 0.2
        phases:
          post_build:
            commands: [echo post]
          build:
            commands: [echo build]
          install:
            commands: [echo install]
          pre_build:
            commands: [echo pre]
        """
    )
    assert ran.result.status is Status.SUCCEEDED
    assert ran.output == ["install", "pre", "build", "post"]
    assert ran.phase_types == ALL_PHASES
    assert all(p.status is Status.SUCCEEDED for p in ran.result.phases[:-1])
    completed = ran.result.phases[-1]
    assert completed.status is None and completed.end is None
    assert "Entering phase BUILD" in ran.runner_lines
    assert "Running command echo build" in ran.runner_lines
    assert "Phase complete: BUILD State: SUCCEEDED" in ran.runner_lines


def test_install_failure_ends_the_build_without_post_build(run_spec: RunSpec) -> None:
    ran = run_spec(
        """
        version: 0.2
        phases:
          install:
            commands:
              - echo installing
              - exit_with_seven() { return 7; }; exit_with_seven
              - echo never
            finally:
              - echo install finally
          build:
            commands: [echo build]
          post_build:
            commands: [echo post]
        """
    )
    assert ran.result.status is Status.FAILED
    assert ran.output == ["installing", "install finally"]
    assert ran.phase_types == [
        "SUBMITTED",
        "QUEUED",
        "PROVISIONING",
        "DOWNLOAD_SOURCE",
        "INSTALL",
        "FINALIZING",
        "COMPLETED",
    ]
    install = ran.result.phase(PhaseType.INSTALL)
    assert install is not None and install.status is Status.FAILED
    assert [str(c) for c in install.contexts] == [
        "COMMAND_EXECUTION_ERROR: Error while executing command: "
        "exit_with_seven() { return 7; }; exit_with_seven. Reason: exit status 7"
    ]
    assert str(ran.result.failure).startswith("COMMAND_EXECUTION_ERROR")


def test_pre_build_failure_ends_the_build_too(run_spec: RunSpec) -> None:
    ran = run_spec(
        """
        version: 0.2
        phases:
          pre_build:
            commands: ["false"]
          post_build:
            commands: [echo post]
        """
    )
    assert ran.status(PhaseType.PRE_BUILD) == "FAILED"
    assert ran.status(PhaseType.BUILD) is None and ran.status(PhaseType.POST_BUILD) is None
    assert ran.output == []


def test_build_failure_still_runs_post_build_with_succeeding_0(run_spec: RunSpec) -> None:
    ran = run_spec(
        """
        version: 0.2
        phases:
          pre_build:
            commands: ['echo "pre $CODEBUILD_BUILD_SUCCEEDING"']
          build:
            commands:
              - 'false'
              - echo never
            finally:
              - echo "finally $CODEBUILD_BUILD_SUCCEEDING"
          post_build:
            commands: ['echo "post $CODEBUILD_BUILD_SUCCEEDING"']
        """
    )
    assert ran.output == ["pre 1", "finally 1", "post 0"]
    assert ran.status(PhaseType.BUILD) == "FAILED"
    assert ran.status(PhaseType.POST_BUILD) == "SUCCEEDED"
    assert ran.status(PhaseType.UPLOAD_ARTIFACTS) == "SUCCEEDED"
    assert ran.result.status is Status.FAILED


def test_a_failing_finally_fails_its_phase(run_spec: RunSpec) -> None:
    ran = run_spec(
        """
        version: 0.2
        phases:
          build:
            commands: [echo ok]
            finally: ["sh -c 'exit 4'", echo after]
        """
    )
    build = ran.result.phase(PhaseType.BUILD)
    assert build is not None and build.status is Status.FAILED
    assert "Reason: exit status 4" in build.contexts[0].message
    assert ran.output == ["ok"]


def test_on_failure_continue_goes_on_but_the_build_fails(run_spec: RunSpec) -> None:
    ran = run_spec(
        """
        version: 0.2
        phases:
          install:
            on-failure: CONTINUE
            commands: ["false"]
          pre_build:
            commands: ['echo "pre $CODEBUILD_BUILD_SUCCEEDING"']
        """
    )
    assert ran.status(PhaseType.INSTALL) == "FAILED"
    assert ran.status(PhaseType.PRE_BUILD) == "SUCCEEDED"
    assert ran.output == ["pre 0"]
    assert ran.result.status is Status.FAILED


def test_on_failure_abort_in_build_skips_post_build(run_spec: RunSpec) -> None:
    ran = run_spec(
        """
        version: 0.2
        phases:
          build:
            on-failure: ABORT
            commands: ["false"]
          post_build:
            commands: [echo post]
        """
    )
    assert ran.status(PhaseType.POST_BUILD) is None
    assert ran.status(PhaseType.UPLOAD_ARTIFACTS) is None
    assert ran.output == []


COUNTER = (
    "n=$(cat counter 2>/dev/null || echo 0); n=$((n+1)); echo $n > counter; "
    'echo "attempt $n"; [ "$n" -ge 3 ]'
)


def test_retry_2_runs_a_phase_that_fails_twice_until_it_succeeds(
    run_spec: RunSpec, source: Path
) -> None:
    ran = run_spec(
        f"""
        version: 0.2
        phases:
          build:
            on-failure: RETRY-2
            commands:
              - '{COUNTER}'
            finally:
              - echo finally
        """
    )
    assert ran.result.status is Status.SUCCEEDED
    assert (source / "counter").read_text().strip() == "3"
    assert ran.output == ["attempt 1", "finally", "attempt 2", "finally", "attempt 3", "finally"]
    assert any("retrying, attempt 3 of 3 (RETRY-2)" in line for line in ran.runner_lines)


def test_retry_stops_when_its_count_is_spent(run_spec: RunSpec, source: Path) -> None:
    ran = run_spec(
        f"""
        version: 0.2
        phases:
          build:
            on-failure: RETRY-1
            commands: ['{COUNTER}']
        """
    )
    assert ran.result.status is Status.FAILED
    assert (source / "counter").read_text().strip() == "2"


def test_retry_with_a_regex_retries_only_matching_failures(run_spec: RunSpec, source: Path) -> None:
    matching = run_spec(
        f"""
        version: 0.2
        phases:
          build:
            on-failure: RETRY-5-attempt [12]$
            commands: ['{COUNTER}']
        """
    )
    assert matching.result.status is Status.SUCCEEDED
    (source / "counter").unlink()
    other = run_spec(
        f"""
        version: 0.2
        phases:
          build:
            on-failure: RETRY-5-connection timed out
            commands: ['{COUNTER}']
        """
    )
    assert other.result.status is Status.FAILED
    assert (source / "counter").read_text().strip() == "1"


def test_a_missing_secondary_source_fails_download_source(
    run_spec: RunSpec, tmp_path: Path
) -> None:
    ran = run_spec(
        "version: 0.2\nphases:\n  build:\n    commands: [echo hi]\n",
        secondary_sources={"tools": tmp_path / "absent"},
    )
    assert ran.status(PhaseType.DOWNLOAD_SOURCE) == "FAILED"
    assert "tools source directory" in str(ran.result.failure)
    assert ran.output == []


def test_a_missing_primary_source_or_shell_fails_before_any_command(
    run_spec: RunSpec, tmp_path: Path
) -> None:
    spec = "version: 0.2\nphases:\n  build:\n    commands: [echo hi]\n"
    missing = run_spec(spec, primary_source=tmp_path / "absent")
    assert missing.status(PhaseType.DOWNLOAD_SOURCE) == "FAILED"
    assert "primary source directory" in str(missing.result.failure)
    no_shell = run_spec(spec, env={"PATH": str(tmp_path / "empty-bin")})
    assert no_shell.status(PhaseType.PROVISIONING) == "FAILED"
    assert "shell 'sh' was not found on PATH" in str(no_shell.result.failure)
    assert missing.output == no_shell.output == []


def test_run_as_and_runtime_versions_are_logged(run_spec: RunSpec) -> None:
    ran = run_spec(
        """
        version: 0.2
        run-as: builder
        phases:
          install:
            runtime-versions:
              python: "3.11"
            commands: [echo ok]
        """
    )
    assert ran.result.status is Status.SUCCEEDED
    assert any(line.startswith("run-as builder is not applied") for line in ran.runner_lines)
    assert any("python 3.11 requested" in line for line in ran.runner_lines)
