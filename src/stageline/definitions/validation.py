"""The declaration rules of CreatePipeline / UpdatePipeline (DESIGN.md §3).

Each rule is a small function that yields :class:`Problem` s; every problem
carries the AWS exception name CodePipeline uses for it, where in the pipeline
it is, and what to do about it. All problems are reported at once, so a user
fixes a definition in one pass rather than one error per request.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from stageline.definitions.catalog import ActionTypeKey, ActionTypeSpec
from stageline.definitions.model import (
    ActionDecl,
    ExecutionMode,
    PipelineDecl,
    PipelineType,
    StageDecl,
)
from stageline.triggers.declaration import check_triggers

MIN_STAGES, MAX_STAGES = 2, 50
MAX_ACTIONS_PER_STAGE = 50
MAX_ACTIONS_PER_PIPELINE = 500
MAX_CONFIG_VALUE = 1000
MAX_APPROVAL_CUSTOM_DATA = 500

VARIABLE_REF = re.compile(r"#\{([^}.]*)\.([^}]*)\}")
CODEPIPELINE_VARIABLES = ("PipelineExecutionId",)

INVALID_STRUCTURE = "InvalidStructureException"
INVALID_STAGE = "InvalidStageDeclarationException"
INVALID_ACTION = "InvalidActionDeclarationException"
LIMIT_EXCEEDED = "LimitExceededException"


class ActionTypeLookup(Protocol):
    def get(self, key: ActionTypeKey) -> ActionTypeSpec | None: ...

    def all_keys(self) -> Iterable[ActionTypeKey]: ...


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One broken rule: the AWS error name, where it is, and the message with the fix."""

    code: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class DeclarationError(Exception):
    """A pipeline declaration that breaks one or more rules."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(self.render())

    @property
    def code(self) -> str:
        return self.problems[0].code

    def render(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        lines = "; ".join(f"({i}) {p}" for i, p in enumerate(self.problems, start=1))
        return f"{len(self.problems)} problems in the pipeline declaration: {lines}"


def closest(name: str, candidates: Iterable[str]) -> str:
    """' (did you mean X?)' when some candidate is close to ``name``, else ''."""
    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def _where(stage: StageDecl, action: ActionDecl | None = None) -> str:
    if action is None:
        return f"stage '{stage.name}'"
    return f"stage '{stage.name}', action '{action.name}'"


def _listing(names: Iterable[str]) -> str:
    items = list(names)
    return ", ".join(items) if items else "none"


def validate(pipeline: PipelineDecl, catalog: ActionTypeLookup) -> None:
    """Raise DeclarationError if ``pipeline`` breaks any declaration rule."""
    problems = list(check(pipeline, catalog))
    if problems:
        raise DeclarationError(problems)


def check(pipeline: PipelineDecl, catalog: ActionTypeLookup) -> Iterator[Problem]:
    for rule in RULES:
        yield from rule(pipeline, catalog)


# --- structure ---------------------------------------------------------------------------


def stage_count(p: PipelineDecl, _c: ActionTypeLookup) -> Iterator[Problem]:
    """A pipeline has 2 to 50 stages (a source stage and at least one more)."""
    n = len(p.stages)
    if n < MIN_STAGES:
        yield Problem(
            code=INVALID_STRUCTURE,
            where="stages",
            message=f"a pipeline needs at least {MIN_STAGES} stages, this one has {n}; "
            "add a stage after the source stage (e.g. Build or Deploy)",
        )
    elif n > MAX_STAGES:
        yield Problem(
            code=LIMIT_EXCEEDED,
            where="stages",
            message=f"a pipeline can have at most {MAX_STAGES} stages, this one has {n}",
        )


def action_counts(p: PipelineDecl, _c: ActionTypeLookup) -> Iterator[Problem]:
    """Each stage has 1 to 50 actions, the pipeline at most 500."""
    for stage in p.stages:
        if not stage.actions:
            yield Problem(
                code=INVALID_STAGE,
                where=_where(stage),
                message="a stage needs at least one action; add one or remove the stage",
            )
        elif len(stage.actions) > MAX_ACTIONS_PER_STAGE:
            yield Problem(
                code=LIMIT_EXCEEDED,
                where=_where(stage),
                message=f"a stage can have at most {MAX_ACTIONS_PER_STAGE} actions, "
                f"this one has {len(stage.actions)}; split it into more stages",
            )
    total = sum(len(s.actions) for s in p.stages)
    if total > MAX_ACTIONS_PER_PIPELINE:
        yield Problem(
            code=LIMIT_EXCEEDED,
            where="stages",
            message=f"a pipeline can have at most {MAX_ACTIONS_PER_PIPELINE} actions, "
            f"this one has {total}",
        )


def unique_names(p: PipelineDecl, _c: ActionTypeLookup) -> Iterator[Problem]:
    """Stage names are unique in the pipeline; action names unique within their stage."""
    seen: set[str] = set()
    for stage in p.stages:
        if stage.name in seen:
            yield Problem(
                code=INVALID_STRUCTURE,
                where=_where(stage),
                message="stage names must be unique in a pipeline; rename one of the stages "
                f"called '{stage.name}'",
            )
        seen.add(stage.name)
        names: set[str] = set()
        for action in stage.actions:
            if action.name in names:
                yield Problem(
                    code=INVALID_STAGE,
                    where=_where(stage, action),
                    message="action names must be unique within a stage; rename one of the "
                    f"actions called '{action.name}'",
                )
            names.add(action.name)


def source_placement(p: PipelineDecl, _c: ActionTypeLookup) -> Iterator[Problem]:
    """Source actions are only in the first stage, and it holds only source actions."""
    for index, stage in enumerate(p.stages):
        for action in stage.actions:
            if index == 0 and not action.is_source:
                yield Problem(
                    code=INVALID_STRUCTURE,
                    where=_where(stage, action),
                    message=f"the first stage may contain only Source actions, but this one is "
                    f"of category {action.type.category}; move it to a later stage",
                )
            elif index > 0 and action.is_source:
                yield Problem(
                    code=INVALID_STRUCTURE,
                    where=_where(stage, action),
                    message=f"Source actions may appear only in the first stage "
                    f"('{p.stages[0].name}'); move this action there",
                )


# --- artifacts ---------------------------------------------------------------------------


def _ordered_groups(p: PipelineDecl) -> Iterator[tuple[StageDecl, tuple[ActionDecl, ...]]]:
    for stage in p.stages:
        for _order, group in stage.run_order_groups():
            yield stage, group


def artifacts(p: PipelineDecl, _c: ActionTypeLookup) -> Iterator[Problem]:
    """Output names are unique; every input is produced by an action that runs earlier."""
    producer: dict[str, str] = {}
    for stage, action in p.actions:
        for name in action.output_artifacts:
            producer.setdefault(name, f"action '{action.name}' of stage '{stage.name}'")
    produced: list[str] = []
    claimed: dict[str, str] = {}
    for stage, group in _ordered_groups(p):
        for action in group:
            for name in action.input_artifacts:
                if name in produced:
                    continue
                if name in producer:
                    why = (
                        f"input artifact '{name}' is produced by {producer[name]}, which does not "
                        "run before this action; an input must come from an earlier stage or a "
                        "lower runOrder in the same stage"
                    )
                else:
                    why = (
                        f"input artifact '{name}' is not produced by an earlier action"
                        f"{closest(name, produced)}; outputs so far: {_listing(produced)}"
                    )
                yield Problem(code=INVALID_STRUCTURE, where=_where(stage, action), message=why)
        for action in group:
            here = f"action '{action.name}' of stage '{stage.name}'"
            for name in action.output_artifacts:
                if name in claimed:
                    yield Problem(
                        code=INVALID_STRUCTURE,
                        where=_where(stage, action),
                        message=f"output artifact '{name}' is already produced by {claimed[name]}; "
                        "output artifact names must be unique in a pipeline",
                    )
                    continue
                claimed[name] = here
                produced.append(name)


# --- action types and configuration ------------------------------------------------------


def _describe_bounds(lo: int, hi: int) -> str:
    return f"exactly {lo}" if lo == hi else f"{lo} to {hi}"


def action_types(p: PipelineDecl, catalog: ActionTypeLookup) -> Iterator[Problem]:
    """Each action names an available type, and fits its artifact counts and configuration."""
    for stage, action in p.actions:
        spec = catalog.get(action.type)
        if spec is None:
            yield _unknown_type(stage, action, catalog)
            continue
        yield from _artifact_bounds(stage, action, spec)
        yield from _configuration(stage, action, spec)
        yield from _declaration_fields(stage, action, spec)
        if action.timeout_minutes is not None and action.timeout_minutes > spec.max_timeout_minutes:
            yield Problem(
                code=INVALID_ACTION,
                where=_where(stage, action),
                message=f"timeoutInMinutes {action.timeout_minutes} is over the maximum of "
                f"{spec.max_timeout_minutes} for {spec.provider} actions",
            )


def _unknown_type(stage: StageDecl, action: ActionDecl, catalog: ActionTypeLookup) -> Problem:
    t = action.type
    same_provider = [k for k in catalog.all_keys() if k.provider.lower() == t.provider.lower()]
    if same_provider:
        hint = "; this provider exists as " + ", ".join(
            f"category {k.category}, owner {k.owner}, version {k.version}" for k in same_provider
        )
    else:
        hint = closest(t.provider, {k.provider for k in catalog.all_keys()})
    if t.owner == "Custom":
        hint += (
            "; custom action types must be created first with CreateCustomActionType "
            "(aws codepipeline create-custom-action-type)"
        )
    return Problem(
        code=INVALID_ACTION,
        where=_where(stage, action),
        message=f"action type (category {t.category}, owner {t.owner}, provider {t.provider}, "
        f"version {t.version}) is not available{hint}",
    )


def _artifact_bounds(
    stage: StageDecl, action: ActionDecl, spec: ActionTypeSpec
) -> Iterator[Problem]:
    for label, count, bounds in (
        ("input", len(action.input_artifacts), spec.input_artifacts),
        ("output", len(action.output_artifacts), spec.output_artifacts),
    ):
        if not bounds.minimum <= count <= bounds.maximum:
            yield Problem(
                code=INVALID_ACTION,
                where=_where(stage, action),
                message=f"{spec.provider} actions take {_describe_bounds(bounds.minimum, bounds.maximum)} "
                f"{label} artifact(s), this one has {count}",
            )


def _configuration(stage: StageDecl, action: ActionDecl, spec: ActionTypeSpec) -> Iterator[Problem]:
    known = [prop.name for prop in spec.properties]
    for prop in spec.required_properties:
        if not action.configuration.get(prop.name):
            yield Problem(
                code=INVALID_ACTION,
                where=_where(stage, action),
                message=f"configuration is missing the required key '{prop.name}' for "
                f"{spec.provider} actions",
            )
    if not spec.open_configuration:
        for key in action.configuration:
            if key not in known:
                yield Problem(
                    code=INVALID_ACTION,
                    where=_where(stage, action),
                    message=f"configuration key '{key}' is not accepted by {spec.provider} actions"
                    f"{closest(key, known)}; accepted keys: {_listing(known)}",
                )
    for key, value in action.configuration.items():
        if len(value) > MAX_CONFIG_VALUE:
            yield Problem(
                code=INVALID_ACTION,
                where=_where(stage, action),
                message=f"configuration value of '{key}' is {len(value)} characters; "
                f"the limit is {MAX_CONFIG_VALUE}",
            )
    if spec.category == "Approval":
        custom = action.configuration.get("CustomData", "")
        if len(custom) > MAX_APPROVAL_CUSTOM_DATA:
            yield Problem(
                code=INVALID_ACTION,
                where=_where(stage, action),
                message=f"CustomData is {len(custom)} characters; approvals allow at most "
                f"{MAX_APPROVAL_CUSTOM_DATA}",
            )


_DECLARATION_FIELDS = {
    "commands": lambda a: bool(a.commands),
    "outputVariables": lambda a: bool(a.output_variables),
    "environmentVariables": lambda a: bool(a.environment_variables),
}


def _declaration_fields(
    stage: StageDecl, action: ActionDecl, spec: ActionTypeSpec
) -> Iterator[Problem]:
    for field_name, present in _DECLARATION_FIELDS.items():
        if present(action) and field_name not in spec.declaration_fields:
            yield Problem(
                code=INVALID_ACTION,
                where=_where(stage, action),
                message=f"'{field_name}' is only accepted by action types that take it "
                f"(such as Compute/AWS/Commands), not by {spec.provider} actions",
            )
    if "commands" in spec.declaration_fields and not action.commands:
        yield Problem(
            code=INVALID_ACTION,
            where=_where(stage, action),
            message=f"{spec.provider} actions need 'commands': a list of 1 to 50 shell commands",
        )


# --- namespaces and variables ------------------------------------------------------------


def pipeline_level(p: PipelineDecl, _c: ActionTypeLookup) -> Iterator[Problem]:
    """Variables, triggers and the QUEUED/PARALLEL modes are V2 features."""
    if p.pipeline_type is PipelineType.V1:
        if p.variables:
            yield Problem(
                code=INVALID_STRUCTURE,
                where="variables",
                message="pipeline-level variables need pipelineType V2; set pipelineType to V2",
            )
        if p.raw.get("triggers"):
            yield Problem(
                code=INVALID_STRUCTURE,
                where="triggers",
                message="triggers need pipelineType V2; set pipelineType to V2",
            )
        if p.execution_mode is not ExecutionMode.SUPERSEDED:
            yield Problem(
                code=INVALID_STRUCTURE,
                where="executionMode",
                message=f"execution mode {p.execution_mode} needs pipelineType V2; "
                "V1 pipelines run in SUPERSEDED mode",
            )
    names: set[str] = set()
    for variable in p.variables:
        if variable.name in names:
            yield Problem(
                code=INVALID_STRUCTURE,
                where=f"variables.{variable.name}",
                message="pipeline variable names must be unique",
            )
        names.add(variable.name)
    yield from _trigger_problems(p)


def _trigger_problems(p: PipelineDecl) -> Iterator[Problem]:
    """The V2 trigger rules (``triggers.declaration``), as declaration Problems."""
    sources = (
        {a.name: a.type.provider for a in p.stages[0].actions if a.is_source} if p.stages else {}
    )
    for found in check_triggers(p.raw.get("triggers"), sources, suggest=closest):
        yield Problem(
            code=LIMIT_EXCEEDED if found.limit else INVALID_STRUCTURE,
            where=found.where,
            message=found.message,
        )


def artifact_stores(p: PipelineDecl, _c: ActionTypeLookup) -> Iterator[Problem]:
    """Exactly one of artifactStore / artifactStores; every action region has a store."""
    single = p.raw.get("artifactStore")
    per_region = p.raw.get("artifactStores")
    if single and per_region:
        yield Problem(
            code=INVALID_STRUCTURE,
            where="artifactStore",
            message="set either artifactStore or artifactStores, not both; use artifactStores "
            "for cross-region pipelines",
        )
    elif not single and not per_region:
        yield Problem(
            code=INVALID_STRUCTURE,
            where="artifactStore",
            message='an artifact store is required: add "artifactStore": '
            '{"type": "S3", "location": "<bucket>"}',
        )
    if per_region:
        for stage, action in p.actions:
            if action.region and action.region not in per_region:
                yield Problem(
                    code=INVALID_STRUCTURE,
                    where=_where(stage, action),
                    message=f"region '{action.region}' has no entry in artifactStores; "
                    f"add one (regions with a store: {_listing(sorted(per_region))})",
                )


def namespaces_and_variables(p: PipelineDecl, _c: ActionTypeLookup) -> Iterator[Problem]:
    """Namespaces are unique; each #{Namespace.Variable} names something that runs earlier."""
    all_namespaces: dict[str, str] = {}
    for stage, action in p.actions:
        if action.namespace:
            if action.namespace in all_namespaces:
                yield Problem(
                    code=INVALID_ACTION,
                    where=_where(stage, action),
                    message=f"namespace '{action.namespace}' is already used by "
                    f"{all_namespaces[action.namespace]}; namespaces must be unique in a pipeline",
                )
            else:
                all_namespaces[action.namespace] = f"action '{action.name}'"
            if action.namespace in ("codepipeline", "variables"):
                yield Problem(
                    code=INVALID_ACTION,
                    where=_where(stage, action),
                    message=f"namespace '{action.namespace}' is reserved; choose another name",
                )
    pipeline_variables = {v.name for v in p.variables}
    available: list[str] = []
    for stage, group in _ordered_groups(p):
        for action in group:
            for text in _variable_texts(action):
                for match in VARIABLE_REF.finditer(text):
                    problem = _check_reference(
                        match, available, all_namespaces, pipeline_variables, p.pipeline_type
                    )
                    if problem:
                        yield Problem(
                            code=INVALID_ACTION, where=_where(stage, action), message=problem
                        )
        available.extend(a.namespace for a in group if a.namespace)


