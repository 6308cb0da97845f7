"""One build of a project, from its sources to its recorded result.

Both ways a build starts end up here: a pipeline's CodeBuild action (the
agent has extracted the input artifacts) and StartBuild (the runner has
checked out the project's source). :func:`run_project_build` records the
build, reads the buildspec (inline, or a file of the primary source),
resolves the project's secret variables, runs the buildspec with
:func:`stageline.builds.run_build`, reads the ``reports`` groups, and records
how it ended. The caller gets the result, the report summaries and where the
artifacts were put.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stageline.builds import (
    ArtifactSpec,
    BuildInfo,
    BuildResult,
    Buildspec,
    BuildspecError,
    PhaseType,
    SecretResolver,
    Status,
    caller_variables,
    parse_buildspec,
    project_cache_dir,
    run_build,
    select_executor,
    select_files,
)
from stageline.builds.errors import ArtifactError, CacheError
from stageline.codebuild import projects
from stageline.codebuild.service import BuildService
from stageline.logs.records import SecretMasker
from stageline.reports import CoverageReport, ReportError, TestReport, parse_group, summary_line
from stageline.store.builds import ProjectRow

LogFn = Callable[[str], None]
_MAX_BUILDSPEC_BYTES = 1024 * 1024
#: Seconds in one minute of a build timeout. Only tests change it (docs/development.md), so a
#: 5-minute timeout, CodeBuild's smallest, can pass in a second.
MINUTE_SECONDS_ENV = "STAGELINE_MINUTE_SECONDS"


def _minute_seconds() -> float:
    try:
        return float(os.environ.get(MINUTE_SECONDS_ENV) or 60)
    except ValueError:
        return 60.0


@dataclass(frozen=True, kw_only=True)
class BuildRequest:
    """What one build runs: the project, its sources and the overrides of whoever started it."""

    project: ProjectRow
    initiator: str
    primary_source: Path
    secondary_sources: Mapping[str, Path] = field(default_factory=dict)
    workspace: Path
    artifacts_dir: Path | None = None
    cache_root: Path | None = None
    buildspec_override: str | None = None
    #: ``{name, value, type}`` items on top of the project's (StartBuild or the action's).
    environment_overrides: Sequence[Mapping[str, str]] = ()
    timeout_minutes: int | None = None
    deadline_monotonic: float | None = None
    source_version: str | None = None
    resolved_source_version: str | None = None
    source: Mapping[str, Any] | None = None
    action_execution_id: str | None = None
    log_id: str | None = None
    image_override: str | None = None
    executor: str = "auto"
    #: The StartBuild members RetryBuild needs to start the build again.
    start_params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class BuildOutcome:
    build: dict[str, Any]
    result: BuildResult | None
    #: Why the build could not run at all (no buildspec, a broken one, a secret not found).
    problem: str | None = None
    reports: tuple[TestReport | CoverageReport, ...] = ()
    report_lines: tuple[str, ...] = ()

    @property
    def build_id(self) -> str:
        return str(self.build["id"])

    @property
    def succeeded(self) -> bool:
        return self.result is not None and self.result.succeeded

    @property
    def status(self) -> str:
        return str(self.build["buildStatus"])

    def summary(self) -> str:
        """One line for the action's summary: the status, then the reports or the failure."""
        if self.problem:
            return self.problem
        assert self.result is not None
        head = {
            Status.SUCCEEDED: "Build succeeded",
            Status.FAILED: "Build failed",
            Status.TIMED_OUT: "Build timed out",
            Status.STOPPED: "Build stopped",
            Status.FAULT: "Build fault",
        }.get(self.result.status, f"Build {self.result.status.value}")
        parts = [f"{head} in {self.result.duration_s:.1f} s"]
        failure = self.result.failure
        if failure is not None and not self.result.succeeded:
            parts.append(f"{failure.status_code}: {failure.message}")
        parts.extend(self.report_lines)
        return "; ".join(parts)


def begin(service: BuildService, request: BuildRequest) -> dict[str, Any]:
    """Record the build as IN_PROGRESS (before it runs); returns its ``Build`` shape."""
    project = request.project
    return service.begin_build(
        project,
        initiator=request.initiator,
        source=dict(request.source or project.document.get("source") or {}),
        secondary_sources=project.document.get("secondarySources") or [],
        environment=_environment(request),
        timeout_minutes=_timeout_minutes(request),
        source_version=request.source_version,
        resolved_source_version=request.resolved_source_version,
        action_execution_id=request.action_execution_id,
        log_id=request.log_id,
        start_params=request.start_params,
    )


