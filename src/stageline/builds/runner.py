"""Running a buildspec the way CodeBuild does: phases, one shell, transitions, outputs.

:func:`run_build` goes through CodeBuild's phase types in order (SUBMITTED …
COMPLETED). PROVISIONING resolves secrets, assembles the environment
(:mod:`stageline.builds.environment`) and finds the shell; DOWNLOAD_SOURCE
checks the sources, restores the cache and starts one shell
(:class:`~stageline.builds.session.ShellSession`) in ``CODEBUILD_SRC_DIR``; INSTALL, PRE_BUILD,
BUILD and POST_BUILD run the buildspec's commands in that one shell, each
phase's ``finally`` after its commands whether they failed or not; where a
failure leads is :mod:`stageline.builds.transitions`' business. After
POST_BUILD the exported variables and artifact names are read from the shell,
UPLOAD_ARTIFACTS copies the artifacts and saves the cache (successful builds
only), and FINALIZING stops the shell and anything it left running.

Where the shell runs is the ``executor``'s choice
(:mod:`stageline.builds.executors`): on this machine unless told otherwise;
its note on that, if it has one, is the first line of the log.

The log gets CodeBuild-style lines (``[Container] 2024/05/01 12:00:00.123456
Running command make``) between the commands' own output, with every resolved
secret masked. The timeout counts from the start of the build; on timeout or
cancel the whole process tree is stopped and the build ends TIMED_OUT or
STOPPED. Exceptions from the caller's callbacks propagate after the shell is
stopped.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from stageline.builds.artifacts import produce_artifacts
from stageline.builds.buildspec import Buildspec
from stageline.builds.cache import restore_cache, save_cache
from stageline.builds.environment import (
    SOURCE_IDENTIFIER,
    BuildInfo,
    build_environment,
    resolve_secrets,
)
from stageline.builds.errors import ArtifactError, CacheError
from stageline.builds.executors import Executor, HostExecutor
from stageline.builds.phases import PhaseExecutor
from stageline.builds.results import (
    BUILDSPEC_PHASES,
    ArtifactOutput,
    BuildResult,
    PhaseContext,
    PhaseResult,
    PhaseType,
    Status,
)
from stageline.builds.secrets import SecretResolver
from stageline.builds.session import ShellSession
from stageline.builds.transitions import Next, after_failure
from stageline.logs.records import SecretMasker

LogFn = Callable[[str], None]
DEFAULT_SHELL = "sh"


def run_build(
    spec: Buildspec,
    *,
    info: BuildInfo,
    workspace: Path,
    primary_source: Path,
    secondary_sources: Mapping[str, Path] | None = None,
    env: Mapping[str, str] | None = None,
    log: LogFn,
    timeout_s: float | None = None,
    cancel: threading.Event | None = None,
    secret_resolver: SecretResolver | None = None,
    artifacts_dir: Path | None = None,
    cache_dir: Path | None = None,
    cache_fs_root: Path = Path("/"),
    kill_grace_s: float = 3.0,
    executor: Executor | None = None,
    on_phase: Callable[[PhaseType], None] | None = None,
) -> BuildResult:
    """Run ``spec`` and return how it went; the log gets every line as it happens.

    ``env`` is the caller's variables (project, then start-build or action
    overrides on top: :func:`~stageline.builds.environment.caller_variables`);
    they win over the buildspec's. ``workspace`` holds the runner's private
    files while the build runs. With ``artifacts_dir`` the artifacts are copied
    there (``primary/``, ``secondary/<id>/``); with ``cache_dir`` (see
    :func:`~stageline.builds.cache.project_cache_dir`) ``cache.paths`` are
    restored before INSTALL and saved after a successful build. ``executor``
    (see :func:`~stageline.builds.executors.select_executor`) says where the
    commands run; by default on this machine. ``on_phase`` is told each phase
    as the build enters it.
    """
    secondary = dict(secondary_sources or {})
    paths = [workspace, primary_source, *secondary.values()]
    where = (executor or HostExecutor()).bind(build_id=info.build_id, paths=paths)
    build = _Build(spec, info=info, log=log, executor=where)
    build.on_phase = on_phase
    build.deadline = None if timeout_s is None else time.monotonic() + timeout_s
    build.timeout_s, build.cancel, build.grace = timeout_s, cancel, kill_grace_s
    build.source, build.secondary = primary_source, secondary
    build.artifacts_dir, build.cache_dir, build.fs_root = artifacts_dir, cache_dir, cache_fs_root
    workspace.mkdir(parents=True, exist_ok=True)
    control = Path(tempfile.mkdtemp(prefix=".stageline-build-", dir=workspace))
    if where.isolated:  # absolute cache paths are the container's, not this machine's
        build.fs_root = control / "fs-root"
        build.fs_root.mkdir()
    try:
        return build.run(control, env or {}, secret_resolver)
    finally:
        build.stop_shell()
        shutil.rmtree(control, ignore_errors=True)


class _Build:
    """The state of one build while it runs; :func:`run_build` is its only user."""

    deadline: float | None = None
    timeout_s: float | None = None
    cancel: threading.Event | None = None
    grace: float = 3.0
    on_phase: Callable[[PhaseType], None] | None = None
    source: Path
    secondary: dict[str, Path]
    artifacts_dir: Path | None = None
    cache_dir: Path | None = None
    fs_root: Path = Path("/")

    def __init__(self, spec: Buildspec, *, info: BuildInfo, log: LogFn, executor: Executor) -> None:
        self.spec, self.info, self._log, self.where = spec, info, log, executor
        self.masker = SecretMasker()
        self.session: ShellSession | None = None
        self.executor: PhaseExecutor | None = None
        self.phases: list[PhaseResult] = []
        self.failed = False
        self.stopped: Status | None = None  # TIMED_OUT or STOPPED
        self.exported: dict[str, str] = {}
        self.names: dict[str | None, str | None] = {}
        self.artifacts: list[ArtifactOutput] = []

    # -- logging -----------------------------------------------------------------------------

    def output(self, line: str) -> None:
        line = self.masker.mask(line)
        if self.executor is not None:
            self.executor.observe(line)
        self._log(line)

    def enter(self, phase: PhaseType) -> None:
        self.say(f"Entering phase {phase.value}")
        if self.on_phase is not None:
            self.on_phase(phase)

    def say(self, text: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y/%m/%d %H:%M:%S.%f")
        for line in text.split("\n"):
            self._log(self.masker.mask(f"[Container] {stamp} {line}"))

    def record(
        self, phase: PhaseType, start: datetime, status: Status, *contexts: PhaseContext
    ) -> None:
        end = datetime.now(UTC)
        self.phases.append(
            PhaseResult(phase_type=phase, status=status, start=start, end=end, contexts=contexts)
        )
        self.say(f"Phase complete: {phase.value} State: {status.value}")
        for context in contexts:
            self.say(f"Phase context status code: {context.status_code} Message: {context.message}")
        if status is not Status.SUCCEEDED:
            self.failed = True

    # -- the build ---------------------------------------------------------------------------

    def run(
        self, control: Path, caller_env: Mapping[str, str], resolver: SecretResolver | None
    ) -> BuildResult:
        started = datetime.now(UTC)
        if self.where.note:
            self.say(self.where.note)
        for phase in (PhaseType.SUBMITTED, PhaseType.QUEUED):
            self.phases.append(
                PhaseResult(phase_type=phase, status=Status.SUCCEEDED, start=started, end=started)
            )
        ready = self.provision(control, caller_env, resolver) and self.download_source()
        upload = ready and self.buildspec_phases()
        if self.session is not None and self.session.pid is not None:
            self.read_outputs()
        if upload:
            self.upload()
        start = datetime.now(UTC)
        self.enter(PhaseType.FINALIZING)
        self.stop_shell()
        self.record(PhaseType.FINALIZING, start, Status.SUCCEEDED)
        end = datetime.now(UTC)
        self.phases.append(
            PhaseResult(phase_type=PhaseType.COMPLETED, status=None, start=end, end=None)
        )
        return BuildResult(
            build_id=self.info.build_id,
            status=self.stopped or (Status.FAILED if self.failed else Status.SUCCEEDED),
            start=started,
            end=end,
            phases=tuple(self.phases),
            exported_variables=MappingProxyType(dict(self.exported)),
            artifacts=tuple(self.artifacts),
        )

    def provision(
        self, control: Path, caller_env: Mapping[str, str], resolver: SecretResolver | None
    ) -> bool:
        start = datetime.now(UTC)
        self.enter(PhaseType.PROVISIONING)
        if self.where.problem:
            self.record(
                PhaseType.PROVISIONING, start, Status.FAILED, _client_error(self.where.problem)
            )
            return False
        problems = [
            f"secondary source identifier {name!r} must be letters, digits and '_'"
            for name in self.secondary
            if not SOURCE_IDENTIFIER.fullmatch(name)
        ]
        secrets, secret_problems = resolve_secrets(self.spec, resolver)
        self.masker = SecretMasker(secrets.values())
        if problems or secret_problems:
            message = "; ".join(problems + secret_problems)
            self.record(PhaseType.PROVISIONING, start, Status.FAILED, _client_error(message))
            return False
        env = build_environment(
            self.spec,
            info=self.info,
            caller_env=caller_env,
            secrets=secrets,
            primary_source=self.source,
            secondary_sources=self.secondary,
            start_ms=int(start.timestamp() * 1000),
        )
        shell = self.spec.env.shell or DEFAULT_SHELL
        env, notes = self.where.adapt_env(env, control_dir=control)
        try:
            session = ShellSession(
                shell=shell,
                cwd=self.source,
                env=env,
                control_dir=control,
                on_line=self.output,
                kill_grace_s=self.grace,
                executor=self.where,
            )
        except FileNotFoundError as exc:
            self.record(PhaseType.PROVISIONING, start, Status.FAILED, _client_error(str(exc)))
            return False
        problem = self.where.prepare(say=self.say, deadline=self.deadline, cancel=self.cancel)
        if problem is not None:
            self.stopped = self.stop_reason()
            context = self.stop_context() if self.stopped else _client_error(problem)
            self.record(PhaseType.PROVISIONING, start, self.stopped or Status.FAILED, context)
            return False
        self.session = session
        for note in notes:
            self.say(note)
        self.say(f"Running the build's commands in one {shell} shell {self.where.describe()}")
        if self.spec.env.git_credential_helper:
            self.say("git-credential-helper: git uses the credentials configured on this machine")
        self.record(PhaseType.PROVISIONING, start, Status.SUCCEEDED)
        return True

    def download_source(self) -> bool:
        start = datetime.now(UTC)
        self.enter(PhaseType.DOWNLOAD_SOURCE)
        for name, path in {"primary": self.source, **self.secondary}.items():
            if not path.is_dir():
                message = f"{name} source directory {str(path)!r} does not exist"
                self.record(PhaseType.DOWNLOAD_SOURCE, start, Status.FAILED, _client_error(message))
                return False
        cache = self.spec.cache
        if cache is not None and self.cache_dir is not None and self.where.isolated:
            for pattern in (p for p in cache.paths if p.startswith("/")):
                self.say(f"Cache path {pattern} is inside the build's container and is not kept")
        if cache is not None and self.cache_dir is not None and cache.restores:
            try:
                count = restore_cache(self.cache_dir, source_dir=self.source, fs_root=self.fs_root)
                self.say(f"Restored {count} cached file(s)" if count else "No cache to restore")
            except (OSError, CacheError) as exc:  # CodeBuild warns and builds without the cache
                self.say(f"Unable to restore the cache: {exc}")
        assert self.session is not None
        try:  # the shell starts in CODEBUILD_SRC_DIR, so only once the sources are there
            self.session.start()
        except OSError as exc:
            self.session = None
            message = f"cannot start the build's shell: {exc}"
            self.record(PhaseType.DOWNLOAD_SOURCE, start, Status.FAILED, _client_error(message))
            return False
        # A shell that cannot start (a container whose image has no such shell) ends at once.
        ready = self.session.run(":", deadline=self.deadline, cancel=self.cancel, quiet=True)
        if ready.stopped is not None:
            self.session = None  # stopping stopped its whole process tree
            self.stopped = Status.TIMED_OUT if ready.stopped == "timeout" else Status.STOPPED
            self.record(PhaseType.DOWNLOAD_SOURCE, start, self.stopped, self.stop_context())
            return False
        if ready.shell_exited:
            self.stop_shell()
            message = (
                f"the build's shell did not start {self.where.describe()}: "
                f"exit status {ready.exit_code}"
            )
            self.record(PhaseType.DOWNLOAD_SOURCE, start, Status.FAILED, _client_error(message))
            return False
        self.record(PhaseType.DOWNLOAD_SOURCE, start, Status.SUCCEEDED)
        return True

    def buildspec_phases(self) -> bool:
        """Run INSTALL … POST_BUILD; returns whether artifacts are to be uploaded."""
        for name, phase_type in BUILDSPEC_PHASES:
            succeeded = self.phase(name, phase_type)
            if self.stopped is not None:
                return False
            if succeeded:
                continue
            assert self.session is not None
            self.session.run_quiet("export CODEBUILD_BUILD_SUCCEEDING=0")
            phase = self.spec.phase(name)
            if after_failure(name, phase.on_failure if phase else None) is Next.FINALIZE:
                return False
        return True

    def phase(self, name: str, phase_type: PhaseType) -> bool:
        start = datetime.now(UTC)
        self.enter(phase_type)
        spec = self.spec.phase(name)
        if spec is None:
            self.record(phase_type, start, Status.SUCCEEDED)
            return True
        run_as = spec.run_as or self.spec.run_as
        if run_as:
            self.say(f"run-as {run_as} is not applied: commands run {self.where.describe()}")
        for runtime, version in spec.runtime_versions.items():
            self.say(
                f"Runtime version {runtime} {version} requested; using {self.where.tools} tools"
            )
        assert self.session is not None
        self.executor = PhaseExecutor(
            self.session,
            say=self.say,
            deadline=self.deadline,
            cancel=self.cancel,
            isolated=not self.spec.shared_shell,
        )
        context = self.executor.run(spec, phase_type)
        stopped, self.executor = self.executor.stopped, None
        if stopped is not None:
            self.session = None  # the executor stopped its whole process tree
            self.stopped = Status.TIMED_OUT if stopped == "timeout" else Status.STOPPED
            self.say(
                f"Build timed out after {self.timeout_s:g} s; stopped every process of the build"
                if stopped == "timeout"
                else "Build stopped; stopped every process of the build"
            )
            self.record(phase_type, start, self.stopped, self.stop_context())
            return False
        if context is not None:
            self.record(phase_type, start, Status.FAILED, context)
            return False
        self.record(phase_type, start, Status.SUCCEEDED)
        return True

    def stop_reason(self) -> Status | None:
        """TIMED_OUT or STOPPED when the deadline has passed or the build was cancelled."""
        if self.cancel is not None and self.cancel.is_set():
            return Status.STOPPED
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return Status.TIMED_OUT
        return None

    def stop_context(self) -> PhaseContext:
        if self.stopped is Status.TIMED_OUT:
            return PhaseContext(
                status_code="BUILD_TIMED_OUT",
                message=f"Build has timed out. Build timeout is {self.timeout_s:g} seconds",
            )
        return PhaseContext(status_code="BUILD_STOPPED", message="Build was stopped")

    # -- outputs -----------------------------------------------------------------------------

    def read_outputs(self) -> None:
        """Exported variables and artifact names, from the shell as ``post_build`` left it."""
        assert self.session is not None
        self.exported = self.session.read_variables(self.spec.env.exported_variables)
        spec = self.spec.artifacts
        for item in (spec, *spec.secondary) if spec is not None else ():
            if item.name is not None:
                expanded = self.session.expand(item.name)
                self.names[item.identifier] = expanded if expanded else item.name

    def upload(self) -> None:
        start = datetime.now(UTC)
        self.enter(PhaseType.UPLOAD_ARTIFACTS)
        spec = self.spec.artifacts
        self.artifacts = []
        if spec is not None and self.artifacts_dir is not None:
            try:
                self.artifacts = produce_artifacts(
                    self.source, spec, self.artifacts_dir, self.names
                )
            except (ArtifactError, OSError) as exc:
                code = exc.status_code if isinstance(exc, ArtifactError) else "CLIENT_ERROR"
                self.record(
                    PhaseType.UPLOAD_ARTIFACTS,
                    start,
                    Status.FAILED,
                    PhaseContext(status_code=code, message=str(exc)),
                )
                return
            for out in self.artifacts:
                label = out.identifier or "primary"
                self.say(f"Artifact {label}: {out.files} file(s)")
        cache = self.spec.cache
        if cache is not None and self.cache_dir is not None and cache.saves and not self.failed:
            try:
                count = save_cache(
                    cache, cache_dir=self.cache_dir, source_dir=self.source, fs_root=self.fs_root
                )
                self.say(f"Saved {count} file(s) to the cache")
            except (OSError, CacheError) as exc:  # a cache is an optimisation: warn, go on
                self.say(f"Unable to save the cache: {exc}")
        self.record(PhaseType.UPLOAD_ARTIFACTS, start, Status.SUCCEEDED)

    def stop_shell(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            session.close()


def _client_error(message: str) -> PhaseContext:
    return PhaseContext(status_code="CLIENT_ERROR", message=message)
