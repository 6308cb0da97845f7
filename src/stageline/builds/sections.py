"""Reading and checking each section of a buildspec, collecting every problem with its path.

:mod:`stageline.builds.buildspec` turns what these return into dataclasses;
keeping the checks here keeps each module to one concept. A problem reads
``<key path>: <what is wrong and how to fix it>``.
"""

from __future__ import annotations

import re
from typing import Any

from stageline.artifacts.globs import glob_to_regex
from stageline.builds.onfailure import OnFailure, parse_on_failure
from stageline.builds.secrets import parse_secret_reference

PHASE_NAMES = ("install", "pre_build", "build", "post_build")
REPORT_FORMATS = (
    "CUCUMBERJSON",
    "JUNITXML",
    "NUNITXML",
    "NUNIT3XML",
    "TESTNGXML",
    "VISUALSTUDIOTRX",
    "CLOVERXML",
    "COBERTURAXML",
    "JACOCOXML",
    "SIMPLECOV",
)
_SHELLS = {"bash": "bash", "/bin/bash": "bash", "sh": "sh", "/bin/sh": "sh"}
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IDENTIFIER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_FLAGS = {"yes": True, "true": True, "no": False, "false": False}
_PHASE_KEYS = ("commands", "finally", "on-failure", "run-as", "runtime-versions")
_ARTIFACT_KEYS = (
    "files",
    "name",
    "discard-paths",
    "base-directory",
    "exclude-paths",
    "enable-symlinks",
    "s3-prefix",
)


