"""Resolving ``#{Namespace.Variable}`` references when an action starts (DESIGN.md §3 Variables)."""

from __future__ import annotations

import re
from collections.abc import Mapping

REFERENCE = re.compile(r"#\{([A-Za-z0-9@\-_]+)\.([A-Za-z0-9@\-_.]+)\}")


class UnresolvedVariable(Exception):
    """A reference with no value at the time the action starts."""

    def __init__(self, reference: str, reason: str) -> None:
        super().__init__(f"{reference}: {reason}")
        self.reference = reference
        self.reason = reason


def resolve(text: str, namespaces: Mapping[str, Mapping[str, str]]) -> str:
    def substitute(match: re.Match[str]) -> str:
        namespace, name = match.group(1), match.group(2)
        values = namespaces.get(namespace)
        if values is None:
            raise UnresolvedVariable(
                match.group(0), f"namespace '{namespace}' has produced no variables"
            )
        if name not in values:
            known = ", ".join(sorted(values)) or "none"
            raise UnresolvedVariable(
                match.group(0),
                f"namespace '{namespace}' has no variable '{name}' (it has: {known})",
            )
        return values[name]

    return REFERENCE.sub(substitute, text)


def resolve_all(
    values: Mapping[str, str], namespaces: Mapping[str, Mapping[str, str]]
) -> dict[str, str]:
    return {key: resolve(value, namespaces) for key, value in values.items()}
