"""What a rule's target receives: the event, a constant ``Input``, an ``InputPath``, or an
``InputTransformer`` - EventBridge's three PutTargets options, which exclude one another.

Targets (HTTP endpoints, local commands, StartPipelineExecution) are configured with AWS's
own ``PutTargets`` shapes, so a transformer written for AWS must produce the same text here.
Sources: the EventBridge User Guide ("Amazon EventBridge input transformation") and the
``events`` botocore model for the limits (100 paths, keys ``[A-Za-z0-9_-]+``, paths and keys up
to 256 characters, templates and ``Input`` up to 8192).

Rendering rules:

- A template that starts with ``{`` or ``[`` is JSON. A placeholder outside quotes becomes the
  value's JSON (a string gains quotes: ``{"state": <state>}`` gives ``{"state": "RUNNING"}``);
  inside quotes it becomes the value's text. The output is minified, as the guide says.
- A template that starts with ``"`` is one JSON string; placeholders in it become text.
- Any other template is plain text; values are inserted as they are (non-strings as JSON).
- Inside quotes stageline JSON-escapes the inserted text, so the output is always valid JSON.
  The guide says EventBridge "doesn't escape values extracted by Input Path", which breaks the
  JSON when a value holds a quote; that is the one deliberate difference.
- A path that finds nothing leaves its placeholder empty (``null`` outside quotes in a JSON
  template, so the JSON stays valid); the guide says only that the variable "isn't created".
- Reserved variables: ``<aws.events.rule-name>``, ``<aws.events.rule-arn>``,
  ``<aws.events.event.ingestion-time>`` (ISO 8601), ``<aws.events.event>`` (the event without
  ``detail``, per the current guide) and ``<aws.events.event.json>`` (the whole event).
- A placeholder may not be an object key in a JSON template, and a JSON template must be valid
  JSON once its placeholders are filled; both are refused when the transformer is built.
- Paths: ``$``, ``.name`` (dot notation; bracket names are refused), ``[3]``, ``[*]``, ``.*``.
  A path with a wildcard yields the list of what it finds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

__all__ = [
    "RESERVED_VARIABLES",
    "ConstantInput",
    "InputPath",
    "InputTransformer",
    "JsonPath",
    "RuleContext",
    "TargetInput",
    "TransformError",
    "WholeEvent",
    "target_input",
]

MAX_PATHS = 100
MAX_PATH_LENGTH = 256
MAX_TEMPLATE_LENGTH = 8192
MAX_INPUT_LENGTH = 8192
RESERVED_VARIABLES = (
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event",
    "aws.events.event.json",
    "aws.events.event.ingestion-time",
)
_KEY = re.compile(r"[A-Za-z0-9_\-]{1,256}")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_\-.]+)>")
_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+|\*)\]")
_MISSING = object()


class TransformError(ValueError):
    """A target input EventBridge's PutTargets would refuse (``ValidationException``)."""


@dataclass(frozen=True)
class RuleContext:
    """What the reserved variables read: the matching rule, and when the event arrived."""

    rule_name: str = ""
    rule_arn: str = ""
    ingestion_time: str | None = None  # ISO 8601; the moment of rendering when not given

    def values(self, event: Mapping[str, Any]) -> dict[str, Any]:
        time = self.ingestion_time or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "aws.events.rule-arn": self.rule_arn,
            "aws.events.rule-name": self.rule_name,
            "aws.events.event": {k: v for k, v in event.items() if k != "detail"},
            "aws.events.event.json": event,
            "aws.events.event.ingestion-time": time,
        }


class TargetInput(Protocol):
    """Turns a matched event into the text its target receives."""

    def render(self, event: Mapping[str, Any], context: RuleContext) -> str: ...


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class WholeEvent:
    """No Input, InputPath or InputTransformer: the target receives the whole event."""

    def render(self, event: Mapping[str, Any], context: RuleContext) -> str:
        return _dumps(event)


class ConstantInput:
    """PutTargets ``Input``: fixed JSON text; nothing from the event reaches the target."""

    def __init__(self, text: str) -> None:
        if len(text) > MAX_INPUT_LENGTH:
            raise TransformError(
                f"Input is {len(text)} characters; the limit is {MAX_INPUT_LENGTH}"
            )
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise TransformError(
                f"Input must be valid JSON text: {exc.msg} (column {exc.colno})"
            ) from None
        self.text = text

    def render(self, event: Mapping[str, Any], context: RuleContext) -> str:
        return self.text


