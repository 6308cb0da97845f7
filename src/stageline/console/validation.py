"""Checking an editor's text with the API's own validation, in the order a request meets it.

The text is read as ``stageline lint`` reads a file — create-pipeline
JSON/YAML, get-pipeline output, a bare declaration or a CloudFormation
template (one pipeline) — then checked against the botocore model
(``ValidationException``), then by every declaration rule
(``InvalidStageDeclarationException`` and the rest). An edit also learns when
the pipeline has moved on since the version it is based on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from stageline.ascode.loader import load_pipelines
from stageline.ascode.model import DefinitionError
from stageline.console.calls import message_of
from stageline.console.context import ConsoleContext
from stageline.errors import ApiError
from stageline.services.pipelines import check_declaration

FORMATS = ("json", "yaml")
STARTER = {
    "name": "my-pipeline",
    "roleArn": "arn:aws:iam::123456789012:role/stageline",
    "artifactStore": {"type": "S3", "location": "artifacts"},
    "pipelineType": "V2",
    "executionMode": "QUEUED",
    "stages": [
        {
            "name": "Source",
            "actions": [
                {
                    "name": "Source",
                    "actionTypeId": {
                        "category": "Source",
                        "owner": "AWS",
                        "provider": "CodeCommit",
                        "version": "1",
                    },
                    "configuration": {
                        "RepositoryName": "my-app",
                        "BranchName": "main",
                        "PollForSourceChanges": "false",
                    },
                    "outputArtifacts": [{"name": "Src"}],
                }
            ],
        },
        {
            "name": "Build",
            "actions": [
                {
                    "name": "Test",
                    "actionTypeId": {
                        "category": "Compute",
                        "owner": "AWS",
                        "provider": "Commands",
                        "version": "1",
                    },
                    "commands": ["echo testing"],
                    "inputArtifacts": [{"name": "Src"}],
                }
            ],
        },
    ],
}


@dataclass(frozen=True, kw_only=True)
class Problem:
    path: str
    message: str


@dataclass(frozen=True, kw_only=True)
class Checked:
    """The result of checking an editor's text: the declaration if it reads, and problems."""

    declaration: dict[str, Any] | None
    tags: list[dict[str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.declaration is not None and not self.problems

    def wire(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": [{"path": p.path, "message": p.message} for p in self.problems],
            "note": self.note,
        }


def dump(declaration: dict[str, Any], fmt: str) -> str:
    if fmt == "yaml":
        return str(yaml.safe_dump(declaration, sort_keys=False, allow_unicode=True, width=100))
    return json.dumps(declaration, indent=2, ensure_ascii=False) + "\n"


def parse(text: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The one pipeline ``text`` declares, in wire form, and its tags."""
    loaded = load_pipelines(text, filename="editor")
    if len(loaded) != 1:
        raise DefinitionError(
            "", f"the text declares {len(loaded)} pipelines; the editor takes exactly one"
        )
    return loaded[0].pipeline, loaded[0].tags


def check(ctx: ConsoleContext, text: str, *, name: str | None, base_version: int | None) -> Checked:
    """Check ``text`` as CreatePipeline (``name`` None) or as UpdatePipeline of ``name``."""
    try:
        declaration, tags = parse(text)
    except DefinitionError as exc:
        return Checked(declaration=None, problems=[Problem(path=exc.path, message=exc.message)])
    if name is not None and declaration.get("name") != name:
        return Checked(
            declaration=declaration,
            problems=[
                Problem(
                    path="name",
                    message=f"the name must stay '{name}': UpdatePipeline cannot rename a "
                    "pipeline (create a new one instead)",
                )
            ],
        )
    operation = "CreatePipeline" if name is None else "UpdatePipeline"
    request: dict[str, Any] = {"pipeline": declaration}
    if name is None and tags:
        request["tags"] = tags
    try:
        ctx.api.check(operation, request)
        check_declaration(ctx.services.ctx, declaration)
    except ApiError as exc:
        return Checked(
            declaration=declaration, tags=tags, problems=[Problem(path="", message=message_of(exc))]
        )
    note = None
    if name is not None:
        note = _staleness(ctx, name, declaration.get("version", base_version))
    return Checked(declaration=declaration, tags=tags, note=note)


def _staleness(ctx: ConsoleContext, name: str, based_on: Any) -> str | None:
    try:
        current = ctx.services.pipelines.get(name).declaration.get("version")
    except ApiError as exc:
        return exc.message
    if based_on is not None and based_on != current:
        return (
            f"'{name}' is now at version {current} but this edit is based on version "
            f"{based_on}: saving will be refused; reload to start from the current version"
        )
    return None
