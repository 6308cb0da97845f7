"""The EventBridge rules stageline creates for pipelines, as the CodePipeline console does.

When a CodeCommit source action has ``PollForSourceChanges`` false, AWS expects an
EventBridge rule to start the pipeline on a push; the console and CloudFormation
create it. stageline does the same whenever a pipeline is created or updated: one
rule per such action, matching pushes to its repository and branch, with the
pipeline as target, marked managed (``ManagedBy``) and removed with the pipeline or
when the action no longer needs it.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from sqlalchemy import Connection

from stageline.changes.push_events import DETAIL_TYPE, SOURCE
from stageline.changes.sources import source_actions, uses_event_rule
from stageline.definitions.model import ActionDecl, pipeline_from_wire
from stageline.events import store as rule_store
from stageline.services.context import ServiceContext
from stageline.store import pipelines as pipeline_store

MAX_RULE_NAME = 64
_UNSAFE = re.compile(r"[^.\-_A-Za-z0-9]")


def rule_name(pipeline_name: str, action_name: str) -> str:
    """``stageline-<pipeline>-<action>``, within EventBridge's 64 characters and alphabet."""
    name = _UNSAFE.sub("-", f"stageline-{pipeline_name}-{action_name}")
    if len(name) <= MAX_RULE_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_RULE_NAME - 9]}-{digest}"


def pattern(ctx: ServiceContext, action: ActionDecl) -> dict[str, Any]:
    """The pattern the console writes: pushes that create or update the watched branch."""
    repository = action.configuration.get("RepositoryName", "")
    return {
        "source": [SOURCE],
        "detail-type": [DETAIL_TYPE],
        "resources": [f"arn:aws:codecommit:{ctx.region}:{ctx.account_id}:{repository}"],
        "detail": {
            "event": ["referenceCreated", "referenceUpdated"],
            "referenceType": ["branch"],
            "referenceName": [action.configuration.get("BranchName", "")],
        },
    }


class ManagedRules:
    """Pipeline hooks (created, updated, deleted) that keep the managed rules in step."""

    def __init__(self, ctx: ServiceContext, *, changed: Any = None) -> None:
        self.ctx = ctx
        # Called after rules changed, so the event bus reloads them.
        self.changed = changed

    def sync(
        self, conn: Connection, row: pipeline_store.PipelineRow, stored: dict[str, Any]
    ) -> None:
        decl = pipeline_from_wire(stored)
        keep: set[str] = set()
        now = self.ctx.clock.now_ms()
        for action in source_actions(decl):
            if not uses_event_rule(action, stored):
                continue
            name = rule_name(row.name, action.name)
            keep.add(name)
            rule_store.put_managed_rule(
                conn,
                name=name,
                event_pattern=json.dumps(pattern(self.ctx, action), separators=(",", ":")),
                description=(
                    f"Starts pipeline {row.name} when branch "
                    f"{action.configuration.get('BranchName', '')} of "
                    f"{action.configuration.get('RepositoryName', '')} changes "
                    f"(source action {action.name}); managed by stageline"
                ),
                pipeline_name=row.name,
                target_id=f"codepipeline-{row.name}"[:64],
                target_arn=row.arn,
                now_ms=now,
            )
        rule_store.delete_pipeline_rules(conn, row.name, keep=keep)
        self._changed()

    def forget(self, conn: Connection, name: str) -> None:
        rule_store.delete_pipeline_rules(conn, name, keep=set())
        self._changed()

    def _changed(self) -> None:
        if self.changed is not None:
            self.changed()
