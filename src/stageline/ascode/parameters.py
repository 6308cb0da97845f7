"""Template parameters: the values ``Ref`` gives, checked as CloudFormation checks them.

A parameter's value is the one the caller passed, else its ``Default``.
Values are strings, as CloudFormation hands them to ``Ref`` even for
``Number``; list types (``CommaDelimitedList``, ``List<...>``) give lists.
A value is checked against ``AllowedValues``, ``AllowedPattern``, the length
and number bounds the first time it is used, not up front: a parameter the
pipeline never reads does not stop it from loading.

``AWS::SSM::Parameter::Value<...>`` parameters hold the *name* of a Parameter
Store entry that CloudFormation reads at deploy time. There is no Parameter
Store here, so a value passed by the caller is taken as the resolved value
itself, and otherwise a placeholder is used and reported as a note.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from stageline.ascode.model import DefinitionError, child, describe, suggest

ParameterValue = str | list[str]


def scalar_text(value: object) -> str | None:
    """How CloudFormation writes a scalar as a string; None for non-scalars."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return None


def _is_list_type(param_type: str) -> bool:
    return (
        param_type == "CommaDelimitedList"
        or "List<" in param_type
        or param_type.endswith("<CommaDelimitedList>")
    )


class Parameters:
    """The ``Parameters`` section plus the values the caller passed."""

    def __init__(self, declared: object, given: Mapping[str, str]) -> None:
        if declared is None:
            declared = {}
        if not isinstance(declared, dict):
            raise DefinitionError("Parameters", f"must be a mapping, found {describe(declared)}")
        for name, spec in declared.items():
            if not isinstance(spec, dict) or not isinstance(spec.get("Type"), str):
                raise DefinitionError(
                    child("Parameters", name), "a parameter needs a mapping with a string 'Type'"
                )
        for name in given:
            if name not in declared:
                raise DefinitionError(
                    "Parameters",
                    f"a value was given for '{name}', which the template does not declare"
                    + suggest(name, declared),
                )
        self._declared: dict[str, dict[str, Any]] = declared
        self._given = dict(given)
        self._checked: dict[str, ParameterValue] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._declared

    @property
    def names(self) -> list[str]:
        return list(self._declared)

    def value(self, name: str, use_path: str) -> tuple[ParameterValue, str | None]:
        """The value of parameter ``name`` used at ``use_path``, and a note if it is a stand-in."""
        spec = self._declared[name]
        param_type: str = spec["Type"]
        if param_type.startswith("AWS::SSM::Parameter::Value<") and name not in self._given:
            return self._ssm_placeholder(name, spec, use_path)
        if name in self._checked:
            return self._checked[name], None
        if name in self._given:
            raw: object = self._given[name]
            origin = "the value given"
        elif "Default" in spec:
            raw = spec["Default"]
            origin = "the Default"
        else:
            raise DefinitionError(
                use_path,
                f"parameter '{name}' has no Default and no value was given; "
                f"pass --parameter {name}=VALUE",
            )
        value = self._convert(name, param_type, raw, origin)
        self._check(name, spec, value, origin)
        self._checked[name] = value
        return value, None

    def _convert(self, name: str, param_type: str, raw: object, origin: str) -> ParameterValue:
        path = child("Parameters", name)
        if _is_list_type(param_type):
            if isinstance(raw, list):
                items = [scalar_text(entry) for entry in raw]
                if any(entry is None for entry in items):
                    raise DefinitionError(path, f"{origin} must be a list of strings")
                return [entry for entry in items if entry is not None]
            text = scalar_text(raw)
            if text is None:
                raise DefinitionError(path, f"{origin} must be a comma-separated string")
            return [part.strip() for part in text.split(",")] if text else []
        text = scalar_text(raw)
        if text is None:
            raise DefinitionError(path, f"{origin} must be a string, found {describe(raw)}")
        return text

    def _check(self, name: str, spec: dict[str, Any], value: ParameterValue, origin: str) -> None:
        path = child("Parameters", name)
        for entry in value if isinstance(value, list) else [value]:
            allowed = spec.get("AllowedValues")
            if isinstance(allowed, list):
                texts = [scalar_text(a) for a in allowed]
                if entry not in texts:
                    raise DefinitionError(
                        path,
                        f"{origin} {entry!r} is not one of the AllowedValues: "
                        + ", ".join(str(t) for t in texts),
                    )
            pattern = spec.get("AllowedPattern")
            if isinstance(pattern, str) and not _matches(pattern, entry):
                hint = spec.get("ConstraintDescription")
                raise DefinitionError(
                    path,
                    f"{origin} {entry!r} does not match AllowedPattern {pattern!r}"
                    + (f": {hint}" if isinstance(hint, str) else ""),
                )
            self._check_bounds(path, spec, entry, origin)

    @staticmethod
    def _check_bounds(path: str, spec: dict[str, Any], entry: str, origin: str) -> None:
        min_length, max_length = _number(spec.get("MinLength")), _number(spec.get("MaxLength"))
        if min_length is not None and len(entry) < min_length:
            raise DefinitionError(
                path, f"{origin} {entry!r} is shorter than MinLength {min_length:g}"
            )
        if max_length is not None and len(entry) > max_length:
            raise DefinitionError(
                path, f"{origin} {entry!r} is longer than MaxLength {max_length:g}"
            )
        if "Number" not in spec["Type"]:
            return
        number = _number(entry)
        if number is None:
            raise DefinitionError(path, f"{origin} {entry!r} is not a number")
        low, high = _number(spec.get("MinValue")), _number(spec.get("MaxValue"))
        if low is not None and number < low:
            raise DefinitionError(path, f"{origin} {entry} is below MinValue {low:g}")
        if high is not None and number > high:
            raise DefinitionError(path, f"{origin} {entry} is above MaxValue {high:g}")

    def _ssm_placeholder(
        self, name: str, spec: dict[str, Any], use_path: str
    ) -> tuple[ParameterValue, str]:
        entry = scalar_text(spec.get("Default"))
        if entry is None:
            raise DefinitionError(
                use_path,
                f"parameter '{name}' names an SSM Parameter Store entry but has no Default; "
                f"pass --parameter {name}=VALUE with the value to use",
            )
        stand_in = "ssm-" + (re.sub(r"[^A-Za-z0-9_.-]+", "-", entry).strip("-") or name)
        value: ParameterValue = [stand_in] if _is_list_type(spec["Type"]) else stand_in
        note = (
            f"parameter '{name}' is read from SSM Parameter Store entry {entry!r} when "
            f"CloudFormation deploys; used {stand_in!r} "
            f"(pass --parameter {name}=VALUE to use the real value)"
        )
        return value, note


def _number(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _matches(pattern: str, value: str) -> bool:
    """AllowedPattern must match the whole value (CloudFormation anchors it)."""
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return True  # a Java-only regex construct: CloudFormation is the judge of it