def run_project_build(
    service: BuildService,
    request: BuildRequest,
    *,
    log: LogFn,
    cancel: threading.Event,
    secret_resolver: SecretResolver | None = None,
    build: dict[str, Any] | None = None,
) -> BuildOutcome:
    """Run one build of ``request.project``; ``build`` is the record :func:`begin` made, if any."""
    build = build or begin(service, request)
    build_id = str(build["id"])
    service.register_running(build_id, cancel)
    try:
        return _run(
            service,
            request,
            build,
            _environment(request),
            _timeout_minutes(request),
            log,
            cancel,
            secret_resolver,
        )
    finally:
        service.unregister_running(build_id)


def _environment(request: BuildRequest) -> dict[str, Any]:
    environment = dict(request.project.document.get("environment") or {})
    if request.image_override:
        environment["image"] = request.image_override
    return environment


def _timeout_minutes(request: BuildRequest) -> int:
    return int(
        request.timeout_minutes
        or request.project.document.get("timeoutInMinutes")
        or projects.DEFAULT_TIMEOUT_MINUTES
    )


def _run(
    service: BuildService,
    request: BuildRequest,
    build: dict[str, Any],
    environment: dict[str, Any],
    timeout_minutes: int,
    log: LogFn,
    cancel: threading.Event,
    secret_resolver: SecretResolver | None,
) -> BuildOutcome:
    build_id = str(build["id"])
    project = request.project
    spec_or_problem = _buildspec(request)
    if isinstance(spec_or_problem, str):
        log(f"[stageline] {spec_or_problem}")
        return BuildOutcome(
            build=service.fail(build_id, spec_or_problem), result=None, problem=spec_or_problem
        )
    spec = spec_or_problem
    variables = [
        *(environment.get("environmentVariables") or []),
        *request.environment_overrides,
    ]
    env_or_problem = _variables(variables, secret_resolver)
    if isinstance(env_or_problem, str):
        log(f"[stageline] {env_or_problem}")
        return BuildOutcome(
            build=service.fail(build_id, env_or_problem), result=None, problem=env_or_problem
        )
    env, secrets = env_or_problem
    masker = SecretMasker(secrets)

    def masked(line: str) -> None:  # the project's secret variables, never in the log
        log(masker.mask(line))

    timeout_s = timeout_minutes * _minute_seconds()
    if request.deadline_monotonic is not None:
        timeout_s = min(timeout_s, request.deadline_monotonic - time.monotonic())
    if service.stop_requested(build_id):
        cancel.set()
    cache_dir = None
    cache_type = (project.document.get("cache") or {}).get("type", "NO_CACHE")
    if spec.cache is not None and cache_type == "NO_CACHE":
        log(
            "[stageline] the buildspec names cache paths but the project's cache type is "
            "NO_CACHE: set the project's cache type to LOCAL (or S3) to keep them between builds"
        )
    elif request.cache_root is not None and spec.cache is not None:
        try:
            cache_dir = project_cache_dir(request.cache_root, project.name)
        except CacheError as exc:
            log(f"[stageline] cache not used: {exc}")
    info = BuildInfo(
        project=project.name,
        build_id=build_id,
        build_number=int(build["buildNumber"]),
        initiator=request.initiator,
        resolved_source_version=request.resolved_source_version,
        region=service.ctx.region,
        account_id=service.ctx.account_id,
        image=environment.get("image"),
    )
    result = run_build(
        spec,
        info=info,
        workspace=request.workspace,
        primary_source=request.primary_source,
        secondary_sources=request.secondary_sources,
        env=env,
        log=masked,
        timeout_s=max(timeout_s, 0.001),
        cancel=cancel,
        secret_resolver=secret_resolver,
        artifacts_dir=request.artifacts_dir,
        cache_dir=cache_dir,
        executor=select_executor(request.executor, info.image),
        on_phase=_phase_recorder(service, build_id, masked),
    )
    reports, lines, arns = _reports(service, build_id, project.name, spec, request, masked)
    shaped = service.finish(
        build_id,
        result,
        report_arns=arns,
    )
    return BuildOutcome(
        build=shaped,
        result=result,
        reports=tuple(reports),
        report_lines=tuple(lines),
    )


