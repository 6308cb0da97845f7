"""Real buildspecs through real pipelines: a real server, real git, real shells, boto3 clients.

Each test pushes a repository holding a ``buildspec.yml``, creates a CodeBuild
project with the ``codebuild`` client and a pipeline whose Build action names
it, runs the pipeline and reads what a user reads: the execution's status,
the action's summary and output variables, ``BatchGetBuilds``, the reports
and the build's log. The server runs with one build-timeout minute worth
0.3 s (``STAGELINE_MINUTE_SECONDS``), so CodeBuild's smallest timeout, five
minutes, passes in 1.5 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stageline.runner.shell import DEFAULT_PATH
from tests.support.declarations import ROLE
from tests.support.git import GitClient
from tests.support.logs import read_log
from tests.support.pipelines import Watcher, commands, declaration, source, wait_until
from tests.support.server import ServerProcess, start_server
from tests.support.wire import ResponseRecorder

ENVIRONMENT = {
    "type": "LINUX_CONTAINER",
    "image": "aws/codebuild/standard:7.0",
    "computeType": "BUILD_GENERAL1_SMALL",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(
        tmp_path_factory.mktemp("server"),
        "--build-executor",
        "host",
        env={"STAGELINE_MINUTE_SECONDS": "0.3"},
    )
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def git(tmp_path_factory: pytest.TempPathFactory) -> GitClient:
    return GitClient(tmp_path_factory.mktemp("git-home"))


@pytest.fixture
def cp(server: ServerProcess) -> Iterator[Any]:
    client = server.client("codepipeline")
    recorder = ResponseRecorder(client)
    yield client
    assert recorder.violations == []


@pytest.fixture
def cb(server: ServerProcess) -> Iterator[Any]:
    client = server.client("codebuild")
    recorder = ResponseRecorder(client)
    yield client
    assert recorder.violations == []


def build_action(
    project: str,
    *,
    name: str = "Build",
    inputs: tuple[str, ...] = ("Src",),
    outputs: tuple[str, ...] = (),
    namespace: str | None = None,
    run_order: int = 1,
    **configuration: str,
) -> dict[str, Any]:
    action: dict[str, Any] = {
        "name": name,
        "actionTypeId": {
            "category": "Build",
            "owner": "AWS",
            "provider": "CodeBuild",
            "version": "1",
        },
        "configuration": {"ProjectName": project, **configuration},
        "inputArtifacts": [{"name": i} for i in inputs],
        "outputArtifacts": [{"name": o} for o in outputs],
        "runOrder": run_order,
    }
    if namespace:
        action["namespace"] = namespace
    return action


class BuildKit:
    """Repositories, projects and pipelines for one test, named after it."""

    def __init__(
        self, server: ServerProcess, cp: Any, cb: Any, git: GitClient, tmp: Path, unique: str
    ) -> None:
        self.server, self.cp, self.cb, self.git, self.tmp = server, cp, cb, git, tmp
        self.name = f"b-{unique}"

    def repo(self, files: dict[str, str]) -> str:
        self.server.client("codecommit").create_repository(repositoryName=self.name)
        self.git.push_tree(
            f"{self.server.url}/git/{self.name}", self.tmp / "work", files, "Add the project"
        )
        return self.name

    def push(self, files: dict[str, str], message: str = "Change") -> str:
        return self.git.push_tree(
            f"{self.server.url}/git/{self.name}", self.tmp / "work", files, message
        )

    def project(self, **extra: Any) -> str:
        environment = {**ENVIRONMENT, **extra.pop("environment", {})}
        self.cb.create_project(
            name=self.name,
            source={"type": "CODEPIPELINE"},
            artifacts={"type": "CODEPIPELINE"},
            environment=environment,
            serviceRole=ROLE,
            **extra,
        )
        return self.name

    def pipeline(self, *stages: tuple[str, list[dict[str, Any]]]) -> Watcher:
        self.cp.create_pipeline(
            pipeline=declaration(self.name, ("Source", [source(self.name)]), *stages)
        )
        return Watcher(self.cp, self.name)

    def run(
        self,
        buildspec: str,
        files: dict[str, str] | None = None,
        *,
        project: dict[str, Any] | None = None,
        action: dict[str, Any] | None = None,
        later: list[dict[str, Any]] | None = None,
    ) -> tuple[Watcher, str, str]:
        """Push, create the project and a Source → Build (→ Later) pipeline, wait for the end."""
        self.repo({"buildspec.yml": textwrap.dedent(buildspec), **(files or {})})
        self.project(**(project or {}))
        stages: list[tuple[str, list[dict[str, Any]]]] = [
            ("Build", [action or build_action(self.name)])
        ]
        if later:
            stages.append(("Later", later))
        watcher = self.pipeline(*stages)
        execution = watcher.latest()
        return watcher, execution, watcher.finished(execution)

    def builds(self) -> list[dict[str, Any]]:
        ids = self.cb.list_builds_for_project(projectName=self.name)["ids"]
        return list(self.cb.batch_get_builds(ids=ids)["builds"]) if ids else []

    def log(self, build: dict[str, Any]) -> str:
        return read_log(self.server, build["logs"]["streamName"])


@pytest.fixture
def kit(
    server: ServerProcess, cp: Any, cb: Any, git: GitClient, tmp_path: Path, unique: str
) -> BuildKit:
    return BuildKit(server, cp, cb, git, tmp_path, unique)


def phases(build: dict[str, Any]) -> dict[str, str | None]:
    return {p["phaseType"]: p.get("phaseStatus") for p in build["phases"]}


# -- phases and their failure rules -------------------------------------------------------------


def test_a_build_failure_still_runs_post_build_with_succeeding_zero(kit: BuildKit) -> None:
    watcher, execution, status = kit.run(
        """\
        version: 0.2
        phases:
          install:
            commands:
              - echo "installing"
          build:
            commands:
              - echo "building"
              - "false"
              - echo "never printed"
            finally:
              - echo "build finally ran"
          post_build:
            commands:
              - echo "post_build sees succeeding=$CODEBUILD_BUILD_SUCCEEDING"
        """
    )
    assert status == "Failed"
    build = kit.builds()[0]
    assert build["buildStatus"] == "FAILED"
    assert phases(build)["BUILD"] == "FAILED"
    assert phases(build)["POST_BUILD"] == "SUCCEEDED"
    log = kit.log(build)
    assert log.index("installing") < log.index("building") < log.index("build finally ran")
    assert "post_build sees succeeding=0" in log
    assert "never printed" not in log
    action = watcher.actions(execution)["Build"]
    assert action["status"] == "Failed"
    details = action["output"]["executionResult"]
    assert details["externalExecutionId"] == build["id"]
    assert (
        "Phase: BUILD"
        in kit.cp.get_pipeline_state(name=kit.name)["stageStates"][1]["actionStates"][0][
            "latestExecution"
        ]["errorDetails"]["message"]
    )


def test_an_install_failure_ends_the_build(kit: BuildKit) -> None:
    _, _, status = kit.run(
        """\
        version: 0.2
        phases:
          install:
            commands:
              - exit 3
          build:
            commands:
              - echo "build ran"
          post_build:
            commands:
              - echo "post_build ran"
        """
    )
    assert status == "Failed"
    build = kit.builds()[0]
    assert phases(build)["INSTALL"] == "FAILED"
    assert "BUILD" not in phases(build) and "POST_BUILD" not in phases(build)
    log = kit.log(build)
    assert "build ran" not in log and "post_build ran" not in log


def test_on_failure_continue_and_retry(kit: BuildKit) -> None:
    _, _, status = kit.run(
        """\
        version: 0.2
        phases:
          pre_build:
            on-failure: CONTINUE
            commands:
              - echo "pre_build fails"
              - "false"
          build:
            on-failure: RETRY-2
            commands:
              - n=$(cat "$CODEBUILD_SRC_DIR/.tries" 2>/dev/null || echo 0); echo $((n+1)) > "$CODEBUILD_SRC_DIR/.tries"
              - echo "attempt $(cat "$CODEBUILD_SRC_DIR/.tries")"
              - test "$(cat "$CODEBUILD_SRC_DIR/.tries")" -ge 3
              - echo "third time lucky"
        """
    )
    build = kit.builds()[0]
    log = kit.log(build)
    # CONTINUE: the build phase ran although pre_build failed; the build still ends FAILED.
    assert phases(build)["PRE_BUILD"] == "FAILED"
    assert "attempt 1" in log
    # RETRY-2: two more attempts, and the third succeeds.
    assert "attempt 3" in log and "third time lucky" in log
    assert "attempt 4" not in log
    assert phases(build)["BUILD"] == "SUCCEEDED"
    assert status == "Failed" and build["buildStatus"] == "FAILED"


# -- variables, sources and artifacts -----------------------------------------------------------


def test_exported_variables_reach_a_later_action_through_the_namespace(kit: BuildKit) -> None:
    watcher, execution, status = kit.run(
        """\
        version: 0.2
        env:
          variables:
            STAGE: test
          exported-variables:
            - VERSION
            - STAGE
        phases:
          build:
            commands:
              - export VERSION="$(cat VERSION)-$STAGE"
        """,
        {"VERSION": "2.4.1\n"},
        action=build_action(kit.name, namespace="BuildVars"),
        later=[
            commands(
                "UseIt",
                ['echo "deploying $DEPLOY_VERSION"'],
                environmentVariables=[{"name": "DEPLOY_VERSION", "value": "#{BuildVars.VERSION}"}],
            )
        ],
    )
    assert status == "Succeeded"
    actions = watcher.actions(execution)
    assert actions["Build"]["output"]["outputVariables"] == {
        "VERSION": "2.4.1-test",
        "STAGE": "test",
    }
    exported = kit.builds()[0]["exportedEnvironmentVariables"]
    assert {"name": "VERSION", "value": "2.4.1-test"} in exported
    later_log = read_log(kit.server, actions["UseIt"]["actionExecutionId"])
    assert "deploying 2.4.1-test" in later_log


def test_secondary_sources_and_secondary_artifacts(kit: BuildKit) -> None:
    kit.repo(
        {
            "buildspec.yml": textwrap.dedent(
                """\
                version: 0.2
                phases:
                  build:
                    commands:
                      - mkdir -p out/bin out/docs
                      - cp "$CODEBUILD_SRC_DIR_Extra/extra.txt" out/bin/tool
                      - echo "manual" > out/docs/manual.txt
                      - echo "primary is $(basename "$PWD")"
                artifacts:
                  files:
                    - "**/*"
                  secondary-artifacts:
                    Bins:
                      base-directory: out
                      files:
                        - "bin/**/*"
                      discard-paths: yes
                    Docs:
                      base-directory: out/docs
                      files:
                        - "**/*"
                """
            )
        }
    )
    kit.project()
    produce = commands("MakeExtra", ["echo 'from the other input' > extra.txt"], outputs=("Extra",))
    check = commands(
        "Check",
        [
            "cat tool",
            'test -f "$CODEBUILD_SRC_DIR_Docs/manual.txt" && echo "docs at the root"',
            "test ! -e bin && test ! -e out && echo 'bins flattened'",
        ],
        inputs=("Bins", "Docs"),
    )
    watcher = kit.pipeline(
        ("Prepare", [produce]),
        ("Build", [build_action(kit.name, inputs=("Src", "Extra"), outputs=("Bins", "Docs"))]),
        ("Check", [check]),
    )
    execution = watcher.latest()
    assert watcher.finished(execution) == "Succeeded"
    log = read_log(kit.server, watcher.actions(execution)["Check"]["actionExecutionId"])
    # The secondary source was there; discard-paths put bin/tool at the artifact's root;
    # base-directory dropped the out/docs prefix.
    assert "from the other input" in log
    assert "docs at the root" in log
    assert "bins flattened" in log


def test_a_cache_survives_between_builds(kit: BuildKit) -> None:
    buildspec = """\
        version: 0.2
        phases:
          build:
            commands:
              - if [ -f .deps/stamp ]; then echo "cache hit $(cat .deps/stamp)"; else echo "cache miss"; mkdir -p .deps; echo "$CODEBUILD_BUILD_NUMBER" > .deps/stamp; fi
        cache:
          paths:
            - ".deps/**/*"
        """
    watcher, _, status = kit.run(
        buildspec, project={"cache": {"type": "LOCAL", "modes": ["LOCAL_CUSTOM_CACHE"]}}
    )
    assert status == "Succeeded"
    second = kit.cp.start_pipeline_execution(name=kit.name)["pipelineExecutionId"]
    assert watcher.finished(second) == "Succeeded"
    newest, oldest = kit.builds()
    assert "cache miss" in kit.log(oldest)
    assert "cache hit 1" in kit.log(newest)


# -- reports --------------------------------------------------------------------------------

JUNIT = """\
<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="calculator" tests="2" failures="1" time="0.5">
    <testcase classname="calculator" name="test_add" time="0.2"/>
    <testcase classname="calculator" name="test_divide" time="0.3">
      <failure message="expected 2 but got 3">AssertionError: expected 2 but got 3</failure>
    </testcase>
  </testsuite>
