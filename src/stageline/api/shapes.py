"""Checking requests against botocore's service models, and shaping responses to them.

The rule (DESIGN.md §2.1): the wire format is AWS's. Input is validated the way
AWS's front end does it (required members, types, lengths, ranges, patterns and
enums) and reported in AWS's words ("Value 'x' at 'pipeline.name' failed to
satisfy constraint: ..."). Output is filtered to the members of the output shape
and timestamps become epoch seconds, so whatever boto3 parses is exactly what
the model describes.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from stageline.errors import SerializationError, ValidationError

MAX_REPORTED_ERRORS = 10


@cache
def service_model(name: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(name)


@dataclass(frozen=True)
class Violation:
    path: str
    value: Any
    constraint: str
    hint: str = ""

    def render(self) -> str:
        shown = _short_repr(self.value)
        text = f"Value {shown} at '{self.path}' failed to satisfy constraint: {self.constraint}"
        return f"{text} ({self.hint})" if self.hint else text


def _short_repr(value: Any) -> str:
    if value is None:
        return "null"
    text = value if isinstance(value, str) else repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"'{text}'"


# Unicode property classes some models use (CodeBuild's tags: ``[\p{L}\p{Z}\p{N}_.:/=@+\-]``),
# which Python's ``re`` lacks, as the nearest classes it has. Within a character class
# beside ``_`` and digits, ``\w`` for letters accepts exactly what the model does.
_PROPERTY_CLASSES = {r"\p{L}": r"\w", r"\p{N}": r"\d", r"\p{Z}": r"\s"}


@cache
def _pattern(regex: str) -> re.Pattern[str] | None:
    """The model's pattern compiled; None for one ``re`` cannot express (not checked)."""
    for prop, equivalent in _PROPERTY_CLASSES.items():
        regex = regex.replace(prop, equivalent)
    try:
        return re.compile(regex, re.DOTALL)
    except re.error:
        return None


def check_input(operation: OperationModel, params: Any) -> dict[str, Any]:
    """Validate a request body for ``operation``; raise ValidationError listing every problem."""
    if not isinstance(params, dict):
        raise SerializationError("the request body must be a JSON object")
    shape = operation.input_shape
    if shape is None:
        return {}
    violations = list(_walk(shape, params, ""))
    if violations:
        count = len(violations)
        noun = "error" if count == 1 else "errors"
        shown = "; ".join(v.render() for v in violations[:MAX_REPORTED_ERRORS])
        more = f"; and {count - MAX_REPORTED_ERRORS} more" if count > MAX_REPORTED_ERRORS else ""
        raise ValidationError(f"{count} validation {noun} detected: {shown}{more}")
    return params


def violations_of(shape: Shape, value: Any, path: str = "") -> list[Violation]:
    """Every constraint ``value`` breaks against ``shape`` (used by tests on responses too)."""
    return list(_walk(shape, value, path))


def _join(path: str, member: str) -> str:
    return f"{path}.{member}" if path else member


def _walk(shape: Shape, value: Any, path: str) -> Iterator[Violation]:
    if shape.metadata.get("sensitive") and value is not None:
        # A secret's value is never repeated back, not even in a validation error.
        for violation in _walk_value(shape, value, path):
            yield Violation(violation.path, _Hidden(), violation.constraint, violation.hint)
        return
    yield from _walk_value(shape, value, path)


class _Hidden:
    def __repr__(self) -> str:
        return "***"


def _walk_value(shape: Shape, value: Any, path: str) -> Iterator[Violation]:
    kind = shape.type_name
    if value is None:
        return
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if not isinstance(value, dict):
            yield Violation(path or "body", value, "Member must be an object")
            return
        for name in shape.required_members:
            if value.get(name) is None:
                yield Violation(_join(path, name), None, "Member must not be null")
        for name, item in value.items():
            member = shape.members.get(name)
            if member is None:
                yield Violation(
                    _join(path, name),
                    item,
                    "Member must be one of the structure's members",
                    hint=f"known members: {', '.join(shape.members)}",
                )
                continue
            yield from _walk(member, item, _join(path, name))
    elif kind == "list":
        assert isinstance(shape, ListShape)
        if not isinstance(value, list):
            yield Violation(path, value, "Member must be a list")
            return
        yield from _length(shape, value, path)
        for index, item in enumerate(value, start=1):
            yield from _walk(shape.member, item, f"{path}.{index}.member")
    elif kind == "map":
        assert isinstance(shape, MapShape)
        if not isinstance(value, dict):
            yield Violation(path, value, "Member must be a map (a JSON object)")
            return
        yield from _length(shape, value, path)
        for key, item in value.items():
            yield from _walk(shape.key, key, f"{path}.key")
            yield from _walk(shape.value, item, f"{path}.{key}")
    elif kind == "string":
        if not isinstance(value, str):
            yield Violation(path, value, "Member must be a string")
            return
        yield from _length(shape, value, path)
        enum = shape.enum
        if enum and value not in enum:
            yield Violation(path, value, f"Member must satisfy enum value set: [{', '.join(enum)}]")
        regex = shape.metadata.get("pattern")
        pattern = _pattern(regex) if regex else None
        if pattern is not None and not pattern.fullmatch(value):
            yield Violation(path, value, f"Member must satisfy regular expression pattern: {regex}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            yield Violation(path, value, "Member must be an integer")
            return
        yield from _range(shape, value, path)
    elif kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            yield Violation(path, value, "Member must be a number")
            return
        yield from _range(shape, value, path)
    elif kind == "boolean":
        if not isinstance(value, bool):
            yield Violation(path, value, "Member must be a boolean")
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            yield Violation(path, value, "Member must be a timestamp (epoch seconds)")
    elif kind == "blob":
        if not isinstance(value, str):
            yield Violation(path, value, "Member must be base64-encoded data")
            return
        try:
            base64.b64decode(value, validate=True)
        except ValueError:
            yield Violation(path, value, "Member must be base64-encoded data")


def _length(shape: Shape, value: Any, path: str) -> Iterator[Violation]:
    low = shape.metadata.get("min")
    high = shape.metadata.get("max")
    size = len(value)
    unit = "length" if isinstance(value, str) else "size"
    if low is not None and size < low:
        yield Violation(path, value, f"Member must have {unit} greater than or equal to {low}")
    if high is not None and size > high:
        yield Violation(path, value, f"Member must have {unit} less than or equal to {high}")


def _range(shape: Shape, value: float, path: str) -> Iterator[Violation]:
    low = shape.metadata.get("min")
    high = shape.metadata.get("max")
    if low is not None and value < low:
        yield Violation(path, value, f"Member must have value greater than or equal to {low}")
    if high is not None and value > high:
        yield Violation(path, value, f"Member must have value less than or equal to {high}")


def shape_output(shape: Shape | None, value: Any) -> Any:
    """Keep only what ``shape`` describes; timestamps become epoch seconds."""
    if shape is None or value is None:
        return {} if shape is None else None
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        out = {}
        for name, item in value.items():
            member = shape.members.get(name)
            if member is not None and item is not None:
                out[name] = shape_output(member, item)
        return out
    if kind == "list":
        assert isinstance(shape, ListShape)
        return [shape_output(shape.member, item) for item in value]
    if kind == "map":
        assert isinstance(shape, MapShape)
        return {key: shape_output(shape.value, item) for key, item in value.items()}
    if kind == "timestamp":
        if isinstance(value, dt.datetime):
            return value.timestamp()
        return value
    return value