def _phase_recorder(
    service: BuildService, build_id: str, log: LogFn
) -> Callable[[PhaseType], None]:
    """Shows the phase the build has entered in BatchGetBuilds while it runs."""

    def record(phase: PhaseType) -> None:
        try:
            service.progress_phase(build_id, phase.value)
        except Exception as exc:  # showing the phase is a courtesy; the build goes on
            log(f"[stageline] could not record phase {phase.value}: {exc}")

    return record


def _buildspec(request: BuildRequest) -> Buildspec | str:
    """The parsed buildspec, or the reason there is none to run."""
    reference = request.buildspec_override or projects.buildspec_reference(request.project.document)
    if projects.is_inline(reference):
        text, where = reference, "the inline buildspec"
    else:
        path = (request.primary_source / reference).resolve()
        root = request.primary_source.resolve()
        if not path.is_relative_to(root):
            return f"YAML_FILE_ERROR: buildspec path {reference!r} leads out of the source"
        if not path.is_file():
            return (
                f"YAML_FILE_ERROR: {reference} was not found in the primary source; add it to "
                "the repository, or give the project an inline buildspec (source.buildspec)"
            )
        if path.stat().st_size > _MAX_BUILDSPEC_BYTES:
            return f"YAML_FILE_ERROR: {reference} is larger than 1 MiB"
        text, where = path.read_text(encoding="utf-8", errors="replace"), reference
    try:
        return parse_buildspec(text)
    except BuildspecError as exc:
        return f"YAML_FILE_ERROR in {where}: {exc}"


def _variables(
    variables: Sequence[Mapping[str, Any]], resolver: SecretResolver | None
) -> tuple[dict[str, str], list[str]] | str:
    """The project's and the overrides' variables, secret ones resolved; later ones win."""
    plain: dict[str, str] = {}
    secrets: list[str] = []
    for item in variables:
        name, value = str(item.get("name", "")), str(item.get("value", ""))
        kind = str(item.get("type") or "PLAINTEXT")
        if kind == "PLAINTEXT":
            plain[name] = value
            continue
        source = {"PARAMETER_STORE": "parameter-store", "SECRETS_MANAGER": "secrets-manager"}.get(
            kind
        )
        if source is None:
            return (
                f"environment variable {name}: type {kind} is not one stageline reads; use "
                "PLAINTEXT, PARAMETER_STORE or SECRETS_MANAGER"
            )
        if resolver is None:
            return f"environment variable {name}: no secret store is configured to read {value!r}"
        try:
            resolved = resolver(source, value)  # type: ignore[arg-type]
        except Exception as exc:
            return f"environment variable {name} ({kind} {value!r}): {exc}"
        plain[name] = resolved
        secrets.append(resolved)
    return caller_variables(plain), secrets


def _reports(
    service: BuildService,
    build_id: str,
    project: str,
    spec: Buildspec,
    request: BuildRequest,
    log: LogFn,
) -> tuple[list[TestReport | CoverageReport], list[str], list[str]]:
    """Read each ``reports`` group from the primary source and keep it with the build."""
    reports: list[TestReport | CoverageReport] = []
    lines: list[str] = []
    arns: list[str] = []
    for group in spec.reports:
        selection = ArtifactSpec(
            identifier=None,
            files=group.files,
            base_directory=group.base_directory,
            discard_paths=group.discard_paths,
        )
        try:
            files = select_files(request.primary_source, selection)
        except (ArtifactError, OSError) as exc:
            log(f"[stageline] report group {group.name}: {exc}")
            continue
        if not files:
            log(f"[stageline] report group {group.name}: no report files matched {group.files}")
            continue
        parsed = parse_group([f.source for f in files], group.file_format)
        for problem in parsed.errors:
            log(f"[stageline] report group {group.name}: {problem}")
        if parsed.report is None:
            continue
        try:
            arns.append(service.store_report(build_id, project, group.name, parsed.report))
        except ReportError as exc:
            log(f"[stageline] report group {group.name}: {exc}")
            continue
        line = summary_line(parsed.report)
        log(f"[stageline] report group {group.name}: {line}")
        reports.append(parsed.report)
        lines.append(f"{group.name}: {line}")
    return reports, lines, arns