def _variable_texts(action: ActionDecl) -> Iterator[str]:
    yield from action.configuration.values()
    yield from action.commands
    for env in action.environment_variables:
        yield env.value


def _check_reference(
    match: re.Match[str],
    available: list[str],
    all_namespaces: dict[str, str],
    pipeline_variables: set[str],
    pipeline_type: PipelineType,
) -> str | None:
    namespace, name = match.group(1), match.group(2)
    ref = match.group(0)
    if namespace == "codepipeline":
        if name not in CODEPIPELINE_VARIABLES:
            return (
                f"variable reference {ref} names no codepipeline variable"
                f"{closest(name, CODEPIPELINE_VARIABLES)}; available: {_listing(CODEPIPELINE_VARIABLES)}"
            )
        return None
    if namespace == "variables":
        if pipeline_type is PipelineType.V1:
            return f"variable reference {ref} needs pipeline-level variables, which need pipelineType V2"
        if name not in pipeline_variables:
            return (
                f"variable reference {ref} names no pipeline variable{closest(name, pipeline_variables)}; "
                f"declared: {_listing(sorted(pipeline_variables))}"
            )
        return None
    if namespace in available:
        return None
    if namespace in all_namespaces:
        return (
            f"variable reference {ref} uses namespace '{namespace}' of {all_namespaces[namespace]}, "
            "which does not run before this action; move that action earlier or this one later"
        )
    return (
        f"variable reference {ref} names an unknown namespace '{namespace}'"
        f"{closest(namespace, [*all_namespaces, 'codepipeline', 'variables'])}; namespaces "
        f"available here: {_listing(['codepipeline', 'variables', *available])}"
    )


RULES: tuple[Callable[[PipelineDecl, ActionTypeLookup], Iterator[Problem]], ...] = (
    stage_count,
    action_counts,
    unique_names,
    source_placement,
    artifacts,
    action_types,
    pipeline_level,
    artifact_stores,
    namespaces_and_variables,
)
