"""The Commands action (``Compute/AWS/Commands/1``): the declaration's shell commands, run for real.

What we copy from AWS's "Commands action reference" and the CodeBuild it runs on:

* ``commands`` (1 to 50, single-line) run in order in one shell, so ``cd`` and
  ``export`` carry over; the first failing command fails the action and is
  named in the error.
* The input artifacts (1 to 10) are all there; the first is the primary
  source: the working directory and ``CODEBUILD_SRC_DIR``. Every other one is
  at ``CODEBUILD_SRC_DIR_<artifact name>``, as for a CodeBuild action with
  several inputs.
* ``environmentVariables`` are in the environment with CodeBuild's own
  (``CODEBUILD_BUILD_ID``, ``CODEBUILD_INITIATOR`` = ``codepipeline/<pipeline>``,
  ``AWS_REGION``...). Names starting with ``CODEBUILD_`` are reserved, as in
  CodeBuild: a user value for one is ignored with a note in the log.
* ``outputVariables`` name variables of the shell's environment at the end
  (``export NAME=value``); each must be set, and all together fit AWS's
  122,880-byte quota. ``CODEBUILD_BUILD_ID`` can be one, as in AWS's example.
* The output artifact (0 or 1) holds the files its ``files`` globs select,
  relative to the primary directory; none matching fails the action like
  CodeBuild's "no matching artifact paths found".
* The default timeout is 55 minutes; the agent turns it into
  ``deadline_monotonic``, after which the whole process tree is stopped.

Where AWS says nothing we decided: no input artifact runs in an empty
directory; an output artifact without ``files`` takes every file; HOME and
TMPDIR are fresh directories in the job's workspace (a fresh build container
has nothing of the previous build either); ``STAGELINE_*`` variables give
the pipeline context, because AWS only offers it through ``#{codepipeline...}``
references, which the engine resolves before the job starts.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping
from pathlib import Path

from stageline.definitions.catalog import ActionTypeKey
from stageline.providers.base import JobContext, JobResult
from stageline.providers.compute.files import PatternError, compile_patterns, copy_matching
from stageline.runner.shell import ShellResult, build_clean_env, run_commands

OUTPUT_VARIABLES_MAX_BYTES = 122_880
RESERVED_PREFIX = "CODEBUILD_"
_ALL_FILES = ("**/*",)
_QUOTED_MAX = 200


def _quoted(command: str) -> str:
    text = command if len(command) <= _QUOTED_MAX else command[: _QUOTED_MAX - 3] + "..."
    return f"'{text}'"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


class CommandsProvider:
    """Runs a Commands action's ``commands`` on this machine; see the module docstring."""

    key = ActionTypeKey(category="Compute", owner="AWS", provider="Commands", version="1")

    def __init__(self, *, shell: str | None = None, kill_grace_s: float = 3.0) -> None:
        # AWS's Linux images run commands with bash; fall back to sh where bash is absent.
        self._shell = shell
        self._kill_grace_s = kill_grace_s

    def run(self, job: JobContext) -> JobResult:
        if not job.commands:
            return JobResult.failed(
                "the Commands action needs at least one command in 'commands'",
                failure_type="ConfigurationError",
            )
        try:
            globs = {
                name: compile_patterns(job.output_files.get(name) or _ALL_FILES)
                for name in job.outputs
            }
        except PatternError as error:
            return JobResult.failed(
                f"output artifact files: {error}", failure_type="ConfigurationError"
            )

        primary = self._primary_directory(job)
        env = self.environment(job, primary)
        timeout_s = None
        if job.deadline_monotonic is not None:
            timeout_s = job.deadline_monotonic - time.monotonic()
            if timeout_s <= 0:
                return JobResult.failed("the action's timeout passed before the commands started")
        shell = self._shell or ("bash" if shutil.which("bash", path=env["PATH"]) else "sh")
        try:
            result = run_commands(
                job.commands,
                cwd=primary,
                env=env,
                log=job.log,
                shell=shell,
                timeout_s=timeout_s,
                cancel=job.cancel,
                capture_env=bool(job.output_variable_names),
                kill_grace_s=self._kill_grace_s,
            )
        except OSError as error:
            return JobResult.failed(f"could not start the shell: {error}")
        if not result.succeeded:
            return self._failure(job, result, timeout_s)

        variables = self._output_variables(job, result)
        if isinstance(variables, JobResult):
            return variables
        for name, destination in job.outputs.items():
            report = copy_matching(primary, destination, globs[name], exclude=job.outputs.values())
            for link in report.skipped_links:
                job.log(f"[stageline] skipped symbolic link {link}: it leads out of the directory")
            if report.copied == 0:
                patterns = [g.pattern for g in globs[name]]
                return JobResult.failed(
                    f"no files match output artifact '{name}' files {patterns} "
                    f"in the primary source directory"
                )
            job.log(f"[stageline] output artifact {name}: {report.copied} file(s)")
        count = len(job.commands)
        noun = "command" if count == 1 else "commands"
        return JobResult(
            succeeded=True,
            summary=f"{count} {noun} succeeded in {_duration(result.duration_s)}",
            output_variables=variables,
        )

    def _primary_directory(self, job: JobContext) -> Path:
        for directory in job.inputs.values():
            return directory
        empty = job.workspace / "src"
        empty.mkdir(parents=True, exist_ok=True)
        return empty

    def environment(self, job: JobContext, primary: Path) -> dict[str, str]:
        """The commands' whole environment: a clean base, CodeBuild's variables, then the
        action's ``environmentVariables`` (which may override all but ``CODEBUILD_*``)."""
        private = job.workspace / ".stageline"
        (private / "home").mkdir(parents=True, exist_ok=True)
        (private / "tmp").mkdir(parents=True, exist_ok=True)
        env = build_clean_env({"HOME": str(private / "home"), "TMPDIR": str(private / "tmp")})
        env.update(self._context_variables(job, primary))
        for name, value in job.environment.items():
            if name.startswith(RESERVED_PREFIX):
                job.log(f"[stageline] ignored environment variable {name}: the prefix is reserved")
            else:
                env[name] = value
        return env

    def _context_variables(self, job: JobContext, primary: Path) -> Mapping[str, str]:
        p = job.pipeline
        build_id = f"stageline-commands:{p.action_execution_id}"
        variables = {
            "AWS_REGION": p.region,
            "AWS_DEFAULT_REGION": p.region,
            "CODEBUILD_BUILD_ID": build_id,
            "CODEBUILD_BUILD_ARN": f"arn:aws:codebuild:{p.region}:{p.account_id}:build/{build_id}",
            "CODEBUILD_INITIATOR": f"codepipeline/{p.pipeline_name}",
            "CODEBUILD_BUILD_SUCCEEDING": "1",
            "CODEBUILD_SRC_DIR": str(primary),
            "STAGELINE_PIPELINE_NAME": p.pipeline_name,
            "STAGELINE_PIPELINE_EXECUTION_ID": p.execution_id,
            "STAGELINE_STAGE_NAME": p.stage_name,
            "STAGELINE_ACTION_NAME": p.action_name,
            "STAGELINE_ACTION_EXECUTION_ID": p.action_execution_id,
            "STAGELINE_JOB_ID": job.job_id,
        }
        for name, directory in list(job.inputs.items())[1:]:
            variables[f"CODEBUILD_SRC_DIR_{name}"] = str(directory)
        return variables

    def _failure(self, job: JobContext, result: ShellResult, timeout_s: float | None) -> JobResult:
        count = len(job.commands)
        where = ""
        if result.failed_index is not None and result.failed_command is not None:
            where = (
                f"command {result.failed_index + 1} of {count} ({_quoted(result.failed_command)})"
            )
        if result.cancelled:
            message = "the action was cancelled" + (f" while running {where}" if where else "")
            return JobResult.failed(message, summary=message)
        if result.timed_out:
            limit = _duration(timeout_s or result.duration_s)
            message = f"the commands timed out: the action's timeout ({limit}) passed" + (
                f" while running {where}" if where else ""
            )
            return JobResult.failed(message, summary=message)
        if result.failed_command is None:
            message = f"the shell exited with {result.exit_code}"
            return JobResult.failed(message, summary=message)
        message = f"command {_quoted(result.failed_command)} exited with {result.exit_code}"
        return JobResult.failed(
            message, summary=f"{where} failed with exit code {result.exit_code}"
        )

    def _output_variables(self, job: JobContext, result: ShellResult) -> dict[str, str] | JobResult:
        if not job.output_variable_names:
            return {}
        exported = result.exported_env or {}
        missing = [name for name in job.output_variable_names if name not in exported]
        if missing:
            names = ", ".join(missing)
            return JobResult.failed(
                f"output variable(s) {names} not set when the commands finished; "
                f"set each with 'export NAME=value' in a command",
            )
        variables = {name: exported[name] for name in job.output_variable_names}
        size = sum(len(k.encode()) + len(v.encode()) for k, v in variables.items())
        if size > OUTPUT_VARIABLES_MAX_BYTES:
            return JobResult.failed(
                f"output variables take {size} bytes, more than the "
                f"{OUTPUT_VARIABLES_MAX_BYTES}-byte quota for one action"
            )
        return variables
