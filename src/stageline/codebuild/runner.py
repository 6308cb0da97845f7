"""Builds started through the API (StartBuild, RetryBuild), run by the server itself.

A pipeline's builds run on an agent, as its CodeBuild action; a build a user
starts directly has no agent job, so the server runs it on a small pool of
threads. Its source is the project's: an inline buildspec (``NO_SOURCE``) or
a repository stageline hosts (``CODECOMMIT``), checked out at
``sourceVersion`` (a branch, tag or commit; the default branch when none).
The log goes to the log store under the build's log id, as an action's does.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from stageline.builds import SecretResolver
from stageline.codebuild.execute import BuildRequest, begin, run_project_build
from stageline.codebuild.service import BuildService, not_found
from stageline.errors import ApiError, error
from stageline.logs import FileLogStore
from stageline.repos import RepositoryService

log = logging.getLogger("stageline.codebuild")
MAX_CONCURRENT_BUILDS = 4
#: StartBuild members stored with the build, so RetryBuild can start it again.
_RETRIED = (
    "sourceVersion",
    "environmentVariablesOverride",
    "buildspecOverride",
    "timeoutInMinutesOverride",
    "imageOverride",
)


class BuildRunner:
    def __init__(
        self,
        builds: BuildService,
        *,
        data_dir: Path,
        logs: FileLogStore,
        repos: RepositoryService | None,
        secret_resolver: Callable[[], SecretResolver | None] = lambda: None,
        executor: str = "auto",
        max_concurrent: int = MAX_CONCURRENT_BUILDS,
    ) -> None:
        self.builds = builds
        self._data_dir = data_dir
        self._logs = logs
        self._repos = repos
        self._resolver = secret_resolver
        self._executor = executor
        self._pool = ThreadPoolExecutor(max_concurrent, thread_name_prefix="stageline-build")
        self._cancels: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    # -- operations -----------------------------------------------------------------------------

    def start_build(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params["projectName"]
        project = self.builds.project(name)
        if project is None:
            raise not_found(f"project {name!r} does not exist; create it with CreateProject")
        source = dict(project.document.get("source") or {})
        if "sourceTypeOverride" in params:
            source["type"] = params["sourceTypeOverride"]
        if "sourceLocationOverride" in params:
            source["location"] = params["sourceLocationOverride"]
        if source.get("type") == "CODEPIPELINE":
            raise error(
                "InvalidInputException",
                f"project {project.name!r} takes its source from a pipeline (source type "
                "CODEPIPELINE): start the pipeline instead, or pass sourceTypeOverride",
            )
        if source.get("type") == "NO_SOURCE" and not (
            params.get("buildspecOverride") or source.get("buildspec")
        ):
            raise error(
                "InvalidInputException",
                "a NO_SOURCE build needs a buildspec: give buildspecOverride or the project's "
                "source.buildspec",
            )
        workspace = Path(tempfile.mkdtemp(prefix="stageline-build-"))
        try:
            primary = workspace / "src"
            primary.mkdir()
            resolved = self._checkout(source, params.get("sourceVersion"), primary)
        except BaseException:
            shutil.rmtree(workspace, ignore_errors=True)
            raise
        timeout = params.get("timeoutInMinutesOverride")
        request = BuildRequest(
            project=project,
            initiator="stageline",
            primary_source=primary,
            workspace=workspace / "build",
            cache_root=self._data_dir / "build-cache",
            buildspec_override=params.get("buildspecOverride"),
            environment_overrides=list(params.get("environmentVariablesOverride") or []),
            timeout_minutes=int(timeout) if timeout else None,
            source_version=params.get("sourceVersion"),
            resolved_source_version=resolved,
            source=source,
            image_override=params.get("imageOverride"),
            executor=self._executor,
            start_params={k: params[k] for k in _RETRIED if k in params},
        )
        build = begin(self.builds, request)
        cancel = threading.Event()
        with self._lock:
            self._cancels[build["id"]] = cancel
        self._pool.submit(self._run, request, build, cancel, workspace)
        return {"build": build}

    def retry_build(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("id"):
            raise error("InvalidInputException", "id is required: the build to retry")
        build = self.builds.build(params["id"])
        if str(build.get("initiator", "")).startswith("codepipeline/"):
            raise error(
                "InvalidInputException",
                f"build {build['id']} was started by a pipeline; retry its action there "
                "(RetryStageExecution)",
            )
        start = dict(self.builds.start_params(build["id"]))
        return self.start_build({"projectName": build["projectName"], **start})

    def stop(self) -> None:
        """Stop every build still running (at shutdown) and wait for them to end."""
        with self._lock:
            cancels = list(self._cancels.values())
        for cancel in cancels:
            cancel.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- running --------------------------------------------------------------------------------

    def _checkout(self, source: dict[str, Any], version: str | None, into: Path) -> str | None:
        if source.get("type") != "CODECOMMIT":
            return None
        if self._repos is None:
            raise error("InvalidInputException", "this server hosts no repositories")
        location = str(source.get("location") or "").rstrip("/")
        name = location.rsplit("/", 1)[-1].removesuffix(".git")
        try:
            if version:
                commit = self._repos.resolve(name, version)
            else:
                repo = self._repos.get(name)
                commit = self._repos.branch_tip(name, repo.default_branch or "main")
            self._repos.export(name, commit, into)
        except ApiError as exc:
            raise error("InvalidInputException", f"source {location!r}: {exc.message}") from exc
        return commit

    def _run(
        self,
        request: BuildRequest,
        build: dict[str, Any],
        cancel: threading.Event,
        workspace: Path,
    ) -> None:
        build_id = str(build["id"])
        writer = self._logs.writer(self.builds.log_id(build_id))
        try:
            run_project_build(
                self.builds,
                request,
                log=writer.write,
                cancel=cancel,
                secret_resolver=self._resolver(),
                build=build,
            )
        except Exception as exc:
            log.exception("build %s failed to run", build_id)
            writer.write(f"[stageline] the build could not run: {exc}")
            self.builds.fail(build_id, f"the build could not run: {exc}", status="FAULT")
        finally:
            writer.close()
            with self._lock:
                self._cancels.pop(build_id, None)
            shutil.rmtree(workspace, ignore_errors=True)
