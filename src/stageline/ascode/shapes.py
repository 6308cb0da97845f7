"""Walk a declaration against botocore's ``PipelineDeclaration`` shape.

Both input styles go through here: CloudFormation properties (PascalCase,
values that CloudFormation coerces) and the API's own camelCase form. The
shape, not a hand-typed list, decides which members exist, so a member the
API model does not have is an error naming its path and the closest real
name, rather than being dropped on the way to the engine.

CloudFormation style follows CloudFormation's coercions: a number or boolean
where the API takes a string becomes its text (``PollForSourceChanges: false``
→ ``"false"``, ``Version: 1`` → ``"1"``), and a numeric string where it takes
an integer becomes the integer (``RunOrder: "2"``). The API style is as strict
as the API: ``aws codepipeline create-pipeline`` rejects those, so do we.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StructureShape

from stageline.ascode.model import NO_VALUE, DefinitionError, child, describe, item, suggest
from stageline.ascode.parameters import scalar_text

Shallow = Callable[[Any, str], tuple[Any, str]]

_CFN_NAMES = {
    "PipelineDeclaration": "AWS::CodePipeline::Pipeline",
    "PipelineVariableDeclaration": "VariableDeclaration",
}
# API members CloudFormation has no property for.
_NOT_IN_CFN = {("PipelineDeclaration", "version")}
_CONFIGURATION_MAPS = ("ActionConfigurationMap", "RuleConfigurationMap")


@functools.cache
def shape(name: str) -> Shape:
    """A shape of the ``codepipeline`` service model that ships inside botocore."""
    model = botocore.session.get_session().get_service_model("codepipeline")
    return model.shape_for(name)


def _no_resolution(value: Any, path: str) -> tuple[Any, str]:
    return value, path


class ShapeWalker:
    """Converts a declaration to the API wire form, checking it against the model."""

    def __init__(self, *, cfn: bool, shallow: Shallow | None = None) -> None:
        self.cfn = cfn
        self._shallow = shallow or _no_resolution
        self._word = "property" if cfn else "member"

    def external(self, member: str) -> str:
        """How the input spells an API member: ``roleArn`` or CloudFormation's ``RoleArn``."""
        return member[:1].upper() + member[1:] if self.cfn else member

    def convert(self, value: Any, path: str, target: Shape) -> Any:
        """The wire value for ``value`` at ``path``; NO_VALUE when it is absent."""
        value, path = self._shallow(value, path)
        if value is NO_VALUE:
            return NO_VALUE
        if value is None:
            if self.cfn:
                return NO_VALUE  # an empty YAML value: CloudFormation treats it as not set
            raise DefinitionError(path, "null is not a valid value; leave the member out instead")
        if isinstance(target, StructureShape):
            return self.structure(value, path, target)
        if isinstance(target, ListShape):
            return self._list(value, path, target)
        if isinstance(target, MapShape):
            return self._map(value, path, target)
        if target.type_name == "string":
            return self._string(value, path)
        if target.type_name in ("integer", "long"):
            return self._integer(value, path)
        if target.type_name == "boolean":
            return self._boolean(value, path)
        raise DefinitionError(path, f"unsupported shape type {target.type_name}")

    def structure(
        self, value: Any, path: str, target: StructureShape, skip: Collection[str] = ()
    ) -> dict[str, Any]:
        """Convert a mapping member by member; ``skip`` names input keys the caller handles."""
        label = _CFN_NAMES.get(target.name, target.name) if self.cfn else target.name
        if not isinstance(value, dict):
            raise DefinitionError(path, f"expected a {label} mapping, found {describe(value)}")
        members = {
            self.external(m): m
            for m in target.members
            if not (self.cfn and (target.name, m) in _NOT_IN_CFN)
        }
        converted: dict[str, Any] = {}
        for key, member_value in value.items():
            if key in skip:
                continue
            if key not in members:
                raise DefinitionError(child(path, key), self._unknown(str(key), label, members))
            member = members[key]
            result = self.convert(member_value, child(path, key), target.members[member])
            if result is not NO_VALUE:
                converted[member] = result
        for member in target.required_members:
            if member not in converted and self.external(member) not in skip:
                raise DefinitionError(
                    path, f"{label} is missing the required {self._word} '{self.external(member)}'"
                )
        order = list(target.members)
        return dict(sorted(converted.items(), key=lambda pair: order.index(pair[0])))

    def _unknown(self, key: str, label: str, members: Collection[str]) -> str:
        if not self.cfn and (key == "Ref" or key.startswith("Fn::")):
            return (
                f"{key} is a CloudFormation intrinsic function; it only works in a CloudFormation "
                "template (a file with a Resources section), not in a create-pipeline file"
            )
        return f"'{key}' is not a {self._word} of {label}" + suggest(key, members)

    def _list(self, value: Any, path: str, target: ListShape) -> list[Any]:
        if not isinstance(value, list):
            raise DefinitionError(path, f"expected a list, found {describe(value)}")
        items = (self.convert(entry, item(path, i), target.member) for i, entry in enumerate(value))
        return [entry for entry in items if entry is not NO_VALUE]

    def _map(self, value: Any, path: str, target: MapShape) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise DefinitionError(path, f"expected a mapping, found {describe(value)}")
        converted: dict[str, Any] = {}
        configuration = target.name in _CONFIGURATION_MAPS
        for key, entry in value.items():
            key_text = scalar_text(key) if self.cfn else key
            if not isinstance(key_text, str):
                raise DefinitionError(path, f"keys must be strings, found {describe(key)}")
            entry, entry_path = self._shallow(entry, child(path, key_text))
            if configuration and isinstance(entry, dict | list):
                raise DefinitionError(
                    entry_path,
                    f"configuration values are strings, found {describe(entry)}; to pass JSON "
                    "write it as a string"
                    + (" (Fn::ToJsonString or Fn::Sub can build it)" if self.cfn else ""),
                )
            result = self.convert(entry, entry_path, target.value)
            if result is not NO_VALUE:
                converted[key_text] = result
        return converted

    def _string(self, value: Any, path: str) -> str:
        if isinstance(value, str):
            return value
        text = scalar_text(value)
        if text is not None and self.cfn:
            return text
        quote = f' (write it in quotes: "{text}")' if text is not None else ""
        raise DefinitionError(path, f"expected a string, found {describe(value)}{quote}")

    def _integer(self, value: Any, path: str) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if self.cfn:
            if isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]+\s*", value):
                return int(value)
            if isinstance(value, float) and value.is_integer():
                return int(value)
        raise DefinitionError(path, f"expected a whole number, found {describe(value)}")

    def _boolean(self, value: Any, path: str) -> bool:
        if isinstance(value, bool):
            return value
        if self.cfn and isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise DefinitionError(path, f"expected true or false, found {describe(value)}")
