"""The visual editor: a pipeline declaration as a form of stages and actions, and back.

The form shows the members people edit most — stage and action names, the
action type, runOrder, input and output artifacts, namespace, configuration
and commands — and carries everything else of each stage and action (and of
the pipeline) in a hidden JSON field, so a round trip through the form never
drops a member it does not show. Buttons name an operation (``op``): add,
remove and move stages and actions; the server applies it and renders the
form again, so the editor works the same with or without script.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import MultiDict

ACTION_FIELDS = (
    "name",
    "actionTypeId",
    "runOrder",
    "inputArtifacts",
    "outputArtifacts",
    "configuration",
    "namespace",
    "commands",
)
NEW_ACTION_TYPE = {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}


class VisualError(ValueError):
    """A form that cannot be turned back into a declaration (hand-made or tampered with)."""


@dataclass(frozen=True, kw_only=True)
class TypeOption:
    value: str
    label: str


def type_value(type_id: dict[str, str]) -> str:
    return "|".join(type_id[k] for k in ("category", "owner", "provider", "version"))


def type_options(action_types: list[dict[str, Any]]) -> list[TypeOption]:
    """``ListActionTypes`` output as choices, ``Category: Owner Provider vN``."""
    out = []
    for t in action_types:
        type_id = t["id"]
        out.append(
            TypeOption(
                value=type_value(type_id),
                label=f"{type_id['category']}: {type_id['owner']} {type_id['provider']} "
                f"v{type_id['version']}",
            )
        )
    return sorted(out, key=lambda o: o.label)


def _hidden(form: MultiDict, key: str) -> dict[str, Any]:
    raw = form.get(key, "") or "{}"
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise VisualError(f"the form's hidden field {key} is not JSON") from exc
    if not isinstance(value, dict):
        raise VisualError(f"the form's hidden field {key} is not a JSON object")
    return value


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.replace("\n", ",").split(",") if n.strip()]


def _artifacts(names: list[str], before: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Artifacts by name, keeping the other members (``files``) of those that were there."""
    known = {a.get("name"): a for a in before if isinstance(a, dict)}
    return [{**known.get(n, {}), "name": n} for n in names]


def _indices(form: MultiDict, prefix: str) -> list[int]:
    found = set()
    for key in form:
        if key.startswith(prefix):
            head = key[len(prefix) :].split(".", 1)[0]
            if head.isdigit():
                found.add(int(head))
    return sorted(found)


def decode(form: MultiDict) -> dict[str, Any]:
    """The declaration a submitted visual form describes."""
    declaration = _hidden(form, "pipeline.json")
    stages = []
    for i in _indices(form, "stage."):
        stage = _hidden(form, f"stage.{i}.json")
        stage["name"] = form.get(f"stage.{i}.name", "")
        actions = []
        for j in _indices(form, f"action.{i}."):
            p = f"action.{i}.{j}."
            action = _hidden(form, p + "json")
            action["name"] = form.get(p + "name", "")
            parts = form.get(p + "type", "").split("|")
            if len(parts) != 4:
                raise VisualError(f"action {i}.{j} has no action type")
            action["actionTypeId"] = dict(
                zip(("category", "owner", "provider", "version"), parts, strict=True)
            )
            order = form.get(p + "runOrder", "1").strip() or "1"
            try:
                action["runOrder"] = int(order)
            except ValueError:
                action["runOrder"] = order  # the API's validation names the problem
            action["inputArtifacts"] = _artifacts(
                _names(form.get(p + "inputs", "")), action.get("inputArtifacts", [])
            )
            action["outputArtifacts"] = _artifacts(
                _names(form.get(p + "outputs", "")), action.get("outputArtifacts", [])
            )
            namespace = form.get(p + "namespace", "").strip()
            if namespace:
                action["namespace"] = namespace
            else:
                action.pop("namespace", None)
            config = {}
            for k in _indices(form, p + "config."):
                key = form.get(f"{p}config.{k}.key", "").strip()
                if key:
                    config[key] = form.get(f"{p}config.{k}.value", "")
            action["configuration"] = config
            commands = [c for c in form.get(p + "commands", "").splitlines() if c.strip()]
            if commands:
                action["commands"] = commands
            else:
                action.pop("commands", None)
            actions.append(action)
        stage["actions"] = actions
        stages.append(stage)
    declaration["stages"] = stages
    return declaration


