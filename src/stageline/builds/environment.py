"""The environment a build's commands see, assembled in CodeBuild's order of precedence.

From lowest to highest: a clean base environment (PATH, HOME, …; nothing of
the agent's own), ``AWS_REGION``/``AWS_DEFAULT_REGION``, the buildspec's
``env.variables``, its ``parameter-store`` and ``secrets-manager`` values,
then the caller's variables. The buildspec reference says "the value in the
start build operation call takes highest precedence, the value in the build
project definition takes next precedence, the value in the buildspec
declaration takes lowest precedence"; :func:`caller_variables` merges the
first two for the caller. The ``CODEBUILD_*`` built-ins come last and cannot
be overridden: CodeBuild reserves the prefix.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from stageline.builds.buildspec import Buildspec
from stageline.builds.secrets import SecretResolver, SecretSource
from stageline.config import DEFAULT_ACCOUNT_ID, DEFAULT_REGION
from stageline.runner.shell import build_clean_env

#: CodeBuild's project name rule.
PROJECT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,254}")
#: Source identifiers become part of ``CODEBUILD_SRC_DIR_<id>``, so they must be name-safe.
SOURCE_IDENTIFIER = re.compile(r"[A-Za-z0-9_]{1,127}")


@dataclass(frozen=True, kw_only=True)
class BuildInfo:
    """Who and what a build is: the values behind the ``CODEBUILD_*`` built-ins."""

    project: str
    #: ``<project>:<uuid>``; one is made when not given.
    build_id: str = ""
    build_number: int = 1
    #: ``codepipeline/<pipeline>`` when a pipeline started the build.
    initiator: str = "stageline"
    resolved_source_version: str | None = None
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID
    image: str | None = None

    def __post_init__(self) -> None:
        if not PROJECT_NAME.fullmatch(self.project):
            raise ValueError(
                f"project name {self.project!r} must be 2-255 letters, digits, '-' or '_', "
                "starting with a letter or digit"
            )
        if not self.build_id:
            object.__setattr__(self, "build_id", f"{self.project}:{uuid.uuid4()}")

    @property
    def build_arn(self) -> str:
        return f"arn:aws:codebuild:{self.region}:{self.account_id}:build/{self.build_id}"


def caller_variables(
    project: Mapping[str, str], overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The project's variables with the start-build (or action) overrides on top."""
    merged = dict(project)
    merged.update(overrides or {})
    return merged


def resolve_secrets(
    spec: Buildspec, resolver: SecretResolver | None
) -> tuple[dict[str, str], list[str]]:
    """Resolve ``parameter-store`` and ``secrets-manager``; returns (values, problems).

    A problem names the variable and the reference, never a value.
    """
    wanted: list[tuple[str, SecretSource, str]] = [
        *((k, "parameter-store", v) for k, v in spec.env.parameter_store.items()),
        *((k, "secrets-manager", v) for k, v in spec.env.secrets_manager.items()),
    ]
    values: dict[str, str] = {}
    problems: list[str] = []
    for name, source, reference in wanted:
        if resolver is None:
            problems.append(
                f"env.{source}.{name}: no secret store is configured to read {reference!r}"
            )
            continue
        try:
            values[name] = resolver(source, reference)
        except Exception as exc:  # the resolver is the caller's: any failure fails the build
            problems.append(f"env.{source}.{name}: cannot read {reference!r}: {exc}")
    return values, problems


def build_environment(
    spec: Buildspec,
    *,
    info: BuildInfo,
    caller_env: Mapping[str, str],
    secrets: Mapping[str, str],
    primary_source: Path,
    secondary_sources: Mapping[str, Path],
    start_ms: int,
) -> dict[str, str]:
    """The full environment of the build's shell, lowest precedence first."""
    env = build_clean_env()
    env["AWS_REGION"] = info.region
    env["AWS_DEFAULT_REGION"] = info.region
    env.update(spec.env.variables)
    env.update(secrets)
    env.update({k: v for k, v in caller_env.items() if not k.startswith("CODEBUILD_")})
    builtins = {
        "CODEBUILD_BUILD_ID": info.build_id,
        "CODEBUILD_BUILD_ARN": info.build_arn,
        "CODEBUILD_BUILD_NUMBER": str(info.build_number),
        "CODEBUILD_BUILD_SUCCEEDING": "1",
        "CODEBUILD_INITIATOR": info.initiator,
        "CODEBUILD_START_TIME": str(start_ms),
        "CODEBUILD_SRC_DIR": str(primary_source),
        "CODEBUILD_CI": "true",
    }
    if info.resolved_source_version:
        builtins["CODEBUILD_RESOLVED_SOURCE_VERSION"] = info.resolved_source_version
    if info.image:
        builtins["CODEBUILD_BUILD_IMAGE"] = info.image
    for name, path in secondary_sources.items():
        builtins[f"CODEBUILD_SRC_DIR_{name}"] = str(path)
    env.update(builtins)
    return env
