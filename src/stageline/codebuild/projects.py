"""Build project documents: the rules CreateProject and UpdateProject check, and the defaults.

botocore's model has already checked types, lengths, ranges and enums; what
is left are CodeBuild's rules across members, each reported with the member
and the fix. The stored document is the ``Project`` shape without its dates.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from stageline.errors import error

#: CodeBuild's project name rule.
PROJECT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,254}")
DEFAULT_TIMEOUT_MINUTES = 60
DEFAULT_QUEUED_TIMEOUT_MINUTES = 480
DEFAULT_BUILDSPEC = "buildspec.yml"
_INPUT_ONLY = ("name", "tags", "badgeEnabled")
_IDENTIFIER = re.compile(r"[A-Za-z0-9_]{1,127}")


def invalid(message: str) -> Exception:
    return error("InvalidInputException", message)


def check_name(name: str) -> None:
    if not PROJECT_NAME.fullmatch(name):
        raise invalid(
            f"project name {name!r} is not valid: use 2 to 255 letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )


def new_document(params: dict[str, Any], *, arn: str, region: str, account_id: str) -> dict:
    """The stored ``Project`` document for a CreateProject request."""
    check_name(params["name"])
    document = {k: copy.deepcopy(v) for k, v in params.items() if k not in _INPUT_ONLY}
    document["name"] = params["name"]
    document["arn"] = arn
    document["tags"] = list(params.get("tags") or [])
    document["badge"] = {"badgeEnabled": bool(params.get("badgeEnabled", False))}
    document.setdefault("timeoutInMinutes", DEFAULT_TIMEOUT_MINUTES)
    document.setdefault("queuedTimeoutInMinutes", DEFAULT_QUEUED_TIMEOUT_MINUTES)
    document.setdefault("encryptionKey", f"arn:aws:kms:{region}:{account_id}:alias/aws/s3")
    document.setdefault("cache", {"type": "NO_CACHE"})
    document.setdefault(
        "logsConfig",
        {"cloudWatchLogs": {"status": "ENABLED"}, "s3Logs": {"status": "DISABLED"}},
    )
    document.setdefault("projectVisibility", "PRIVATE")
    check_document(document)
    return document


def updated_document(current: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """``current`` with the members an UpdateProject request gives replaced."""
    document = copy.deepcopy(current)
    for key, value in params.items():
        if key == "name":
            continue
        if key == "badgeEnabled":
            document["badge"] = {"badgeEnabled": bool(value)}
        else:
            document[key] = copy.deepcopy(value)
    check_document(document)
    return document


def check_document(document: dict[str, Any]) -> None:
    """CodeBuild's rules across members; the first broken one is reported."""
    source = document.get("source") or {}
    artifacts = document.get("artifacts") or {}
    source_type = source.get("type")
    if source_type == "NO_SOURCE" and not source.get("buildspec"):
        raise invalid(
            "source.buildspec is required when source.type is NO_SOURCE: give the buildspec "
            "inline, since there is no source to read buildspec.yml from"
        )
    if source_type == "CODEPIPELINE" and artifacts.get("type") != "CODEPIPELINE":
        raise invalid(
            "artifacts.type must be CODEPIPELINE when source.type is CODEPIPELINE: the "
            "pipeline passes the artifacts"
        )
    if artifacts.get("type") == "CODEPIPELINE" and source_type != "CODEPIPELINE":
        raise invalid("source.type must be CODEPIPELINE when artifacts.type is CODEPIPELINE")
    if source_type not in (None, "NO_SOURCE", "CODEPIPELINE", "CODECOMMIT"):
        raise invalid(
            f"source.type {source_type} is not supported by stageline yet; use CODEPIPELINE "
            "(builds started by a pipeline), CODECOMMIT (a repository hosted by stageline) "
            "or NO_SOURCE (an inline buildspec)"
        )
    if source_type == "CODECOMMIT" and not source.get("location"):
        raise invalid(
            "source.location is required when source.type is CODECOMMIT: give the "
            "repository's clone URL"
        )
    for n, extra in enumerate(document.get("secondarySources") or []):
        identifier = extra.get("sourceIdentifier")
        if not identifier or not _IDENTIFIER.fullmatch(identifier):
            raise invalid(
                f"secondarySources[{n}].sourceIdentifier is required: 1 to 127 letters, "
                "digits or '_'"
            )
    environment = document.get("environment") or {}
    names = [v.get("name") for v in environment.get("environmentVariables") or []]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise invalid(
            "environment.environmentVariables names must be unique; repeated: "
            + ", ".join(repeated)
        )
    for variable in environment.get("environmentVariables") or []:
        if str(variable.get("name", "")).startswith("CODEBUILD_"):
            raise invalid(
                f"environment variable {variable['name']}: names starting with CODEBUILD_ "
                "are reserved for CodeBuild; choose another name"
            )


def buildspec_reference(document: dict[str, Any]) -> str:
    """The project's buildspec: inline YAML, or a path in the source (``buildspec.yml``)."""
    return str((document.get("source") or {}).get("buildspec") or DEFAULT_BUILDSPEC)


def is_inline(buildspec: str) -> bool:
    """CodeBuild reads a value with a newline, or starting with ``version:``, as inline YAML."""
    text = buildspec.strip()
    return "\n" in text or text.startswith("version")