def _move(items: list[Any], index: int, delta: int) -> None:
    target = index + delta
    if 0 <= index < len(items) and 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]


def _free_name(taken: set[str], base: str) -> str:
    n = 1
    while f"{base}{n}" in taken:
        n += 1
    return f"{base}{n}"


def apply(declaration: dict[str, Any], op: str) -> dict[str, Any]:
    """``declaration`` after one editor operation, e.g. ``add-stage:1`` (after stage 1),
    ``remove-action:2.0``, ``up-stage:3``; an unknown or empty operation changes nothing."""
    out = copy.deepcopy(declaration)
    stages: list[dict[str, Any]] = out.setdefault("stages", [])
    verb, _, where = op.partition(":")
    try:
        numbers = [int(n) for n in where.split(".")] if where else []
    except ValueError:
        return out
    if verb == "add-stage":
        at = numbers[0] + 1 if numbers else len(stages)
        name = _free_name({s.get("name", "") for s in stages}, "Stage")
        stages.insert(
            at,
            {"name": name, "actions": [{"name": "Approve", "actionTypeId": dict(NEW_ACTION_TYPE)}]},
        )
    elif verb in ("remove-stage", "up-stage", "down-stage") and numbers:
        i = numbers[0]
        if not 0 <= i < len(stages):
            return out
        if verb == "remove-stage":
            del stages[i]
        else:
            _move(stages, i, -1 if verb == "up-stage" else 1)
    elif verb == "add-action" and numbers and 0 <= numbers[0] < len(stages):
        actions = stages[numbers[0]].setdefault("actions", [])
        name = _free_name({a.get("name", "") for a in actions}, "Action")
        actions.append({"name": name, "actionTypeId": dict(NEW_ACTION_TYPE), "runOrder": 1})
    elif verb in ("remove-action", "up-action", "down-action") and len(numbers) == 2:
        i, j = numbers
        if not 0 <= i < len(stages):
            return out
        actions = stages[i].setdefault("actions", [])
        if not 0 <= j < len(actions):
            return out
        if verb == "remove-action":
            del actions[j]
        else:
            _move(actions, j, -1 if verb == "up-action" else 1)
    return out


@dataclass(frozen=True, kw_only=True)
class ActionForm:
    """One action as the form shows it."""

    name: str
    type: str
    run_order: str
    inputs: str
    outputs: str
    namespace: str
    configuration: list[tuple[str, str]]
    commands: str
    hidden: str


@dataclass(frozen=True, kw_only=True)
class StageForm:
    name: str
    hidden: str
    actions: list[ActionForm]


def form_model(declaration: dict[str, Any]) -> tuple[str, list[StageForm]]:
    """The hidden pipeline JSON and the stages, ready for the template."""
    rest = {k: v for k, v in declaration.items() if k != "stages"}
    stages = []
    for stage in declaration.get("stages", []) or []:
        if not isinstance(stage, dict):
            continue
        actions = []
        for action in stage.get("actions", []) or []:
            if not isinstance(action, dict):
                continue
            type_id = action.get("actionTypeId") or {}
            actions.append(
                ActionForm(
                    name=str(action.get("name", "")),
                    type=type_value(type_id) if len(type_id) == 4 else "",
                    run_order=str(action.get("runOrder", 1)),
                    inputs=", ".join(
                        str(a.get("name", "")) for a in action.get("inputArtifacts", []) or []
                    ),
                    outputs=", ".join(
                        str(a.get("name", "")) for a in action.get("outputArtifacts", []) or []
                    ),
                    namespace=str(action.get("namespace", "") or ""),
                    configuration=[
                        (str(k), str(v)) for k, v in (action.get("configuration") or {}).items()
                    ],
                    commands="\n".join(str(c) for c in action.get("commands", []) or []),
                    hidden=json.dumps(
                        {
                            k: v
                            for k, v in action.items()
                            if k not in ACTION_FIELDS or k in ("inputArtifacts", "outputArtifacts")
                        }
                    ),
                )
            )
        stages.append(
            StageForm(
                name=str(stage.get("name", "")),
                hidden=json.dumps({k: v for k, v in stage.items() if k not in ("name", "actions")}),
                actions=actions,
            )
        )
    return json.dumps(rest), stages
