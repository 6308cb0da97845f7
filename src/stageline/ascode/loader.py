"""Reading a pipeline file: size limits, JSON or YAML, and which of the forms it is.

Users already have their pipelines in one of a few shapes, and none should
need rewriting to be loaded:

* ``aws codepipeline create-pipeline --cli-input-json`` input,
  ``{"pipeline": {...}, "tags": [...]}``, or exactly what ``get-pipeline``
  prints (its ``metadata`` is ignored), or the bare declaration some save;
* the same written in YAML;
* a CloudFormation template (YAML or JSON, hand-written, SAM or
  CDK-synthesized) with ``AWS::CodePipeline::Pipeline`` resources.

The file decides the form, not its name: a template is a mapping with
``Resources`` (or ``AWSTemplateFormatVersion``), create-pipeline input has
``pipeline``, a bare declaration has ``stages``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stageline.ascode.cfn import load_template
from stageline.ascode.model import DefinitionError, LoadedPipeline, describe, suggest
from stageline.ascode.shapes import ShapeWalker, shape
from stageline.ascode.stack import StackContext, stack_name_from_filename
from stageline.ascode.yaml_tags import parse_yaml

MAX_INPUT_BYTES = 5 * 1024 * 1024
_CREATE_PIPELINE_KEYS = ("pipeline", "tags", "metadata")


def load_pipelines(
    text: str,
    *,
    filename: str = "<input>",
    parameters: Mapping[str, str] | None = None,
    region: str = "us-east-1",
    account_id: str = "123456789012",
    stack_name: str | None = None,
) -> list[LoadedPipeline]:
    """Every pipeline declared in ``text``, converted to the API's wire form.

    ``parameters`` are CloudFormation template parameter values; ``region``,
    ``account_id`` and ``stack_name`` are the pseudo parameters a template is
    evaluated with (the stack name defaults to one made from ``filename``).
    Raises :class:`DefinitionError` naming the place in the file at fault.
    """
    if len(text) > MAX_INPUT_BYTES or len(text.encode("utf-8", "replace")) > MAX_INPUT_BYTES:
        raise DefinitionError("", f"the file is larger than {MAX_INPUT_BYTES // 1024 // 1024} MB")
    text = text.removeprefix("\ufeff")
    document, syntax, alias_note = _parse(text, filename)
    if not isinstance(document, dict):
        raise DefinitionError(
            "", f"expected a mapping at the top of the file, found {describe(document)}"
        )
    if "Resources" in document or "AWSTemplateFormatVersion" in document:
        if alias_note is not None:
            raise DefinitionError(
                "",
                "CloudFormation does not allow YAML aliases or '<<' merge keys in templates, "
                f"and {alias_note}; write the values out",
            )
        ctx = StackContext(
            region=region,
            account_id=account_id,
            stack_name=stack_name or stack_name_from_filename(filename),
        )
        return load_template(document, form=f"cfn-{syntax}", ctx=ctx, parameters=parameters or {})
    if parameters:
        raise DefinitionError(
            "",
            "parameter values apply to CloudFormation templates; this file is a "
            "create-pipeline declaration, which has no parameters",
        )
    return [_create_pipeline(document, f"create-pipeline-{syntax}")]


def load_pipeline_file(path: str | os.PathLike[str], **kwargs: Any) -> list[LoadedPipeline]:
    """:func:`load_pipelines` on a file; the file name also names the default stack."""
    file = Path(path)
    try:
        if file.stat().st_size > MAX_INPUT_BYTES:
            raise DefinitionError("", f"{file} is larger than {MAX_INPUT_BYTES // 1024 // 1024} MB")
        data = file.read_bytes()
    except OSError as exc:
        raise DefinitionError("", f"cannot read {file}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DefinitionError("", f"{file} is not UTF-8 text (byte {exc.start})") from None
    kwargs.setdefault("filename", str(file))
    return load_pipelines(text, **kwargs)


def _parse(text: str, filename: str) -> tuple[Any, str, str | None]:
    """The parsed document, whether it was JSON or YAML, and where YAML repeats by alias."""
    stripped = text.lstrip()
    if not stripped:
        raise DefinitionError("", "the file is empty")
    named_json = filename.lower().endswith(".json")
    if named_json or stripped.startswith(("{", "[")):
        try:
            document = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
            return document, "json", None
        except json.JSONDecodeError as exc:
            json_error = DefinitionError(
                "", f"JSON error at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            )
        except RecursionError:
            raise DefinitionError("", "the JSON document is nested too deeply") from None
        if named_json:
            raise json_error
        try:  # "{...}" is also a YAML flow mapping; YAML is a superset of JSON
            document, alias_note = parse_yaml(text)
        except DefinitionError:
            raise json_error from None
        return document, "yaml", alias_note
    document, alias_note = parse_yaml(text)
    return document, "yaml", alias_note


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DefinitionError(
                "",
                f"JSON error: the key {key!r} appears twice in one object "
                f"(keys: {', '.join(k for k, _ in pairs)})",
            )
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise DefinitionError("", f"JSON error: {name} is not valid JSON")


def _create_pipeline(document: dict[str, Any], form: str) -> LoadedPipeline:
    """``{"pipeline": ..., "tags": ...}`` (or get-pipeline output, or a bare declaration)."""
    walker = ShapeWalker(cfn=False)
    declaration_shape = shape("PipelineDeclaration")
    if "pipeline" not in document:
        if "stages" not in document:
            keys = ", ".join(map(str, document)) or "nothing"
            raise DefinitionError(
                "",
                f"no pipeline found: the file has {keys} at the top; expected 'pipeline' "
                "(create-pipeline input or get-pipeline output), a pipeline declaration "
                "('name', 'roleArn', 'stages') or a CloudFormation template ('Resources')"
                + _near_miss(document),
            )
        declaration = walker.structure(document, "", declaration_shape)
        return LoadedPipeline(
            pipeline=declaration, tags=[], origin="", form=form, disabled_transitions=[], notes=[]
        )
    for key in document:
        if key not in _CREATE_PIPELINE_KEYS:
            raise DefinitionError(
                str(key),
                f"'{key}' is not a member of create-pipeline input (pipeline, tags) "
                "or get-pipeline output (pipeline, metadata)"
                + suggest(str(key), _CREATE_PIPELINE_KEYS),
            )
    declaration = walker.structure(document["pipeline"], "pipeline", declaration_shape)
    tags = walker.convert(document["tags"], "tags", shape("TagList")) if "tags" in document else []
    return LoadedPipeline(
        pipeline=declaration,
        tags=tags,
        origin="pipeline",
        form=form,
        disabled_transitions=[],
        notes=[],
    )


def _near_miss(document: dict[str, Any]) -> str:
    """A hint when a top-level key is a near miss of one that marks a known form."""
    for key in document:
        hint = suggest(str(key), ("pipeline", "Resources", "stages"))
        if hint:
            return f"; for '{key}'{hint}"
    return ""
