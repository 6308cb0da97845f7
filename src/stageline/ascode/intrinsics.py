"""Resolving CloudFormation intrinsic functions the way CloudFormation would.

The :class:`Resolver` works on the parsed template and a path into it. Two
entry points:

* :meth:`Resolver.shallow` evaluates intrinsics at one node until a plain
  value is left and returns it *with the path it came from* (the taken
  ``Fn::If`` branch, the selected list item, the mapping entry), so that a
  mistake found later is reported where the user wrote it;
* :meth:`Resolver.deep` resolves a whole subtree to plain data.

``AWS::NoValue`` comes back as :data:`NO_VALUE`, and callers drop the key or
list item it stands in. Values that only AWS could know are replaced by
stand-ins (see :mod:`stageline.ascode.synthetic`) and reported in ``notes``.
Everything that cannot be resolved raises :class:`DefinitionError` with the
template path. Nesting is capped at :data:`MAX_DEPTH` and total work at
:data:`MAX_STEPS`, because templates are untrusted input.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from stageline.ascode import functions
from stageline.ascode.model import (
    NO_VALUE,
    DefinitionError,
    child,
    describe,
    hint_for,
    item,
    suggest,
)
from stageline.ascode.parameters import Parameters, scalar_text
from stageline.ascode.stack import PSEUDO_PARAMETERS, StackContext
from stageline.ascode.synthetic import (
    StandIn,
    attribute_value,
    known_attributes,
    name_property,
    ref_value,
)

MAX_DEPTH = 100
MAX_STEPS = 2_000_000
#: Characters all string functions of one pipeline may produce together: each
#: Fn::Join / Fn::Sub / Fn::Base64 can multiply its input, and nesting them
#: would otherwise grow without bound.
MAX_PRODUCED = 10_000_000


CONDITION_FUNCTIONS = ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or")


def intrinsic_name(value: object) -> str | None:
    """The function a node calls (``Ref``, ``Fn::Sub``, ...), or None for plain data."""
    if isinstance(value, dict) and len(value) == 1:
        (key,) = value
        if key == "Ref" or (isinstance(key, str) and key.startswith("Fn::")):
            return key
    return None


class Resolver:
    """Evaluates intrinsics in one template; see the module docstring."""

    def __init__(
        self,
        template: dict[str, Any],
        *,
        ctx: StackContext,
        parameters: Parameters,
        notes: list[str],
        implicit_resources: dict[str, str] | None = None,
    ) -> None:
        self.ctx = ctx
        self.parameters = parameters
        self.notes = notes
        self.resources: dict[str, Any] = template.get("Resources") or {}
        self.mappings = _section(template, "Mappings")
        self._conditions = _section(template, "Conditions")
        self._implicit = implicit_resources or {}
        self._condition_values: dict[str, bool] = {}
        self._evaluating: set[str] = set()
        self._names: dict[str, tuple[str | None, str]] = {}
        self._busy: list[str] = []
        self._depth = 0
        self._steps = 0
        self._produced = 0

    # -- entry points -------------------------------------------------------

    def shallow(self, value: Any, path: str) -> tuple[Any, str]:
        """Evaluate intrinsics at this node until plain data is left; return it and its path."""
        with self._nested(path):
            while (fn := intrinsic_name(value)) is not None:
                value, path = self._call(fn, value[fn], path)
            return value, path

    def deep(self, value: Any, path: str) -> Any:
        """Resolve a subtree to plain data; NO_VALUE members and items are dropped."""
        value, path = self.shallow(value, path)
        with self._nested(path):
            if isinstance(value, dict):
                out = {}
                for key, member in value.items():
                    resolved = self.deep(member, child(path, key))
                    if resolved is not NO_VALUE:
                        out[key] = resolved
                return out
            if isinstance(value, list):
                items = (self.deep(entry, item(path, i)) for i, entry in enumerate(value))
                return [entry for entry in items if entry is not NO_VALUE]
            return value

    def string(self, value: Any, path: str, what: str) -> str:
        """Resolve to a string (numbers and booleans written as CloudFormation writes them)."""
        resolved = self.deep(value, path)
        text = scalar_text(resolved)
        if text is None:
            found = "AWS::NoValue" if resolved is NO_VALUE else describe(resolved)
            raise DefinitionError(path, f"{what} must be a string, found {found}")
        return text

    def spend(self, characters: int, path: str) -> None:
        """Account for characters a string function is about to produce; refuse past the budget."""
        self._produced += characters
        if self._produced > MAX_PRODUCED:
            raise DefinitionError(
                path,
                f"the template's functions would produce more than {MAX_PRODUCED:,} "
                "characters; refusing to resolve it",
            )

    def note(self, path: str, text: str) -> None:
        self.notes.append(f"{path}: {text}")

    @contextmanager
    def resolving(self, logical_id: str) -> Iterator[None]:
        """Mark a resource as being resolved, so a reference back to it is a cycle."""
        self._busy.append(logical_id)
        try:
            yield
        finally:
            self._busy.pop()

    @contextmanager
    def _nested(self, path: str) -> Iterator[None]:
        self._depth += 1
        self._steps += 1
        try:
            if self._depth > MAX_DEPTH:
                raise DefinitionError(path, f"nested more than {MAX_DEPTH} levels deep")
            if self._steps > MAX_STEPS:
                raise DefinitionError(path, "the template takes too much work to resolve")
            yield
        finally:
            self._depth -= 1

    # -- dispatch -------------------------------------------------------------

    def _call(self, fn: str, arg: Any, path: str) -> tuple[Any, str]:
        here = child(path, fn)
        if fn == "Ref":
            name = self.string(arg, here, "the argument of Ref")
            return self.ref(name, path, f"Ref {name}"), path
        if fn == "Fn::GetAtt":
            resource, attribute = self._getatt_args(arg, here)
            how = f"Fn::GetAtt {resource}.{attribute}"
            return self.getatt(resource, attribute, path, how, hint_for(path)), path
        if fn == "Fn::If":
            return self._if(arg, here)
        if fn in CONDITION_FUNCTIONS:
            raise DefinitionError(
                path,
                f"{fn} is a condition function; CloudFormation allows it only in the "
                "Conditions section (use Fn::If with a named condition here)",
            )
        if fn == "Fn::Transform":
            raise DefinitionError(
                path,
                "Fn::Transform calls a CloudFormation macro, which runs inside "
                "CloudFormation; expand it (e.g. with 'aws cloudformation package') first",
            )
        handler = functions.FUNCTIONS.get(fn)
        if handler is None:
            known = ["Ref", "Fn::GetAtt", "Fn::If", *functions.FUNCTIONS]
            raise DefinitionError(path, f"unknown intrinsic function {fn}" + suggest(fn, known))
        return handler(self, arg, path)

    # -- Ref and Fn::GetAtt ----------------------------------------------------

    def ref(self, name: str, path: str, how: str) -> Any:
        """The value of ``Ref name`` used at ``path``."""
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in PSEUDO_PARAMETERS:
            return self.ctx.pseudo(name)
        if name.startswith("AWS::"):
            raise DefinitionError(
                path,
                f"{how}: '{name}' is not a pseudo parameter" + suggest(name, PSEUDO_PARAMETERS),
            )
        if name in self.parameters:
            value, note = self.parameters.value(name, path)
            if note:
                self.note(path, note)
            return value
        self._require_resource(name, path, how)
        rtype = self.resource_type(name)
        physical, iam_path = self._physical_name(name, rtype)
        return self._stand_in(path, how, ref_value(name, rtype, physical, iam_path, self.ctx))

    def getatt(self, resource: str, attribute: str, path: str, how: str, hint: str | None) -> str:
        """The value of ``Fn::GetAtt resource.attribute`` used at ``path``."""
        if resource in self.parameters or resource in PSEUDO_PARAMETERS:
            raise DefinitionError(
                path, f"{how}: '{resource}' is a parameter; Fn::GetAtt needs a resource (use Ref)"
            )
        self._require_resource(resource, path, how)
        rtype = self.resource_type(resource)
        known = known_attributes(rtype) or []
        if attribute not in known:
            same = [k for k in known if k.lower() == attribute.lower()]
            if same:
                raise DefinitionError(
                    path,
                    f"{how}: {rtype} has no attribute '{attribute}' (did you mean '{same[0]}'?)",
                )
        physical, iam_path = self._physical_name(resource, rtype)
        stand_in = attribute_value(resource, rtype, attribute, physical, iam_path, self.ctx, hint)
        return self._stand_in(path, how, stand_in)

    def _stand_in(self, path: str, how: str, stand_in: StandIn) -> str:
        self.note(
            path,
            f"{how} stands for {stand_in.noun} created by this template; used {stand_in.value}",
        )
        return stand_in.value

    def _getatt_args(self, arg: Any, path: str) -> tuple[str, str]:
        if isinstance(arg, str) and "." in arg:
            resource, attribute = arg.split(".", 1)
            return resource, attribute
        if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str):
            attribute = self.string(arg[1], item(path, 1), "the attribute name of Fn::GetAtt")
            return arg[0], attribute
        raise DefinitionError(
            path,
            "Fn::GetAtt takes [LogicalId, Attribute] or 'LogicalId.Attribute', "
            f"found {describe(arg)}",
        )

    def resource_type(self, logical_id: str) -> str:
        if logical_id in self._implicit:
            return self._implicit[logical_id]
        resource = self.resources[logical_id]
        rtype = resource.get("Type") if isinstance(resource, dict) else None
        return rtype if isinstance(rtype, str) else "Unknown"

    def _require_resource(self, name: str, path: str, how: str) -> None:
        if name in self._busy:
            raise DefinitionError(
                path,
                f"{how} refers back to resource '{name}', whose properties are being "
                "resolved (CloudFormation reports a circular dependency)",
            )
        if name in self._implicit:
            return
        if name not in self.resources:
            known = [*self.parameters.names, *self.resources, *PSEUDO_PARAMETERS]
            lead = "Ref to" if how.startswith("Ref ") else f"{how}:"
            raise DefinitionError(
                path, f"{lead} '{name}' names no parameter or resource" + suggest(name, known)
            )
        resource = self.resources[name]
        condition = resource.get("Condition") if isinstance(resource, dict) else None
        if isinstance(condition, str):
            cond_path = child(child("Resources", name), "Condition")
            if not self.condition(condition, cond_path):
                raise DefinitionError(
                    path,
                    f"{how} names resource '{name}', which is not created: its Condition "
                    f"'{condition}' is false (wrap the reference in Fn::If)",
                )

    def _physical_name(self, logical_id: str, rtype: str) -> tuple[str | None, str]:
        """The name the template gives the resource (its name property), if any, and IAM path."""
        if logical_id in self._names:
            return self._names[logical_id]
        resource = self.resources.get(logical_id)
        props = resource.get("Properties") if isinstance(resource, dict) else None
        name: str | None = None
        iam_path = "/"
        if isinstance(props, dict):
            base = child(child("Resources", logical_id), "Properties")
            prop = name_property(rtype)
            with self.resolving(logical_id):
                if prop and prop in props:
                    value = self.deep(props[prop], child(base, prop))
                    name = None if value is NO_VALUE else scalar_text(value)
                if rtype.startswith("AWS::IAM::") and "Path" in props:
                    value = self.deep(props["Path"], child(base, "Path"))
                    iam_path = scalar_text(value) or "/"
        self._names[logical_id] = (name, iam_path)
        return name, iam_path

    # -- Fn::If and conditions ------------------------------------------------

    def _if(self, arg: Any, path: str) -> tuple[Any, str]:
        if not (isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str)):
            raise DefinitionError(
                path,
                f"Fn::If takes [ConditionName, ValueIfTrue, ValueIfFalse], found {describe(arg)}",
            )
        index = 1 if self.condition(arg[0], item(path, 0)) else 2
        return arg[index], item(path, index)

    def condition(self, name: str, path: str) -> bool:
        """The value of a named condition from the Conditions section."""
        if name in self._condition_values:
            return self._condition_values[name]
        if name not in self._conditions:
            raise DefinitionError(
                path,
                f"condition '{name}' is not defined in the Conditions section"
                + suggest(name, self._conditions),
            )
        if name in self._evaluating:
            raise DefinitionError(path, f"condition '{name}' depends on itself")
        self._evaluating.add(name)
        try:
            value = self._condition_expression(self._conditions[name], child("Conditions", name))
        finally:
            self._evaluating.discard(name)
        self._condition_values[name] = value
        return value

    def _condition_expression(self, value: Any, path: str) -> bool:
        if isinstance(value, dict) and len(value) == 1:
            ((fn, arg),) = value.items()
            here = child(path, fn)
            if fn == "Condition" and isinstance(arg, str):
                return self.condition(arg, here)
            if fn == "Fn::Equals" and isinstance(arg, list) and len(arg) == 2:
                first = self.deep(arg[0], item(here, 0))
                second = self.deep(arg[1], item(here, 1))
                return _comparable(first) == _comparable(second)
            if fn == "Fn::Not" and isinstance(arg, list) and len(arg) == 1:
                return not self._condition_expression(arg[0], item(here, 0))
            if fn in ("Fn::And", "Fn::Or") and isinstance(arg, list) and 2 <= len(arg) <= 10:
                results = [self._condition_expression(a, item(here, i)) for i, a in enumerate(arg)]
                return all(results) if fn == "Fn::And" else any(results)
            if fn in (*CONDITION_FUNCTIONS, "Condition"):
                raise DefinitionError(here, f"malformed {fn}: {_CONDITION_SHAPES[fn]}")
        raise DefinitionError(
            path,
            "a condition must be Fn::Equals, Fn::Not, Fn::And, Fn::Or or "
            f"{{Condition: Name}}, found {describe(value)}",
        )


_CONDITION_SHAPES = {
    "Condition": "takes the name of a condition",
    "Fn::Equals": "takes a list of two values",
    "Fn::Not": "takes a list of one condition",
    "Fn::And": "takes a list of 2 to 10 conditions",
    "Fn::Or": "takes a list of 2 to 10 conditions",
}


def _comparable(value: Any) -> Any:
    """Fn::Equals compares as CloudFormation does: scalars as their string form."""
    if isinstance(value, list):
        return [_comparable(entry) for entry in value]
    if isinstance(value, dict):
        return {key: _comparable(entry) for key, entry in value.items()}
    if value is NO_VALUE:
        return None
    text = scalar_text(value)
    return text if text is not None else value


def _section(template: dict[str, Any], name: str) -> dict[str, Any]:
    section = template.get(name)
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise DefinitionError(name, f"must be a mapping, found {describe(section)}")
    return section