class Reader:
    """Typed access to YAML values that records a problem instead of raising."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def mapping(self, value: Any, path: str) -> dict[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.problem(path, f"must be a mapping of keys to values, not {_kind(value)}")
            return None
        return value

    def keys(self, value: dict[str, Any], path: str, allowed: tuple[str, ...]) -> None:
        for key in value:
            if key not in allowed:
                self.problem(f"{path}.{key}", f"is not a key here; use one of {', '.join(allowed)}")

    def text(self, value: Any, path: str) -> str | None:
        if value is None:
            return None
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value)
        self.problem(path, f"must be text, not {_kind(value)}")
        return None

    def flag(self, value: Any, path: str) -> bool:
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _FLAGS:
            return _FLAGS[value.strip().lower()]
        self.problem(path, f"{value!r} is not yes or no")
        return False

    def texts(self, value: Any, path: str) -> tuple[str, ...]:
        """A list of strings; one string is read as a list of one (as CodeBuild does)."""
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list):
            self.problem(path, f"must be a list, not {_kind(value)}")
            return ()
        out: list[str] = []
        for index, item in enumerate(value):
            if isinstance(item, dict):
                self.problem(
                    f"{path}[{index}]",
                    "is a mapping, not text: a ': ' inside it made YAML read a key; "
                    "put the whole line in quotes",
                )
            elif item is None:
                self.problem(f"{path}[{index}]", "is empty; remove the '-' or write a value")
            else:
                text = self.text(item, f"{path}[{index}]")
                if text is not None:
                    out.append(text)
        return tuple(out)

    def variables(self, value: Any, path: str) -> dict[str, str]:
        """A mapping of environment variable names to text values."""
        mapping = self.mapping(value, path)
        out: dict[str, str] = {}
        for name, item in (mapping or {}).items():
            if not self.variable_name(name, f"{path}.{name}"):
                continue
            text = self.text(item, f"{path}.{name}")
            out[name] = "" if text is None else text
        return out

    def text_map(self, value: Any, path: str) -> dict[str, str]:
        """A mapping of names to text (``runtime-versions``)."""
        mapping = self.mapping(value, path)
        out: dict[str, str] = {}
        for name, item in (mapping or {}).items():
            text = self.text(item, f"{path}.{name}")
            if text is not None:
                out[str(name)] = text
        return out

    def variable_name(self, name: Any, path: str) -> bool:
        if not isinstance(name, str) or not _VAR_NAME.fullmatch(name):
            self.problem(path, "is not a variable name (letters, digits and '_', not first digit)")
            return False
        if name.startswith("CODEBUILD_"):
            self.problem(path, "names starting with CODEBUILD_ are reserved by CodeBuild; rename")
            return False
        return True

    def patterns(self, value: Any, path: str, *, required: bool = False) -> tuple[str, ...]:
        """Glob patterns relative to a directory, checked with the artifact glob rules."""
        if value is None and required:
            self.problem(path, "is required; list the files, e.g. '**/*'")
        patterns = self.texts(value, path)
        for index, pattern in enumerate(patterns):
            try:
                glob_to_regex(pattern)
            except ValueError as exc:
                self.problem(f"{path}[{index}]", str(exc))
        return patterns

    def relative_dir(self, value: Any, path: str) -> str | None:
        text = self.text(value, path)
        if text is None or text.strip() in ("", ".", "./"):
            return None
        segments = text.split("/")
        if text.startswith("/") or ".." in segments or "\\" in text:
            self.problem(path, f"{text!r} must be a relative path inside the source, without '..'")
        return text


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def read_env(reader: Reader, value: Any, path: str, *, legacy: bool) -> dict[str, Any]:
    env = reader.mapping(value, path) or {}
    if legacy:
        reader.keys(env, path, ("plaintext", "parameter-store"))
        return {
            "variables": reader.variables(env.get("plaintext"), f"{path}.plaintext"),
            "parameter_store": reader.variables(
                env.get("parameter-store"), f"{path}.parameter-store"
            ),
        }
    reader.keys(
        env,
        path,
        (
            "shell",
            "variables",
            "parameter-store",
            "secrets-manager",
            "exported-variables",
            "git-credential-helper",
        ),
    )
    shell = reader.text(env.get("shell"), f"{path}.shell")
    if shell is not None:
        if shell.lower() in ("powershell.exe", "cmd.exe"):
            reader.problem(f"{path}.shell", f"{shell!r} is a Windows shell; use bash or /bin/sh")
        elif shell not in _SHELLS:
            reader.problem(
                f"{path}.shell", f"{shell!r} is not a supported shell; use bash or /bin/sh"
            )
        shell = _SHELLS.get(shell)
    parameters = reader.variables(env.get("parameter-store"), f"{path}.parameter-store")
    secrets = reader.variables(env.get("secrets-manager"), f"{path}.secrets-manager")
    for name, reference in secrets.items():
        try:
            parse_secret_reference(reference)
        except ValueError as exc:
            reader.problem(f"{path}.secrets-manager.{name}", str(exc))
    exported = reader.texts(env.get("exported-variables"), f"{path}.exported-variables")
    for index, name in enumerate(exported):
        where = f"{path}.exported-variables[{index}]"
        if not reader.variable_name(name, where):
            continue
        if name.startswith("AWS_"):
            reader.problem(
                where, f"{name} cannot be exported: variables starting with AWS_ never are"
            )
        elif name in parameters or name in secrets:
            reader.problem(where, f"{name} holds a secret, and secrets cannot be exported")
    return {
        "shell": shell,
        "variables": reader.variables(env.get("variables"), f"{path}.variables"),
        "parameter_store": parameters,
        "secrets_manager": secrets,
        "exported_variables": exported,
        "git_credential_helper": reader.flag(
            env.get("git-credential-helper"), f"{path}.git-credential-helper"
        ),
    }


def read_phases(reader: Reader, value: Any) -> dict[str, dict[str, Any] | None]:
    phases: dict[str, dict[str, Any] | None] = dict.fromkeys(PHASE_NAMES)
    if value is None:
        reader.problem("phases", "is required; add at least 'phases: build: commands: [...]'")
        return phases
    mapping = reader.mapping(value, "phases") or {}
    for name, spec in mapping.items():
        path = f"phases.{name}"
        if name not in PHASE_NAMES:
            near = str(name).replace("-", "_").lower()
            hint = f"did you mean {near}? " if near in PHASE_NAMES else ""
            reader.problem(path, f"is not a phase; {hint}phases are {', '.join(PHASE_NAMES)}")
            continue
        phase = reader.mapping(spec, path) or {}
        reader.keys(phase, path, _PHASE_KEYS)
        on_failure: OnFailure | None = None
        raw = reader.text(phase.get("on-failure"), f"{path}.on-failure")
        if raw is not None:
            try:
                on_failure = parse_on_failure(raw)
            except ValueError as exc:
                reader.problem(f"{path}.on-failure", str(exc))
        runtimes = reader.text_map(phase.get("runtime-versions"), f"{path}.runtime-versions")
        if runtimes and name != "install":
            reader.problem(
                f"{path}.runtime-versions", "only the install phase takes runtime-versions"
            )
        phases[name] = {
            "commands": reader.texts(phase.get("commands"), f"{path}.commands"),
            "finally_commands": reader.texts(phase.get("finally"), f"{path}.finally"),
            "on_failure": on_failure,
            "run_as": reader.text(phase.get("run-as"), f"{path}.run-as"),
            "runtime_versions": runtimes,
        }
    return phases


def read_reports(reader: Reader, value: Any) -> list[dict[str, Any]]:
    reports = reader.mapping(value, "reports") or {}
    out: list[dict[str, Any]] = []
    for name, spec in reports.items():
        path = f"reports.{name}"
        group = reader.mapping(spec, path) or {}
        reader.keys(group, path, ("files", "base-directory", "discard-paths", "file-format"))
        file_format = reader.text(group.get("file-format"), f"{path}.file-format") or "JUNITXML"
        if file_format.upper() not in REPORT_FORMATS:
            reader.problem(
                f"{path}.file-format",
                f"{file_format!r} is not a report format; use one of {', '.join(REPORT_FORMATS)}",
            )
        out.append(
            {
                "name": str(name),
                "files": reader.patterns(group.get("files"), f"{path}.files", required=True),
                "base_directory": reader.relative_dir(
                    group.get("base-directory"), f"{path}.base-directory"
                ),
                "discard_paths": reader.flag(group.get("discard-paths"), f"{path}.discard-paths"),
                "file_format": file_format.upper(),
            }
        )
    return out


def read_artifacts(
    reader: Reader,
    value: Any,
    *,
    legacy: bool,
    path: str = "artifacts",
    identifier: str | None = None,
) -> dict[str, Any] | None:
    spec = reader.mapping(value, path)
    if spec is None:
        return None
    allowed = _ARTIFACT_KEYS + (("secondary-artifacts",) if identifier is None else ())
    reader.keys(spec, path, allowed + (("type",) if legacy else ()))
    out: dict[str, Any] = {
        "identifier": identifier,
        "files": reader.patterns(spec.get("files"), f"{path}.files", required=True),
        "name": reader.text(spec.get("name"), f"{path}.name"),
        "discard_paths": reader.flag(spec.get("discard-paths"), f"{path}.discard-paths"),
        "base_directory": reader.relative_dir(spec.get("base-directory"), f"{path}.base-directory"),
        "exclude_paths": reader.patterns(spec.get("exclude-paths"), f"{path}.exclude-paths"),
        "enable_symlinks": reader.flag(spec.get("enable-symlinks"), f"{path}.enable-symlinks"),
        "s3_prefix": reader.text(spec.get("s3-prefix"), f"{path}.s3-prefix"),
    }
    if identifier is None:
        secondary = reader.mapping(spec.get("secondary-artifacts"), f"{path}.secondary-artifacts")
        out["secondary"] = []
        for ident, sub in (secondary or {}).items():
            where = f"{path}.secondary-artifacts.{ident}"
            if not isinstance(ident, str) or not _IDENTIFIER.fullmatch(ident):
                reader.problem(where, "artifact identifiers are letters, digits, '_', '.', '-'")
                continue
            read = read_artifacts(reader, sub, legacy=legacy, path=where, identifier=ident)
            if read is None:
                reader.problem(where, "needs at least 'files'")
            else:
                out["secondary"].append(read)
    return out


def read_cache(reader: Reader, value: Any) -> dict[str, Any] | None:
    cache = reader.mapping(value, "cache")
    if cache is None:
        return None
    reader.keys(cache, "cache", ("paths", "key", "fallback-keys", "action"))
    paths = reader.texts(cache.get("paths"), "cache.paths")
    if not paths:
        reader.problem("cache.paths", "is required; list what to keep, e.g. '/root/.m2/**/*'")
    for index, item in enumerate(paths):
        try:
            glob_to_regex(item.lstrip("/") or "**")
        except ValueError as exc:
            reader.problem(f"cache.paths[{index}]", str(exc))
    fallback = reader.texts(cache.get("fallback-keys"), "cache.fallback-keys")
    if len(fallback) > 5:
        reader.problem("cache.fallback-keys", "takes at most 5 keys")
    action = reader.text(cache.get("action"), "cache.action")
    if action is not None and action not in ("restore", "save"):
        reader.problem("cache.action", f"{action!r} is not restore or save (omit it for both)")
    return {
        "paths": paths,
        "key": reader.text(cache.get("key"), "cache.key"),
        "fallback_keys": fallback,
        "action": action,
    }
