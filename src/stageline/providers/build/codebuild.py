"""The CodeBuild action (``Build/AWS/CodeBuild/1`` and ``Test/AWS/CodeBuild/1``).

What we copy from AWS's "CodeBuild build and test action reference":

* ``ProjectName`` names a build project (CreateProject); the action runs that
  project's buildspec — the ``BuildspecOverride`` when given — on the input
  artifacts, not the project's own source.
* The first input artifact, or the one ``PrimarySource`` names, is the
  primary source: the working directory and ``CODEBUILD_SRC_DIR``. Every other
  input is at ``CODEBUILD_SRC_DIR_<artifact name>``.
* One output artifact takes the buildspec's primary ``artifacts``; with more
  than one, each output artifact takes the ``secondary-artifacts`` entry whose
  identifier is its name.
* ``EnvironmentVariables`` (a JSON array of ``{name, value, type}``) go on top
  of the project's variables; ``env.exported-variables`` become the action's
  output variables.
* The build id is the action's external execution id; the summary carries the
  test reports' counts and failing tests.

``BatchEnabled`` builds are not supported yet: such an action fails with a
configuration error that says so.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from stageline.builds import SecretResolver
from stageline.codebuild.execute import BuildOutcome, BuildRequest, run_project_build
from stageline.codebuild.service import BuildService
from stageline.definitions.catalog import ActionTypeKey
from stageline.providers.base import JobContext, JobResult


def _config_error(message: str) -> JobResult:
    return JobResult.failed(message, failure_type="ConfigurationError", summary=message)


class CodeBuildProvider:
    """Runs a CodeBuild action's project on this machine; see the module docstring."""

    def __init__(
        self,
        key: ActionTypeKey,
        builds: BuildService,
        *,
        data_dir: Path,
        secret_resolver: SecretResolver | None = None,
        executor: str = "auto",
    ) -> None:
        self.key = key
        self._builds = builds
        self._data_dir = data_dir
        self._resolver = secret_resolver
        self._executor = executor

    def run(self, job: JobContext) -> JobResult:
        config = job.configuration
        name = config.get("ProjectName", "")
        project = self._builds.project(name) if name else None
        if project is None:
            return _config_error(
                f"build project {name!r} does not exist; create it first, e.g. "
                f"`aws codebuild create-project --name {name or 'NAME'} --source type=CODEPIPELINE "
                "--artifacts type=CODEPIPELINE --environment "
                "type=LINUX_CONTAINER,image=aws/codebuild/standard:7.0,computeType=BUILD_GENERAL1_SMALL "
                "--service-role any` against this server"
            )
        if str(config.get("BatchEnabled", "false")).lower() == "true":
            return _config_error(
                "BatchEnabled builds are not supported by stageline yet; set BatchEnabled to false"
            )
        overrides = _environment_variables(config.get("EnvironmentVariables"))
        if isinstance(overrides, JobResult):
            return overrides
        if not job.inputs:
            return _config_error("the CodeBuild action needs at least one input artifact")
        primary_name = config.get("PrimarySource") or next(iter(job.inputs))
        if primary_name not in job.inputs:
            names = ", ".join(job.inputs)
            return _config_error(
                f"PrimarySource {primary_name!r} is not one of the action's input artifacts "
                f"({names})"
            )
        secondary = {n: d for n, d in job.inputs.items() if n != primary_name}
        p = job.pipeline
        artifacts_dir = job.workspace / ".stageline-artifacts"
        request = BuildRequest(
            project=project,
            initiator=f"codepipeline/{p.pipeline_name}",
            primary_source=job.inputs[primary_name],
            secondary_sources=secondary,
            workspace=job.workspace / ".stageline-build",
            artifacts_dir=artifacts_dir if job.outputs else None,
            cache_root=self._data_dir / "build-cache",
            buildspec_override=config.get("BuildspecOverride") or None,
            environment_overrides=overrides,
            deadline_monotonic=job.deadline_monotonic,
            resolved_source_version=_revision(job, primary_name),
            source={"type": "CODEPIPELINE"},
            action_execution_id=p.action_execution_id,
            log_id=p.action_execution_id,
            executor=self._executor,
        )
        outcome = run_project_build(
            self._builds, request, log=job.log, cancel=job.cancel, secret_resolver=self._resolver
        )
        return self._result(job, outcome)

    def _result(self, job: JobContext, outcome: BuildOutcome) -> JobResult:
        summary = outcome.summary()
        if not outcome.succeeded:
            return JobResult.failed(
                _failure_message(outcome), summary=summary, external_execution_id=outcome.build_id
            )
        assert outcome.result is not None
        placed = {a.identifier: a.directory for a in outcome.result.artifacts}
        for number, (name, destination) in enumerate(job.outputs.items()):
            wanted: str | None = None if len(job.outputs) == 1 else name
            source = placed.get(wanted)
            if source is None and number == 0 and None in placed and len(job.outputs) > 1:
                source = placed[None]  # AWS: the primary artifacts go to the first output
            if source is None:
                where = (
                    "an artifacts section"
                    if wanted is None
                    else f"a secondary-artifacts entry with identifier {name!r}"
                )
                message = f"the buildspec has no artifact for output artifact {name!r}: add {where}"
                return JobResult.failed(
                    message, summary=message, external_execution_id=outcome.build_id
                )
            shutil.copytree(source, destination, symlinks=True, dirs_exist_ok=True)
        return JobResult(
            succeeded=True,
            summary=summary,
            output_variables=dict(outcome.result.exported_variables),
            external_execution_id=outcome.build_id,
        )


def _failure_message(outcome: BuildOutcome) -> str:
    """AWS's wording: ``Build terminated with state: FAILED. Phase: BUILD, Code: ..., Message: ...``."""
    if outcome.problem:
        return outcome.problem
    assert outcome.result is not None
    text = f"Build terminated with state: {outcome.result.status.value}"
    for phase in outcome.result.phases:
        if phase.status is not None and phase.status.value != "SUCCEEDED" and phase.contexts:
            context = phase.contexts[0]
            return (
                f"{text}. Phase: {phase.phase_type.value}, Code: {context.status_code}, "
                f"Message: {context.message}"
            )
    return text + "."


def _environment_variables(raw: str | None) -> list[dict[str, str]] | JobResult:
    if not raw:
        return []
    try:
        items: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        return _config_error(f"EnvironmentVariables is not valid JSON: {exc}")
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get("name"), str) and "value" in i for i in items
    ):
        return _config_error(
            'EnvironmentVariables must be a JSON array of {"name": ..., "value": ..., "type": '
            "PLAINTEXT|PARAMETER_STORE|SECRETS_MANAGER} objects"
        )
    return [
        {"name": i["name"], "value": str(i["value"]), "type": str(i.get("type") or "PLAINTEXT")}
        for i in items
    ]


def _revision(job: JobContext, artifact: str) -> str | None:
    for art in (job.raw_job_data or {}).get("inputArtifacts", []):
        if art.get("name") == artifact:
            return art.get("revision")
    return None
