"""The rules a pipeline's ``triggers`` must follow (CreatePipeline / UpdatePipeline).

They are CodePipeline's: a trigger names one source action, at most one trigger
per action ("You can only specify one trigger configuration per source
action"), the provider type is CodeStarSourceConnection, a trigger has push or
pull request filters, at most 3 of each, at most 8 patterns per includes or
excludes list, each pattern 1 to 255 characters and a valid glob. A push filter
filters on tags or branches, and file paths only together with branches; a pull
request filter names the branches it targets (CDK enforces the same before AWS
sees the template).

Where stageline goes further: a trigger may also name a CodeCommit source action
of a stageline-hosted repository, whose pushes stageline sees directly.
``definitions.validation`` turns what this module reports into its Problems.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from stageline.triggers import globs
from stageline.triggers.changes import PullRequestEvent

PROVIDER_TYPE = "CodeStarSourceConnection"
# Source action providers a trigger may name: AWS's one, and stageline's hosted CodeCommit.
TRIGGER_SOURCES = ("CodeStarSourceConnection", "CodeCommit")
MAX_TRIGGERS = 50
MAX_FILTERS = 3
MAX_PATTERNS = 8
MAX_PATTERN_LENGTH = 255


@dataclass(frozen=True, kw_only=True)
class TriggerProblem:
    where: str
    message: str
    limit: bool = False  # a quota (LimitExceededException) rather than a malformed declaration


Suggest = Callable[[str, Iterable[str]], str]


def check_triggers(
    triggers: Any, sources: Mapping[str, str], suggest: Suggest | None = None
) -> Iterator[TriggerProblem]:
    """Problems with ``triggers`` given the pipeline's source actions (name → provider).

    ``suggest(name, candidates)`` returns a " (did you mean ...)" hint for a
    misspelt action name, or '' (the declaration checks pass theirs in).
    """
    if not triggers:
        return
    if not isinstance(triggers, list):
        yield TriggerProblem(where="triggers", message="triggers must be a list of trigger objects")
        return
    if len(triggers) > MAX_TRIGGERS:
        yield TriggerProblem(
            where="triggers",
            message=f"a pipeline can have at most {MAX_TRIGGERS} triggers, this one has "
            f"{len(triggers)}",
            limit=True,
        )
    claimed: dict[str, int] = {}
    for index, trigger in enumerate(triggers, start=1):
        where = f"triggers[{index}]"
        if not isinstance(trigger, Mapping):
            yield TriggerProblem(where=where, message="each trigger must be an object")
            continue
        provider = trigger.get("providerType")
        if provider != PROVIDER_TYPE:
            yield TriggerProblem(
                where=f"{where}.providerType",
                message=f"providerType {provider!r} is not supported; set it to '{PROVIDER_TYPE}'",
            )
        git = trigger.get("gitConfiguration")
        if not isinstance(git, Mapping):
            yield TriggerProblem(
                where=f"{where}.gitConfiguration",
                message="a trigger needs gitConfiguration with the sourceActionName it applies to "
                "and its push or pullRequest filters",
            )
            continue
        name = git.get("sourceActionName")
        at = f"{where}.gitConfiguration"
        if not isinstance(name, str) or not name:
            yield TriggerProblem(
                where=f"{at}.sourceActionName",
                message="sourceActionName is required: the name of the source action whose "
                f"changes this trigger filters; source actions: {_listing(sources)}",
            )
            continue
        if name not in sources:
            hint = suggest(name, sources) if suggest else ""
            yield TriggerProblem(
                where=f"{at}.sourceActionName",
                message=f"'{name}' is not a source action of this pipeline{hint}; "
                f"source actions: {_listing(sources)}",
            )
            continue
        if name in claimed:
            yield TriggerProblem(
                where=f"{at}.sourceActionName",
                message=f"triggers[{claimed[name]}] already applies to '{name}', and a source "
                "action can have only one trigger; merge their push and pullRequest filters",
            )
            continue
        claimed[name] = index
        if sources[name] not in TRIGGER_SOURCES:
            yield TriggerProblem(
                where=f"{at}.sourceActionName",
                message=f"triggers apply to CodeStarSourceConnection source actions (and, in "
                f"stageline, CodeCommit ones); '{name}' uses the {sources[name]} provider, whose "
                "own change detection starts the pipeline",
            )
            continue
        yield from _filters(git, at, name)


def _listing(names: Mapping[str, str]) -> str:
    return ", ".join(sorted(names)) or "none"


def _filters(git: Mapping[str, Any], at: str, name: str) -> Iterator[TriggerProblem]:
    push, pull = git.get("push"), git.get("pullRequest")
    if not push and not pull:
        yield TriggerProblem(
            where=at,
            message=f"the trigger on '{name}' has no push or pullRequest filters; add one (e.g. "
            '"push": [{"branches": {"includes": ["main"]}}]) or remove the trigger to start on '
            "every push to the action's branch",
        )
        return
    for field, checker in (("push", _push_filter), ("pullRequest", _pull_request_filter)):
        filters = git.get(field)
        if filters is None:
            continue
        if not isinstance(filters, list):
            yield TriggerProblem(
                where=f"{at}.{field}", message=f"{field} must be a list of filters"
            )
            continue
        if len(filters) > MAX_FILTERS:
            yield TriggerProblem(
                where=f"{at}.{field}",
                message=f"a trigger can have at most {MAX_FILTERS} {field} filters, this one has "
                f"{len(filters)}; combine patterns into one filter's includes",
                limit=True,
            )
        for index, item in enumerate(filters, start=1):
            where = f"{at}.{field}[{index}]"
            if not isinstance(item, Mapping):
                yield TriggerProblem(where=where, message="each filter must be an object")
                continue
            yield from checker(item, where)


def _push_filter(item: Mapping[str, Any], where: str) -> Iterator[TriggerProblem]:
    given = {k: _present(item.get(k)) for k in ("tags", "branches", "filePaths")}
    for key in given:
        yield from _criteria(item.get(key), f"{where}.{key}")
    if not given["tags"] and not given["branches"]:
        yield TriggerProblem(
            where=where,
            message="a push filter needs tags or branches: add "
            '"branches": {"includes": [...]} to filter branch pushes, or "tags" for tag pushes',
        )
    elif given["filePaths"] and not given["branches"]:
        yield TriggerProblem(
            where=f"{where}.filePaths",
            message="filePaths apply only together with branches (tag pushes have no changed "
            'files); add "branches": {"includes": ["**"]} to filter every branch by file path',
        )


def _pull_request_filter(item: Mapping[str, Any], where: str) -> Iterator[TriggerProblem]:
    for key in ("branches", "filePaths"):
        yield from _criteria(item.get(key), f"{where}.{key}")
    events = item.get("events")
    if events is not None:
        allowed = [e.value for e in PullRequestEvent]
        if not isinstance(events, list) or not events:
            yield TriggerProblem(
                where=f"{where}.events",
                message=f"events must be a list of 1 to 3 of {', '.join(allowed)}",
            )
        else:
            for event in events:
                if event not in allowed:
                    yield TriggerProblem(
                        where=f"{where}.events",
                        message=f"pull request event {event!r} is not one of {', '.join(allowed)}",
                    )
            if len(set(map(str, events))) != len(events):
                yield TriggerProblem(
                    where=f"{where}.events", message="each pull request event may appear once"
                )
    if not _present(item.get("branches")):
        yield TriggerProblem(
            where=f"{where}.branches",
            message="a pullRequest filter needs the destination branches it applies to, e.g. "
            '"branches": {"includes": ["main"]}',
        )


def _present(criteria: Any) -> bool:
    """An empty criteria object counts as absent (CDK renders unset ones as {})."""
    return isinstance(criteria, Mapping) and bool(
        criteria.get("includes") or criteria.get("excludes")
    )


def _criteria(criteria: Any, where: str) -> Iterator[TriggerProblem]:
    if criteria is None:
        return
    if not isinstance(criteria, Mapping):
        yield TriggerProblem(where=where, message='must be an object: {"includes": [...], ...}')
        return
    for key in ("includes", "excludes"):
        patterns = criteria.get(key)
        if patterns is None:
            continue
        at = f"{where}.{key}"
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            yield TriggerProblem(where=at, message="must be a list of glob patterns")
            continue
        if len(patterns) > MAX_PATTERNS:
            yield TriggerProblem(
                where=at,
                message=f"at most {MAX_PATTERNS} patterns are allowed, this list has "
                f"{len(patterns)}; merge some with {{a,b}} groups or wildcards",
                limit=True,
            )
        for pattern in patterns:
            if not 1 <= len(pattern) <= MAX_PATTERN_LENGTH:
                yield TriggerProblem(
                    where=at,
                    message=f"patterns must be 1 to {MAX_PATTERN_LENGTH} characters, "
                    f"one is {len(pattern)}",
                )
                continue
            try:
                globs.check(pattern)
            except globs.GlobError as exc:
                yield TriggerProblem(where=at, message=f"{exc}; fix or escape it with '\\'")
