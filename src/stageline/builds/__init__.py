"""A CodeBuild-compatible buildspec runner, as a library.

:func:`parse_buildspec` reads and validates a ``buildspec.yml``;
:func:`run_build` runs it the way CodeBuild runs it (one shell, CodeBuild's
phases and failure rules, built-in variables, exported variables), on this
machine or in the project's image (:func:`select_executor`);
:mod:`stageline.builds.artifacts` and :mod:`stageline.builds.cache` handle
the ``artifacts`` and ``cache`` sections. Nothing here knows about
HTTP, the database or pipelines: the CodeBuild provider and API wire it in.
"""

from stageline.builds.artifacts import ArtifactFile, copy_files, produce_artifacts, select_files
from stageline.builds.buildspec import (
    ArtifactSpec,
    Buildspec,
    CacheSpec,
    EnvSpec,
    PhaseSpec,
    ReportGroupSpec,
    parse_buildspec,
)
from stageline.builds.cache import project_cache_dir, restore_cache, save_cache
from stageline.builds.environment import BuildInfo, caller_variables
from stageline.builds.errors import ArtifactError, BuildspecError, CacheError
from stageline.builds.executors import (
    ContainerExecutor,
    Executor,
    HostExecutor,
    select_executor,
)
from stageline.builds.onfailure import FailureAction, OnFailure
from stageline.builds.results import (
    ArtifactOutput,
    BuildResult,
    PhaseContext,
    PhaseResult,
    PhaseType,
    Status,
)
from stageline.builds.runner import run_build
from stageline.builds.secrets import SecretReference, SecretResolver, parse_secret_reference

__all__ = [
    "ArtifactError",
    "ArtifactFile",
    "ArtifactOutput",
    "ArtifactSpec",
    "BuildInfo",
    "BuildResult",
    "Buildspec",
    "BuildspecError",
    "CacheError",
    "CacheSpec",
    "ContainerExecutor",
    "EnvSpec",
    "Executor",
    "FailureAction",
    "HostExecutor",
    "OnFailure",
    "PhaseContext",
    "PhaseResult",
    "PhaseSpec",
    "PhaseType",
    "ReportGroupSpec",
    "SecretReference",
    "SecretResolver",
    "Status",
    "caller_variables",
    "copy_files",
    "parse_buildspec",
    "parse_secret_reference",
    "produce_artifacts",
    "project_cache_dir",
    "restore_cache",
    "run_build",
    "save_cache",
    "select_executor",
    "select_files",
]
