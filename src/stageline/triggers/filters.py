"""V2 trigger filters (``triggers[].gitConfiguration``) and whether a change passes them.

CodePipeline's rules ("Add trigger with code push or pull request event types"):

- A trigger's filters are alternatives: the first ``push`` or ``pullRequest``
  filter the change passes starts the pipeline.
- Within one criteria (``branches``, ``tags``, ``filePaths``) excludes win over
  includes; with only excludes, everything not excluded passes.
- A push filter's ``tags`` apply to tag pushes and its ``branches`` to branch
  pushes; a branch push must also pass ``filePaths`` when the filter has them
  (at least one changed file included and not excluded).
- A pull request filter matches its ``events`` (all three when omitted), the
  pull request's *destination* branch against ``branches`` ("opened, updated,
  or closed to the specified target branches") and its files against
  ``filePaths``; the execution runs the source branch's head commit.
- A deleted branch or tag starts nothing.

An empty criteria object (``"tags": {}``, as CDK renders an unset one) counts
as absent. When the changed files are needed but cannot be known, a filter with
``filePaths`` does not match: starting a build for files nobody can name would
defeat the filter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stageline.triggers import globs
from stageline.triggers.changes import ChangeKind, GitChange, PullRequestEvent, RefKind

ALL_EVENTS = tuple(PullRequestEvent)


@dataclass(frozen=True, kw_only=True)
class Criteria:
    """Include and exclude glob patterns for one kind of name."""

    includes: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()

    @classmethod
    def from_wire(cls, data: Any) -> Criteria | None:
        if not isinstance(data, Mapping):
            return None
        found = cls(
            includes=tuple(str(p) for p in data.get("includes") or ()),
            excludes=tuple(str(p) for p in data.get("excludes") or ()),
        )
        return found if found.includes or found.excludes else None

    def passes(self, value: str) -> str | None:
        """Why ``value`` passes (the include that matched), or None when it does not."""
        if any(globs.matches(p, value) for p in self.excludes):
            return None
        if not self.includes:
            return f"'{value}' is not excluded"
        for pattern in self.includes:
            if globs.matches(pattern, value):
                return f"'{value}' matches '{pattern}'"
        return None

    def first_file(self, files: Iterable[str]) -> str | None:
        """Why the files pass: the first one that does, or None."""
        for path in files:
            reason = self.passes(path)
            if reason:
                return reason
        return None


@dataclass(frozen=True, kw_only=True)
class PushFilter:
    tags: Criteria | None = None
    branches: Criteria | None = None
    file_paths: Criteria | None = None


@dataclass(frozen=True, kw_only=True)
class PullRequestFilter:
    events: tuple[PullRequestEvent, ...] = ALL_EVENTS
    branches: Criteria | None = None
    file_paths: Criteria | None = None


@dataclass(frozen=True, kw_only=True)
class GitTrigger:
    """One source action's trigger: its push and pull request filters."""

    source_action: str
    push: tuple[PushFilter, ...] = ()
    pull_request: tuple[PullRequestFilter, ...] = ()


@dataclass(frozen=True, kw_only=True)
class TriggerMatch:
    """Which filter of which trigger a change passed, and why; executions record it."""

    source_action: str
    kind: ChangeKind
    index: int  # 1-based position in the trigger's push or pullRequest list
    reasons: tuple[str, ...]

    def describe(self) -> str:
        return (
            f"{self.kind} filter {self.index} of {self.source_action} ({'; '.join(self.reasons)})"
        )


def triggers_of(declaration: Mapping[str, Any]) -> dict[str, GitTrigger]:
    """The triggers of a (validated) wire declaration, by source action name."""
    found: dict[str, GitTrigger] = {}
    for trigger in declaration.get("triggers") or ():
        git = trigger.get("gitConfiguration") if isinstance(trigger, Mapping) else None
        if not isinstance(git, Mapping) or not isinstance(git.get("sourceActionName"), str):
            continue
        name = git["sourceActionName"]
        found[name] = GitTrigger(
            source_action=name,
            push=tuple(
                PushFilter(
                    tags=Criteria.from_wire(f.get("tags")),
                    branches=Criteria.from_wire(f.get("branches")),
                    file_paths=Criteria.from_wire(f.get("filePaths")),
                )
                for f in git.get("push") or ()
                if isinstance(f, Mapping)
            ),
            pull_request=tuple(
                PullRequestFilter(
                    events=tuple(
                        PullRequestEvent(e) for e in f.get("events") or () if e in ALL_EVENTS
                    )
                    or ALL_EVENTS,
                    branches=Criteria.from_wire(f.get("branches")),
                    file_paths=Criteria.from_wire(f.get("filePaths")),
                )
                for f in git.get("pullRequest") or ()
                if isinstance(f, Mapping)
            ),
        )
    return found


Files = Callable[[], Sequence[str] | None]


def evaluate(trigger: GitTrigger, change: GitChange, files: Files) -> TriggerMatch | None:
    """The first filter of ``trigger`` that ``change`` passes, or None.

    ``files`` is asked only when a filter has ``filePaths`` (it may run git or an
    API call), at most once: callers pass a memoised function.
    """
    if change.deleted or change.head_commit is None:
        return None
    if change.kind is ChangeKind.PUSH:
        for index, push in enumerate(trigger.push, start=1):
            reasons = _push(push, change, files)
            if reasons is not None:
                return TriggerMatch(
                    source_action=trigger.source_action,
                    kind=ChangeKind.PUSH,
                    index=index,
                    reasons=reasons,
                )
        return None
    for index, pull in enumerate(trigger.pull_request, start=1):
        reasons = _pull_request(pull, change, files)
        if reasons is not None:
            return TriggerMatch(
                source_action=trigger.source_action,
                kind=ChangeKind.PULL_REQUEST,
                index=index,
                reasons=reasons,
            )
    return None


def _push(push: PushFilter, change: GitChange, files: Files) -> tuple[str, ...] | None:
    if change.ref_kind is RefKind.TAG:
        reason = push.tags.passes(change.name) if push.tags else None
        return (f"tag {reason}",) if reason else None
    if push.branches is None:
        return None
    branch = push.branches.passes(change.name)
    if branch is None:
        return None
    return _with_files((f"branch {branch}",), push.file_paths, files)


def _pull_request(
    pull: PullRequestFilter, change: GitChange, files: Files
) -> tuple[str, ...] | None:
    if change.event not in pull.events or change.destination_branch is None:
        return None
    reasons = [f"event {change.event}"]
    if pull.branches is not None:
        branch = pull.branches.passes(change.destination_branch)
        if branch is None:
            return None
        reasons.append(f"destination branch {branch}")
    return _with_files(tuple(reasons), pull.file_paths, files)


def _with_files(
    reasons: tuple[str, ...], criteria: Criteria | None, files: Files
) -> tuple[str, ...] | None:
    if criteria is None:
        return reasons
    changed = files()
    if changed is None:
        return None
    reason = criteria.first_file(changed)
    return (*reasons, f"file {reason}") if reason else None