class JsonPath:
    """The JSONPath subset EventBridge evaluates: dot names, array indexes and ``*``."""

    def __init__(self, text: str, *, what: str = "path") -> None:
        if not text.startswith("$") or len(text) > MAX_PATH_LENGTH:
            raise TransformError(
                f"{what} {text!r} must start with $ and be at most {MAX_PATH_LENGTH} characters, as in $.detail.state"
            )
        steps: list[str | int] = []
        at = 1
        while at < len(text):
            found = _STEP.match(text, at)
            if found is None:
                fix = "use dot notation, as in $.detail.state or $.resources[0]"
                raise TransformError(f"{what} {text!r} cannot be read at position {at}; {fix}")
            name, index = found.groups()
            steps.append(name if name is not None else ("*" if index == "*" else int(index)))
            at = found.end()
        self.text = text
        self.steps = tuple(steps)
        self.definite = "*" not in self.steps

    def find(self, document: Any) -> Any:
        """The value at the path (``_MISSING`` when absent), or the list found by a wildcard."""
        found = [document]
        for step in self.steps:
            found = [child for node in found for child in _children(node, step)]
        if self.definite:
            return found[0] if found else _MISSING
        return found


def _children(node: Any, step: str | int) -> list[Any]:
    if step == "*":
        return (
            list(node.values())
            if isinstance(node, dict)
            else list(node)
            if isinstance(node, list)
            else []
        )
    if isinstance(step, int):
        return [node[step]] if isinstance(node, list) and step < len(node) else []
    return [node[step]] if isinstance(node, dict) and step in node else []


class InputPath:
    """PutTargets ``InputPath``: the target receives the part of the event the path selects."""

    def __init__(self, path: str) -> None:
        self.path = JsonPath(path, what="InputPath")

    def render(self, event: Mapping[str, Any], context: RuleContext) -> str:
        value = self.path.find(event)
        return "null" if value is _MISSING else _dumps(value)


@dataclass(frozen=True)
class _Slot:
    name: str
    quoted: bool  # inside a JSON string literal


