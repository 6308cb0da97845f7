"""The result of loading a pipeline file, the error it raises, and template paths.

Every message this package produces names the place in the user's file it is
about ("Resources.Pipeline.Properties.Stages[1].Actions[0].Configuration"),
because the file is what the user will open to fix it. Paths are built with
:func:`child` and :func:`item` so they read the same everywhere.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class LoadedPipeline:
    """One pipeline read from a file, in the API wire form ``CreatePipeline`` takes.

    ``pipeline`` is a ``PipelineDeclaration`` (camelCase members); ``tags`` go
    beside it in ``CreatePipeline``, as in the API. ``disabled_transitions``
    carries CloudFormation's ``DisableInboundStageTransitions``, which the
    declaration has no member for (on AWS they become ``DisableStageTransition``
    calls). ``notes`` list every value that stands in for something only AWS
    could know (a role this template creates, another stack's export, ...).
    """

    pipeline: dict[str, Any]
    tags: list[dict[str, str]]
    origin: str
    form: str
    disabled_transitions: list[dict[str, str]]
    notes: list[str]


class DefinitionError(ValueError):
    """A file that cannot be turned into a pipeline declaration, and where.

    ``path`` is the location in the file ("" for the whole file); ``message``
    says what is wrong and, where there is one, the fix.
    """

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


class _NoValue:
    """The value of ``Ref: AWS::NoValue``: removes the key or list item that holds it."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()


def child(path: str, key: object) -> str:
    """The path of member ``key`` inside ``path``."""
    return f"{path}.{key}" if path else str(key)


def item(path: str, index: int) -> str:
    """The path of list element ``index`` inside ``path``."""
    return f"{path}[{index}]"


def hint_for(path: str) -> str | None:
    """The property a value at ``path`` lands in, when the value is the whole property.

    Stand-ins are shaped by it (a role ARN for ``RoleArn``); a value inside a
    list or spliced into a string by ``Fn::Join`` / ``Fn::Sub`` gets no hint.
    """
    last = path.rsplit(".", 1)[-1]
    if last.endswith("]") or last.startswith("Fn::") or last == "Ref":
        return None
    return last


def suggest(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'X'?)`` when a candidate is close to ``name``, else ""."""
    options = sorted(set(candidates))
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if not close:
        # "Bucket   // a comment": a real name followed by text that is not part of it
        close = sorted(
            (
                c
                for c in options
                if name[: len(c)] == c and len(name) > len(c) > 0 and not name[len(c)].isalnum()
            ),
            key=len,
            reverse=True,
        )[:1]
        if close and "//" in name:
            return f" (did you mean '{close[0]}'? YAML comments start with '#', not '//')"
    return f" (did you mean '{close[0]}'?)" if close else ""


def describe(value: object) -> str:
    """A short name for the kind of a parsed value, for type errors."""
    if value is None:
        return "null"
    if value is NO_VALUE:
        return "AWS::NoValue"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
