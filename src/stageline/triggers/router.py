"""Which pipelines a git change starts, and starting them.

For each pipeline, each source action the caller says the change concerns
(``source_matches``: same connection and repository, same hosted repository...):

- when the pipeline declares a trigger for that action, the change must pass
  one of its filters; the execution is a ``WebhookV2`` one whose trigger detail
  says which filter matched and why. "When a trigger configuration is
  specified, default change detection for repository and branch commits is
  disabled" (PipelineTriggerDeclaration).
- otherwise, with a ``default_trigger`` type, a push to the action's configured
  branch (``BranchName``, or GitHub's ``Branch``) starts it, unless the action
  says ``DetectChanges: false``; a tag push, a deleted branch or a pull request
  never does. Without a ``default_trigger`` nothing starts: the caller has its
  own path for those (event rules for hosted repositories).

Every execution pins the commit of the change for each action it matched
(``sourceRevisions`` COMMIT_ID), as CodePipeline "fetches the exact commit"
for a filtered trigger; one change starts a pipeline at most once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from stageline.definitions.model import ActionDecl, action_from_wire
from stageline.engine.status import TriggerType
from stageline.errors import ApiError
from stageline.triggers import filters
from stageline.triggers.changes import ChangeKind, GitChange, RefKind
from stageline.triggers.globs import GlobError

log = logging.getLogger("stageline.triggers")

MAX_TRIGGER_DETAIL = 1024
ListPipelines = Callable[[], Iterable[tuple[str, Mapping[str, Any]]]]
ChangedFiles = Callable[[ActionDecl, str | None, str], Sequence[str] | None]
SourceMatches = Callable[[str, Mapping[str, Any]], bool]


@dataclass(frozen=True, kw_only=True)
class Started:
    """One execution a change started."""

    pipeline: str
    execution_id: str
    trigger_type: str
    trigger_detail: str
    actions: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class _Hit:
    action: ActionDecl
    trigger_type: str
    detail: str


class TriggerRouter:
    """Starts the pipelines a git change concerns; see the module docstring for the rules.

    ``list_pipelines`` yields (name, wire declaration of the current version);
    ``start`` has ``Operations.start``'s signature; ``changed_files(action, old,
    new)`` lists the paths changed between two commits of that action's
    repository (None when it cannot tell) and is asked only when a filter needs
    file paths the payload did not list.
    """

    def __init__(
        self,
        *,
        list_pipelines: ListPipelines,
        start: Callable[..., str],
        changed_files: ChangedFiles,
    ) -> None:
        self.list_pipelines = list_pipelines
        self.start = start
        self.changed_files = changed_files

    def route(
        self,
        change: GitChange,
        *,
        source_matches: SourceMatches,
        default_trigger: str | None,
    ) -> list[Started]:
        started: list[Started] = []
        for name, declaration in self.list_pipelines():
            try:
                hits = self._hits(name, declaration, change, source_matches, default_trigger)
            except (KeyError, TypeError, ValueError, AttributeError):
                # One unreadable stored declaration must not keep the others from starting.
                log.exception("pipeline %s: could not read its source actions", name)
                continue
            if hits:
                result = self._start(name, change, hits)
                if result is not None:
                    started.append(result)
        return started

    def _hits(
        self,
        name: str,
        declaration: Mapping[str, Any],
        change: GitChange,
        source_matches: SourceMatches,
        default_trigger: str | None,
    ) -> list[_Hit]:
        stages = declaration.get("stages") or ()
        if not stages:
            return []
        triggers = filters.triggers_of(declaration)
        hits: list[_Hit] = []
        for wire in stages[0].get("actions") or ():
            if not _is_source(wire) or not source_matches(name, wire):
                continue
            action = action_from_wire(wire)
            trigger = triggers.get(action.name)
            if trigger is not None:
                hit = self._filtered(name, action, trigger, change)
            elif default_trigger is not None and _default_applies(action, change):
                hit = _Hit(
                    action=action,
                    trigger_type=default_trigger,
                    detail=_default_detail(action, change),
                )
            else:
                hit = None
            if hit is not None:
                hits.append(hit)
        return hits

    def _filtered(
        self, pipeline: str, action: ActionDecl, trigger: filters.GitTrigger, change: GitChange
    ) -> _Hit | None:
        head = change.head_commit

        @cache
        def files() -> Sequence[str] | None:
            if change.files is not None:
                return change.files
            if head is None:
                return None
            try:
                return self.changed_files(action, change.before, head)
            except Exception:  # a git or host error: the files are unknown, not a failed route
                log.exception("could not list the files of %s for %s", change.describe(), pipeline)
                return None

        try:
            match = filters.evaluate(trigger, change, files)
        except GlobError as exc:  # a declaration stored before its patterns were checked
            log.warning("trigger of %s in pipeline %s is unusable: %s", action.name, pipeline, exc)
            return None
        if match is None:
            return None
        detail = f"{change.describe()} at {head}: matched {match.describe()}"
        return _Hit(action=action, trigger_type=TriggerType.WEBHOOK_V2, detail=detail)

    def _start(self, name: str, change: GitChange, hits: list[_Hit]) -> Started | None:
        # A V2 trigger names the execution when both paths matched; it is the more specific.
        first = next((h for h in hits if h.trigger_type == TriggerType.WEBHOOK_V2), hits[0])
        detail = _clip(first.detail)
        commit = change.head_commit
        assert commit is not None  # both paths refuse changes without one
        revisions = [
            {"actionName": h.action.name, "revisionType": "COMMIT_ID", "revisionValue": commit}
            for h in hits
        ]
        try:
            execution_id = self.start(
                name,
                trigger_type=first.trigger_type,
                trigger_detail=detail,
                source_revisions=revisions,
            )
        except ApiError as exc:  # deleted or changed since it was listed; others still start
            log.warning("could not start pipeline %s for %s: %s", name, change.describe(), exc)
            return None
        log.info("%s started pipeline %s (%s)", change.describe(), name, first.trigger_type)
        return Started(
            pipeline=name,
            execution_id=execution_id,
            trigger_type=first.trigger_type,
            trigger_detail=detail,
            actions=tuple(h.action.name for h in hits),
        )


def _is_source(wire: Mapping[str, Any]) -> bool:
    type_id = wire.get("actionTypeId")
    return isinstance(type_id, Mapping) and type_id.get("category") == "Source"


def configured_branch(action: ActionDecl) -> str | None:
    """The branch a source action watches: ``BranchName``, or ``Branch`` (GitHub version 1)."""
    return action.configuration.get("BranchName") or action.configuration.get("Branch")


def _default_applies(action: ActionDecl, change: GitChange) -> bool:
    """A push to the action's own branch, with change detection on (the default)."""
    if change.kind is not ChangeKind.PUSH or change.ref_kind is not RefKind.BRANCH:
        return False
    if change.deleted or change.head_commit is None:
        return False
    if str(action.configuration.get("DetectChanges", "true")).lower() == "false":
        return False
    return change.name == configured_branch(action)


def _default_detail(action: ActionDecl, change: GitChange) -> str:
    """What AWS shows for a connection push: the connection; else the repository and branch."""
    connection = action.configuration.get("ConnectionArn")
    return connection or f"{change.describe()} at {change.head_commit}"


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TRIGGER_DETAIL else text[: MAX_TRIGGER_DETAIL - 1] + "…"
