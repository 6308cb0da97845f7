"""The buildspec: CodeBuild's ``buildspec.yml`` read into frozen dataclasses.

:func:`parse_buildspec` reads YAML text (treated as hostile, see
:mod:`stageline.builds.yamlload`) and checks every section against the
buildspec reference, reporting all problems at once, each with its key path
and the fix. Nothing here runs anything; :mod:`stageline.builds.runner` does.

Version 0.2 is the one to use. Version 0.1 is accepted with its documented
differences: the environment section is called ``environment_variables`` with
``plaintext`` for the variables, ``artifacts.type`` is allowed (and ignored),
and every command runs in a shell of its own, so ``cd`` and ``export`` do not
carry over (:attr:`Buildspec.shared_shell` is False).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from stageline.builds.errors import BuildspecError
from stageline.builds.onfailure import OnFailure
from stageline.builds.sections import (
    PHASE_NAMES,
    Reader,
    read_artifacts,
    read_cache,
    read_env,
    read_phases,
    read_reports,
)
from stageline.builds.yamlload import load_document

__all__ = [
    "PHASE_NAMES",
    "ArtifactSpec",
    "Buildspec",
    "BuildspecError",
    "CacheSpec",
    "EnvSpec",
    "PhaseSpec",
    "ReportGroupSpec",
    "parse_buildspec",
]

_EMPTY: Mapping[str, str] = MappingProxyType({})
_VERSIONS = ("0.1", "0.2")
_TOP_KEYS = (
    "version",
    "run-as",
    "env",
    "proxy",
    "batch",
    "phases",
    "reports",
    "artifacts",
    "cache",
)
_TOP_KEYS_01 = ("version", "environment_variables", "phases", "artifacts", "cache", "reports")


@dataclass(frozen=True, kw_only=True)
class EnvSpec:
    """``env``: variables by source, the ones exported at the end, and the shell to use."""

    #: ``bash`` or ``sh`` (``/bin/sh`` and ``/bin/bash`` are read as these); None: the default.
    shell: str | None = None
    variables: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    #: Variable name → Parameter Store name, resolved by the caller's secret resolver.
    parameter_store: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    #: Variable name → ``secret-id:json-key:version-stage:version-id`` reference.
    secrets_manager: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    exported_variables: tuple[str, ...] = ()
    git_credential_helper: bool = False


@dataclass(frozen=True, kw_only=True)
class PhaseSpec:
    """One of ``install``, ``pre_build``, ``build``, ``post_build``."""

    commands: tuple[str, ...] = ()
    finally_commands: tuple[str, ...] = ()
    #: None when not set: CodeBuild's default phase transitions apply.
    on_failure: OnFailure | None = None
    run_as: str | None = None
    #: ``install`` only; accepted and logged (the build uses the tools on the machine).
    runtime_versions: Mapping[str, str] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, kw_only=True)
class ReportGroupSpec:
    """A ``reports`` entry: which files hold test or coverage results, in which format."""

    name: str
    files: tuple[str, ...]
    base_directory: str | None = None
    discard_paths: bool = False
    #: Upper case, one of the formats CodeBuild reads; JUNITXML when not set.
    file_format: str = "JUNITXML"


@dataclass(frozen=True, kw_only=True)
class ArtifactSpec:
    """The primary artifact (``identifier`` None) or one of ``secondary-artifacts``."""

    identifier: str | None
    files: tuple[str, ...]
    name: str | None = None
    discard_paths: bool = False
    #: A directory (or a glob of directories) under the source dir; paths are relative to it.
    base_directory: str | None = None
    exclude_paths: tuple[str, ...] = ()
    enable_symlinks: bool = False
    s3_prefix: str | None = None
    secondary: tuple[ArtifactSpec, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CacheSpec:
    """``cache``: the paths kept between builds of a project."""

    paths: tuple[str, ...]
    key: str | None = None
    fallback_keys: tuple[str, ...] = ()
    #: None (restore and save), ``restore`` (restore only) or ``save`` (save only).
    action: str | None = None

    @property
    def restores(self) -> bool:
        return self.action != "save"

    @property
    def saves(self) -> bool:
        return self.action != "restore"


@dataclass(frozen=True, kw_only=True)
class Buildspec:
    """A validated buildspec. Phases that are not declared are None."""

    version: str
    env: EnvSpec = field(default_factory=EnvSpec)
    run_as: str | None = None
    install: PhaseSpec | None = None
    pre_build: PhaseSpec | None = None
    build: PhaseSpec | None = None
    post_build: PhaseSpec | None = None
    reports: tuple[ReportGroupSpec, ...] = ()
    artifacts: ArtifactSpec | None = None
    cache: CacheSpec | None = None

    @property
    def shared_shell(self) -> bool:
        """Whether commands share one shell (0.2) or each runs in its own (0.1)."""
        return self.version != "0.1"

    def phase(self, name: str) -> PhaseSpec | None:
        """The phase called ``name`` (``install``, ``pre_build``, ``build``, ``post_build``)."""
        if name not in PHASE_NAMES:
            raise KeyError(name)
        spec: PhaseSpec | None = getattr(self, name)
        return spec


def parse_buildspec(text: str | bytes) -> Buildspec:
    """Read and validate a buildspec; raises :class:`BuildspecError` listing every problem."""
    document = load_document(text)
    reader = Reader()
    if not isinstance(document, dict):
        raise BuildspecError(["the buildspec must be a YAML mapping with 'version' and 'phases'"])
    version = _version(reader, document.get("version"))
    if version is None:
        raise BuildspecError(reader.problems)
    keys = _TOP_KEYS_01 if version == "0.1" else _TOP_KEYS
    for key in document:
        if key in keys:
            continue
        if version == "0.1" and key == "env":
            reader.problem(
                "env", "version 0.1 calls this section 'environment_variables'; or use version 0.2"
            )
        elif version != "0.1" and key == "environment_variables":
            reader.problem(
                "environment_variables",
                "version 0.2 calls this section 'env' (with 'variables' for 'plaintext')",
            )
        else:
            reader.problem(str(key), f"is not a buildspec key; use one of {', '.join(keys)}")
    env_key = "environment_variables" if version == "0.1" else "env"
    env = read_env(reader, document.get(env_key), env_key, legacy=version == "0.1")
    phases = read_phases(reader, document.get("phases"))
    reports = read_reports(reader, document.get("reports"))
    artifacts = read_artifacts(reader, document.get("artifacts"), legacy=version == "0.1")
    cache = read_cache(reader, document.get("cache"))
    run_as = reader.text(document.get("run-as"), "run-as")
    for key in ("proxy", "batch"):
        if document.get(key) is not None and not isinstance(document[key], dict):
            reader.problem(key, "must be a mapping")
    if reader.problems:
        raise BuildspecError(reader.problems)
    return Buildspec(
        version=version,
        env=EnvSpec(**_frozen(env)),
        run_as=run_as,
        reports=tuple(ReportGroupSpec(**r) for r in reports),
        artifacts=_artifact(artifacts),
        cache=CacheSpec(**cache) if cache is not None else None,
        **{
            name: PhaseSpec(**_frozen(spec)) if spec is not None else None
            for name, spec in phases.items()
        },
    )


def _frozen(values: dict[str, Any]) -> dict[str, Any]:
    """The same keyword arguments with every dict made read-only, so the dataclass is too."""
    return {k: MappingProxyType(v) if isinstance(v, dict) else v for k, v in values.items()}


def _artifact(values: dict[str, Any] | None) -> ArtifactSpec | None:
    if values is None:
        return None
    secondary = tuple(_artifact(v) for v in values.pop("secondary", ()))
    return ArtifactSpec(secondary=tuple(s for s in secondary if s is not None), **values)


def _version(reader: Reader, value: Any) -> str | None:
    if value is None:
        reader.problem("version", "is required; start the buildspec with 'version: 0.2'")
        return None
    text = str(value).strip() if isinstance(value, str | int | float) else None
    if text is not None and re.fullmatch(r"0\.10*", text):
        return "0.1"
    if text is not None and re.fullmatch(r"0\.20*", text):
        return "0.2"
    reader.problem("version", f"{value!r} is not a buildspec version; use 0.2 (or 0.1)")
    return None
