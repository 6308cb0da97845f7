"""The Commands action provider end to end in a temporary workspace."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from stageline.definitions.catalog import ActionTypeKey
from stageline.providers.base import JobContext, PipelineContext
from stageline.providers.compute.commands import CommandsProvider

KEY = ActionTypeKey(category="Compute", owner="AWS", provider="Commands", version="1")


class Job:
    """Builds a JobContext over a workspace with two inputs and one output."""

    def __init__(self, root: Path) -> None:
        self.workspace = root / "ws"
        self.source = self.workspace / "inputs" / "SourceOut"
        self.other = self.workspace / "inputs" / "ToolsOut"
        self.output = self.workspace / "outputs" / "BuildOut"
        for directory in (self.source, self.other, self.output):
            directory.mkdir(parents=True)
        (self.source / "app.txt").write_text("app\n")
        (self.other / "lib.txt").write_text("library\n")
        self.lines: list[str] = []

    def context(self, commands: list[str], **kw: Any) -> JobContext:
        values: dict[str, Any] = {
            "job_id": "job-1",
            "action_type": KEY,
            "configuration": {},
            "pipeline": PipelineContext(
                pipeline_name="web",
                pipeline_arn="arn:aws:codepipeline:eu-west-1:123456789012:web",
                execution_id="exec-1",
                stage_name="Build",
                action_name="Compile",
                action_execution_id="act-1",
                region="eu-west-1",
                account_id="123456789012",
            ),
            "workspace": self.workspace,
            "inputs": {"SourceOut": self.source, "ToolsOut": self.other},
            "outputs": {"BuildOut": self.output},
            "log": self.lines.append,
            "commands": tuple(commands),
        }
        values.update(kw)
        return JobContext(**values)


@pytest.fixture
def job(tmp_path: Path) -> Job:
    return Job(tmp_path)


def outputs(job: Job) -> set[str]:
    return {p.relative_to(job.output).as_posix() for p in job.output.rglob("*") if p.is_file()}


def test_key_is_the_commands_action_type() -> None:
    assert CommandsProvider.key == KEY


def test_success_copies_files_by_glob_and_reads_output_variables(job: Job) -> None:
    ctx = job.context(
        [
            "mkdir -p dist/sub",
            "echo a > dist/a.txt",
            "echo b > dist/sub/b.txt",
            "echo notes > notes.md",
            "export VERSION=1.2.3",
        ],
        output_files={"BuildOut": ("dist/**/*",)},
        output_variable_names=("VERSION", "CODEBUILD_BUILD_ID"),
    )
    result = CommandsProvider().run(ctx)
    assert result.succeeded, (result.message, job.lines)
    assert outputs(job) == {"dist/a.txt", "dist/sub/b.txt"}
    assert (job.output / "dist/sub/b.txt").read_text() == "b\n"
    assert result.output_variables == {
        "VERSION": "1.2.3",
        "CODEBUILD_BUILD_ID": "stageline-commands:act-1",
    }
    assert result.summary is not None
    assert result.summary.startswith("5 commands succeeded in ")
    assert "Running command: echo notes > notes.md" in job.lines


def test_workspace_layout_and_codebuild_variables(job: Job) -> None:
    ctx = job.context(
        [
            "pwd",
            'echo "src=$CODEBUILD_SRC_DIR"',
            'cat "$CODEBUILD_SRC_DIR_ToolsOut/lib.txt"',
            'echo "init=$CODEBUILD_INITIATOR region=$AWS_REGION"',
            'echo "exec=$STAGELINE_PIPELINE_EXECUTION_ID"',
            'test -z "$CODEBUILD_SRC_DIR_SourceOut" && echo "no primary alias"',
        ]
    )
    result = CommandsProvider().run(ctx)
    assert result.succeeded, job.lines
    assert str(job.source) in job.lines
    assert f"src={job.source}" in job.lines
    assert "library" in job.lines
    assert "init=codepipeline/web region=eu-west-1" in job.lines
    assert "exec=exec-1" in job.lines
    assert "no primary alias" in job.lines


def test_environment_variables_reach_the_commands_but_not_the_agents(
    job: Job, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGELINE_TEST_SENTINEL", "leaked")
    ctx = job.context(
        ["env"],
        environment={"GREETING": "hello", "CODEBUILD_BUILD_ID": "spoofed"},
    )
    result = CommandsProvider().run(ctx)
    assert result.succeeded
    assert "GREETING=hello" in job.lines
    assert "CODEBUILD_BUILD_ID=stageline-commands:act-1" in job.lines
    assert not any("leaked" in line or "spoofed=" in line for line in job.lines)
    assert any("ignored environment variable CODEBUILD_BUILD_ID" in line for line in job.lines)
    home = job.workspace / ".stageline" / "home"
    assert f"HOME={home}" in job.lines


def test_a_failing_command_fails_the_action_and_is_named(job: Job) -> None:
    ctx = job.context(["echo one", "ls /no/such/dir", "echo three"])
    result = CommandsProvider().run(ctx)
    assert not result.succeeded
    assert result.failure_type == "JobFailed"
    assert result.message == "command 'ls /no/such/dir' exited with 2"
    assert result.summary == "command 2 of 3 ('ls /no/such/dir') failed with exit code 2"
    assert "three" not in job.lines
    assert outputs(job) == set()


def test_a_missing_output_variable_fails_naming_it(job: Job) -> None:
    ctx = job.context(
        ["export PRESENT=1", "NOT_EXPORTED=2"],
        output_variable_names=("PRESENT", "NOT_EXPORTED", "NEVER_SET"),
    )
    result = CommandsProvider().run(ctx)
    assert not result.succeeded
    assert result.message is not None
    assert "NOT_EXPORTED, NEVER_SET" in result.message
    assert "PRESENT" not in result.message


def test_output_variables_over_the_quota_fail(job: Job) -> None:
    ctx = job.context(
        ['export BIG="$(head -c 130000 /dev/zero | tr "\\0" x)"'],
        output_variable_names=("BIG",),
    )
    result = CommandsProvider().run(ctx)
    assert not result.succeeded
    assert result.message is not None and "122880-byte quota" in result.message


def test_timeout_stops_the_commands_and_names_the_timeout(job: Job) -> None:
    ctx = job.context(
        ["echo start", f"sleep 1000 & echo $! > {job.workspace}/bg.pid; sleep 30"],
        deadline_monotonic=time.monotonic() + 1.0,
    )
    started = time.monotonic()
    result = CommandsProvider(kill_grace_s=1.0).run(ctx)
    assert time.monotonic() - started < 10
    assert not result.succeeded
    assert result.message is not None
    assert result.message.startswith("the commands timed out: the action's timeout (1.0 s)")
    assert "command 2 of 2" in result.message
    bg = int((job.workspace / "bg.pid").read_text())
    assert not Path(f"/proc/{bg}").exists() or b") Z " in Path(f"/proc/{bg}/stat").read_bytes()


def test_a_deadline_already_past_fails_without_running(job: Job) -> None:
    ctx = job.context(["touch ran"], deadline_monotonic=time.monotonic() - 1)
    result = CommandsProvider().run(ctx)
    assert not result.succeeded
    assert not (job.source / "ran").exists()


def test_cancel_stops_the_commands(job: Job) -> None:
    cancel = threading.Event()

    def log(line: str) -> None:
        job.lines.append(line)
        if line == "waiting":
            cancel.set()

    ctx = job.context(["echo waiting; sleep 30"], cancel=cancel, log=log)
    result = CommandsProvider(kill_grace_s=1.0).run(ctx)
    assert not result.succeeded
    assert result.message is not None and result.message.startswith("the action was cancelled")


def test_no_matching_files_fails_like_codebuild(job: Job) -> None:
    ctx = job.context(["true"], output_files={"BuildOut": ("dist/**/*", "*.jar")})
    result = CommandsProvider().run(ctx)
    assert not result.succeeded
    assert result.message is not None
    assert "BuildOut" in result.message and "*.jar" in result.message


def test_output_without_files_takes_everything(job: Job) -> None:
    ctx = job.context(["mkdir d", "echo x > d/x", "echo y > .hidden"])
    result = CommandsProvider().run(ctx)
    assert result.succeeded
    assert outputs(job) == {"app.txt", "d/x", ".hidden"}


def test_symlinks_leading_out_are_not_exported(job: Job) -> None:
    secret = job.workspace.parent / "secret.txt"
    secret.write_text("agent secret")
    ctx = job.context(
        [f"ln -s {secret} leak", "ln -s app.txt inside", f"ln -s {job.workspace.parent} dirlink"],
        output_files={"BuildOut": ("**/*",)},
    )
    result = CommandsProvider().run(ctx)
    assert result.succeeded, result.message
    assert outputs(job) == {"app.txt", "inside"}
    assert (job.output / "inside").read_text() == "app\n"
    assert any("skipped symbolic link leak" in line for line in job.lines)


def test_no_input_artifact_runs_in_an_empty_directory(job: Job) -> None:
    ctx = job.context(["pwd", "ls -A | wc -l"], inputs={}, outputs={})
    result = CommandsProvider().run(ctx)
    assert result.succeeded
    assert str(job.workspace / "src") in job.lines
    assert "0" in job.lines


def test_sh_can_be_chosen(job: Job) -> None:
    ctx = job.context(["cd inner 2>/dev/null || mkdir inner && cd inner", "pwd"])
    result = CommandsProvider(shell="sh").run(ctx)
    assert result.succeeded
    assert str(job.source / "inner") in job.lines


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"commands": ()}, "at least one command"),
        ({"output_files": {"BuildOut": ("../escape/*",)}}, "'..'"),
        ({"output_files": {"BuildOut": ("/etc/*",)}}, "absolute"),
    ],
)
def test_configuration_errors(job: Job, kw: dict[str, Any], message: str) -> None:
    ctx = job.context(list(kw.pop("commands", ["true"])), **kw)
    result = CommandsProvider().run(ctx)
    assert not result.succeeded
    assert result.failure_type == "ConfigurationError"
    assert result.message is not None and message in result.message