class InputTransformer:
    """PutTargets ``InputTransformer``: values picked by ``InputPathsMap`` filled into a template."""

    def __init__(self, input_paths_map: Mapping[str, str] | None, input_template: str) -> None:
        paths = dict(input_paths_map or {})
        if len(paths) > MAX_PATHS:
            raise TransformError(
                f"InputPathsMap has {len(paths)} entries; the limit is {MAX_PATHS}"
            )
        self.paths: dict[str, JsonPath] = {}
        for key, path in paths.items():
            if key in RESERVED_VARIABLES or key.lower().startswith("aws."):
                raise TransformError(
                    f"InputPathsMap key {key!r} is reserved; aws.* names are EventBridge's"
                )
            if not _KEY.fullmatch(key):
                raise TransformError(
                    f"InputPathsMap key {key!r} must be 1-256 characters of A-Z a-z 0-9 _ -"
                )
            if not isinstance(path, str):
                raise TransformError(
                    f"InputPathsMap[{key!r}] must be a JSONPath string, as in $.detail.state"
                )
            self.paths[key] = JsonPath(path, what=f"InputPathsMap[{key!r}]")
        if not 1 <= len(input_template) <= MAX_TEMPLATE_LENGTH:
            raise TransformError(f"InputTemplate must be 1-{MAX_TEMPLATE_LENGTH} characters")
        self.template = input_template
        head = input_template.lstrip()[:1]
        self.mode = "json" if head in ("{", "[") else "string" if head == '"' else "text"
        self.parts = self._parse(input_template)
        self.used = {part.name for part in self.parts if isinstance(part, _Slot)}
        self.needs_context = bool(self.used & set(RESERVED_VARIABLES))
        if self.mode == "json":
            self._check_json()

    def render(self, event: Mapping[str, Any], context: RuleContext) -> str:
        values: dict[str, Any] = {}
        reserved = context.values(event) if self.needs_context else {}
        for name in self.used:
            values[name] = reserved[name] if name in reserved else self.paths[name].find(event)
        return "".join(
            part if isinstance(part, str) else self._fill(part, values[part.name])
            for part in self.parts
        )

    def _fill(self, slot: _Slot, value: Any) -> str:
        if value is _MISSING:
            return "null" if self.mode == "json" and not slot.quoted else ""
        if slot.quoted:
            text = value if isinstance(value, str) else _dumps(value)
            return json.dumps(text, ensure_ascii=False)[1:-1]
        if self.mode == "json" or not isinstance(value, str):
            return _dumps(value)
        return value

    def _known(self, name: str) -> bool:
        return name in self.paths or name in RESERVED_VARIABLES

    def _parse(self, template: str) -> list[str | _Slot]:
        """Split into literal text and slots, noting which slots sit inside a JSON string."""
        parts: list[str | _Slot] = []
        literal: list[str] = []
        tracks_quotes = self.mode != "text"
        quoted = escaped = False
        i = 0
        while i < len(template):
            char = template[i]
            found = _PLACEHOLDER.match(template, i) if char == "<" else None
            if found is not None and self._known(found.group(1)):
                if literal:
                    parts.append("".join(literal))
                    literal = []
                parts.append(_Slot(found.group(1), quoted and tracks_quotes))
                i, escaped = found.end(), False
                if self.mode == "json" and not quoted and template[i:].lstrip().startswith(":"):
                    raise TransformError(
                        f"InputTemplate uses <{found.group(1)}> as an object key; placeholders can only be values"
                    )
                continue
            if tracks_quotes and quoted:
                if escaped:
                    escaped = False
                elif char == "\\":
                    escaped = True
                elif char == '"':
                    quoted = False
                    self._refuse_quoted_key(template, i, parts)
            elif tracks_quotes and char == '"':
                quoted = True
                parts.append("".join(literal) + '"')
                literal = []
                i += 1
                continue
            if not (self.mode == "json" and not quoted and char in " \t\r\n"):
                literal.append(char)  # a JSON template is minified outside its strings
            i += 1
        if literal:
            parts.append("".join(literal))
        return parts

    def _refuse_quoted_key(self, template: str, end: int, parts: list[str | _Slot]) -> None:
        """A closing quote followed by ':' ends a key; refuse one that holds a placeholder."""
        if self.mode != "json" or not template[end + 1 :].lstrip().startswith(":"):
            return
        opening = max(
            i for i, part in enumerate(parts) if isinstance(part, str) and part.endswith('"')
        )
        slots = [part for part in parts[opening + 1 :] if isinstance(part, _Slot)]
        if slots:
            raise TransformError(
                f"InputTemplate uses <{slots[0].name}> in an object key; placeholders can only be values"
            )

    def _check_json(self) -> None:
        sample = "".join(
            part if isinstance(part, str) else self._fill(part, _MISSING) for part in self.parts
        )
        try:
            json.loads(sample)
        except json.JSONDecodeError as exc:
            unknown = [f"<{n}>" for n in _PLACEHOLDER.findall(self.template) if not self._known(n)]
            why = f"; {', '.join(unknown)} is not in InputPathsMap" if unknown else ""
            raise TransformError(
                "InputTemplate starts like JSON but is not valid JSON once its placeholders are "
                f"filled ({exc.msg} at column {exc.colno}){why}"
            ) from None


def target_input(
    *,
    input: str | None = None,
    input_path: str | None = None,
    input_transformer: InputTransformer | Mapping[str, Any] | None = None,
) -> TargetInput:
    """The renderer for one PutTargets target; ``input_transformer`` may be AWS's wire shape."""
    given = [
        name
        for name, value in (
            ("Input", input),
            ("InputPath", input_path),
            ("InputTransformer", input_transformer),
        )
        if value is not None
    ]
    if len(given) > 1:
        raise TransformError(
            f"a target takes only one of Input, InputPath and InputTransformer; got {', '.join(given)}"
        )
    if input is not None:
        return ConstantInput(input)
    if input_path is not None:
        return InputPath(input_path)
    if isinstance(input_transformer, InputTransformer):
        return input_transformer
    if input_transformer is not None:
        if "InputTemplate" not in input_transformer:
            raise TransformError("InputTransformer needs an InputTemplate")
        return InputTransformer(
            input_transformer.get("InputPathsMap"), input_transformer["InputTemplate"]
        )
    return WholeEvent()
