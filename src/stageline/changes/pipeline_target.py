"""The event target that starts a pipeline: Arn ``arn:aws:codepipeline:REGION:ACCOUNT:NAME``.

As on AWS the execution's trigger is ``CloudWatchEvent`` with the rule's ARN as its
detail. When the event is a push to a hosted repository that one of the pipeline's
CodeCommit source actions watches, that commit is pinned for the action, so each push
builds exactly what was pushed (AWS takes the branch's tip when the action runs; with
two quick pushes stageline still builds both, one after the other).
"""

from __future__ import annotations

import json
from typing import Any

from stageline import arns
from stageline.changes import sources
from stageline.changes.push_events import DETAIL_TYPE, SOURCE
from stageline.changes.starts import start_for_revision
from stageline.definitions.model import pipeline_from_wire
from stageline.engine.operations import Operations
from stageline.engine.status import TriggerType
from stageline.errors import ApiError
from stageline.events.targets import Delivery, DeliveryFailed
from stageline.store import pipelines as pipeline_store


class PipelineTarget:
    """Starts the pipeline an event rule targets."""

    kind = "arn:aws:codepipeline:REGION:ACCOUNT:PIPELINE"

    def __init__(self, operations: Operations) -> None:
        self.operations = operations
        self.ctx = operations.ctx

    def handles(self, arn: str) -> bool:
        parsed = arns.parse(arn)
        return parsed is not None and parsed.kind == "pipeline"

    def deliver(self, delivery: Delivery) -> None:
        parsed = arns.parse(delivery.target_arn)
        assert parsed is not None
        if (parsed.region, parsed.account_id) != (self.ctx.region, self.ctx.account_id):
            raise DeliveryFailed(
                f"target {delivery.target_arn} is in {parsed.region}/{parsed.account_id}; this "
                f"server is {self.ctx.region}/{self.ctx.account_id}: point the target at "
                f"{self.ctx.arns.pipeline(parsed.name)}",
                retryable=False,
            )
        name = parsed.name
        pinned = self._pinned_commit(name, delivery.input)
        try:
            if pinned is not None:
                action_name, commit = pinned
                start_for_revision(
                    self.operations,
                    name,
                    action_name=action_name,
                    revision=commit,
                    revision_type=sources.COMMIT_ID,
                    trigger_type=TriggerType.CLOUDWATCH_EVENT,
                    trigger_detail=delivery.rule_arn,
                )
            else:
                self.operations.start(
                    name,
                    trigger_type=TriggerType.CLOUDWATCH_EVENT,
                    trigger_detail=delivery.rule_arn,
                )
        except ApiError as exc:
            # A pipeline that doesn't exist (or refuses to start) won't on a retry either.
            raise DeliveryFailed(f"{exc.code}: {exc.message}", retryable=False) from exc

    def _pinned_commit(self, pipeline_name: str, text: str) -> tuple[str, str] | None:
        event = _json_object(text)
        if (
            event is None
            or event.get("source") != SOURCE
            or event.get("detail-type") != DETAIL_TYPE
        ):
            return None
        detail = event.get("detail") or {}
        commit = detail.get("commitId")
        if not commit or detail.get("referenceType") != "branch":
            return None
        with self.ctx.db.read() as conn:
            found = pipeline_store.get_version(conn, pipeline_name)
        if found is None:
            return None
        for action in sources.source_actions(pipeline_from_wire(found.declaration)):
            config = action.configuration
            if (
                action.type == sources.CODECOMMIT
                and config.get("RepositoryName") == detail.get("repositoryName")
                and config.get("BranchName") == detail.get("referenceName")
            ):
                return action.name, str(commit)
        return None


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
