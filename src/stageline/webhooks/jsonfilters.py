"""A webhook's filter rules: a JsonPath into the payload that must equal ``matchEquals``.

AWS's rules (WebhookFilterRule): every rule must pass for the pipeline to
start; ``matchEquals`` may hold ``{Name}`` placeholders, replaced by the target
action's configuration value of that name, so ``refs/heads/{Branch}`` follows
the action's branch. The JsonPath dialect is Java's Jayway JsonPath; the
jsonpath-ng extended parser reads the same expressions for the paths webhook
payloads need (``$.ref``, ``$.repository.full_name``, ``$.commits[0].id``,
filters). A path that selects several values passes when any equals; a rule
without ``matchEquals`` passes when the path selects anything. Scalars compare
as their JSON text (``true``, ``42``), strings as themselves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from jsonpath_ng import JSONPath
from jsonpath_ng.exceptions import JSONPathError
from jsonpath_ng.ext import parse

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class FilterError(ValueError):
    """A rule that cannot be evaluated: a bad path, or a placeholder with no value."""


@lru_cache(maxsize=512)
def compile_path(expression: str) -> JSONPath:
    try:
        return parse(expression)
    except (JSONPathError, ValueError, TypeError, AttributeError) as exc:
        raise FilterError(f"jsonPath {expression!r} is not a valid JsonPath: {exc}") from None


def placeholders(match_equals: str) -> list[str]:
    """The configuration names ``match_equals`` refers to, in order."""
    return PLACEHOLDER.findall(match_equals)


def resolve(match_equals: str, configuration: Mapping[str, str]) -> str:
    """``match_equals`` with each ``{Name}`` replaced by the action's configuration value."""

    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in configuration:
            known = ", ".join(sorted(configuration)) or "none"
            raise FilterError(
                f"matchEquals {match_equals!r} refers to {{{name}}}, which is not a configuration "
                f"key of the target action; its keys: {known}"
            )
        return str(configuration[name])

    return PLACEHOLDER.sub(value, match_equals)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def first_failure(
    rules: Sequence[Mapping[str, Any]], document: Any, configuration: Mapping[str, str]
) -> str | None:
    """Why the payload fails the rules (the first rule it fails), or None when all pass.

    Raises FilterError when a rule cannot be evaluated at all.
    """
    for index, rule in enumerate(rules, start=1):
        expression = str(rule.get("jsonPath", ""))
        found = [_text(m.value) for m in compile_path(expression).find(document)]
        wanted = rule.get("matchEquals")
        if wanted is None:
            if not found:
                return f"filter {index}: {expression} selects nothing in the payload"
            continue
        expected = resolve(str(wanted), configuration)
        if expected not in found:
            got = ", ".join(repr(v[:100]) for v in found[:3]) if found else "nothing"
            return f"filter {index}: {expression} is {got}, not {expected!r}"
    return None