</testsuites>
"""


def test_a_junit_report_shows_the_failing_test_with_its_message(kit: BuildKit) -> None:
    watcher, execution, status = kit.run(
        """\
        version: 0.2
        phases:
          build:
            commands:
              - mkdir -p reports && cp junit.xml reports/junit.xml
        reports:
          unit:
            files:
              - "reports/*.xml"
            file-format: JUNITXML
        """,
        {"junit.xml": JUNIT},
    )
    # A failing test in a report does not fail the build; the command's status decides.
    assert status == "Succeeded"
    summary = watcher.actions(execution)["Build"]["output"]["executionResult"][
        "externalExecutionSummary"
    ]
    assert "2 tests: 1 passed, 1 failed" in summary
    assert "test_divide" in summary and "expected 2 but got 3" in summary
    build = kit.builds()[0]
    [report_arn] = build["reportArns"]
    report = kit.cb.batch_get_reports(reportArns=[report_arn])["reports"][0]
    assert report["status"] == "FAILED"
    assert report["testSummary"]["total"] == 2
    assert report["testSummary"]["statusCounts"]["FAILED"] == 1
    failed = kit.cb.describe_test_cases(reportArn=report_arn, filter={"status": "FAILED"})
    [case] = failed["testCases"]
    assert case["name"] == "test_divide" and "expected 2 but got 3" in case["message"]
    group = report["reportGroupArn"]
    assert group.endswith(f":report-group/{kit.name}-unit")
    assert kit.cb.list_reports_for_report_group(reportGroupArn=group)["reports"] == [report_arn]
    # The same, as a person reads it on the command line.
    printed = subprocess.run(
        [sys.executable, "-m", "stageline", "build", "reports", build["id"]],
        env={**os.environ, "STAGELINE_ENDPOINT_URL": kit.server.url},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "2 tests: 1 failed, 1 succeeded" in printed
    assert "FAILED    calculator.test_divide" in printed
    assert "expected 2 but got 3" in printed


# -- secrets, timeouts, stopping --------------------------------------------------------------


def test_secrets_are_masked_in_the_log(kit: BuildKit, server: ServerProcess) -> None:
    token = f"tok-{kit.name}-s3cr3t"
    server.client("secretsmanager").create_secret(
        Name=f"{kit.name}/deploy", SecretString=f'{{"token": "{token}"}}'
    )
    server.client("ssm").put_parameter(
        Name=f"/{kit.name}/db-password", Value="pa55-word-xyz", Type="SecureString"
    )
    _, _, status = kit.run(
        f"""\
        version: 0.2
        env:
          parameter-store:
            DB_PASSWORD: /{kit.name}/db-password
          secrets-manager:
            TOKEN: {kit.name}/deploy:token
        phases:
          build:
            commands:
              - echo "token is $TOKEN"
              - echo "password is $DB_PASSWORD"
              - echo "project variable is $FROM_PROJECT"
        """,
        project={
            "environment": {
                "environmentVariables": [
                    {
                        "name": "FROM_PROJECT",
                        "value": f"{kit.name}/deploy:token",
                        "type": "SECRETS_MANAGER",
                    }
                ]
            }
        },
    )
    assert status == "Succeeded"
    log = kit.log(kit.builds()[0])
    assert "token is ***" in log and "password is ***" in log
    assert "project variable is ***" in log
    assert token not in log and "pa55-word-xyz" not in log


def test_a_timeout_kills_the_whole_process_tree(kit: BuildKit, tmp_path: Path) -> None:
    pid_file = tmp_path / "sleep.pid"
    started = time.monotonic()
    _, _, status = kit.run(
        f"""\
        version: 0.2
        phases:
          build:
            commands:
              - sleep 60 & echo $! > {pid_file}; wait
        """,
        project={"timeoutInMinutes": 5},
    )
    assert status == "Failed"
    assert time.monotonic() - started < 30
    build = kit.builds()[0]
    assert build["buildStatus"] == "TIMED_OUT"
    pid = int(pid_file.read_text())
    assert not _alive(pid), "the build's sleep child survived the timeout"


def test_stop_build_stops_a_pipeline_build(kit: BuildKit, tmp_path: Path) -> None:
    pid_file = tmp_path / "sleep.pid"
    kit.repo(
        {
            "buildspec.yml": textwrap.dedent(
                f"""\
                version: 0.2
                phases:
                  build:
                    commands:
                      - sleep 60 & echo $! > {pid_file}; wait
                """
            )
        }
    )
    kit.project()
    watcher = kit.pipeline(("Build", [build_action(kit.name)]))
    execution = watcher.latest()
    wait_until(lambda: pid_file.exists() and pid_file.read_text().strip())
    [build] = kit.builds()
    assert build["buildStatus"] == "IN_PROGRESS" and build["currentPhase"] == "BUILD"
    kit.cb.stop_build(id=build["id"])
    assert watcher.finished(execution, timeout=30) == "Failed"
    [build] = kit.builds()
    assert build["buildStatus"] == "STOPPED"
    assert not _alive(int(pid_file.read_text()))


def test_a_missing_project_fails_the_action_saying_how_to_create_it(kit: BuildKit) -> None:
    kit.repo({"README": "no project\n"})
    watcher = kit.pipeline(("Build", [build_action("no-such-project")]))
    execution = watcher.latest()
    assert watcher.finished(execution) == "Failed"
    message = watcher.action_state("Build", "Build")["latestExecution"]["errorDetails"]["message"]
    assert "'no-such-project' does not exist" in message
    assert "create-project" in message


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its parent counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


# -- a real open-source project ---------------------------------------------------------------

TOOLZ = Path(__file__).parent.parent / "fixtures" / "oss" / "toolz"


def test_a_real_open_source_project_builds_and_tests_through_a_pipeline(kit: BuildKit) -> None:
    """toolz, vendored unchanged with a buildspec of ours, run through Source → Build → Check.

    The project's environment puts this virtualenv's bin directory (with pytest) first on
    PATH, as a build image would bring its tools.
    """
    files = {
        str(path.relative_to(TOOLZ)): path.read_text()
        for path in sorted(TOOLZ.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }
    kit.repo(files)
    venv_bin = Path(sys.executable).parent
    kit.project(
        environment={
            "environmentVariables": [{"name": "PATH", "value": f"{venv_bin}:{DEFAULT_PATH}"}]
        }
    )
    check = commands(
        "Check",
        [
            "test -f toolz/__init__.py && test -f LICENSE.txt && echo 'package ok'",
            "test ! -e toolz/tests && echo 'no tests packaged'",
            'grep -c "<testcase" "$CODEBUILD_SRC_DIR_TestResults/junit.xml"',
        ],
        inputs=("Package", "TestResults"),
    )
    watcher = kit.pipeline(
        (
            "Build",
            [
                build_action(
                    kit.name, outputs=("Package", "TestResults"), namespace="BuildVariables"
                )
            ],
        ),
        ("Check", [check]),
    )
    execution = watcher.latest()
    assert watcher.finished(execution, timeout=120) == "Succeeded"
    actions = watcher.actions(execution)
    assert actions["Build"]["output"]["outputVariables"]["TOOLZ_VERSION"] == "1.2.0"
    summary = actions["Build"]["output"]["executionResult"]["externalExecutionSummary"]
    assert "toolz-tests:" in summary and "passed" in summary and "failed" not in summary
    check_log = read_log(kit.server, actions["Check"]["actionExecutionId"])
    assert "package ok" in check_log and "no tests packaged" in check_log
    [build] = kit.builds()
    report = kit.cb.batch_get_reports(reportArns=build["reportArns"])["reports"][0]
    assert report["status"] == "SUCCEEDED" and report["testSummary"]["total"] > 100
