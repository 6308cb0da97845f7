"""AWS's status enums for executions, stages, actions and jobs (DESIGN.md §3 Executions)."""

from __future__ import annotations

from enum import StrEnum


class ExecutionStatus(StrEnum):
    IN_PROGRESS = "InProgress"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    SUCCEEDED = "Succeeded"
    SUPERSEDED = "Superseded"
    FAILED = "Failed"
    CANCELLED = "Cancelled"

    @property
    def active(self) -> bool:
        return self in (ExecutionStatus.IN_PROGRESS, ExecutionStatus.STOPPING)


class StageStatus(StrEnum):
    IN_PROGRESS = "InProgress"
    FAILED = "Failed"
    STOPPED = "Stopped"
    STOPPING = "Stopping"
    SUCCEEDED = "Succeeded"
    CANCELLED = "Cancelled"
    SKIPPED = "Skipped"


class ActionStatus(StrEnum):
    IN_PROGRESS = "InProgress"
    ABANDONED = "Abandoned"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


class JobStatus(StrEnum):
    CREATED = "Created"
    QUEUED = "Queued"
    DISPATCHED = "Dispatched"
    IN_PROGRESS = "InProgress"
    TIMED_OUT = "TimedOut"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"

    @property
    def open(self) -> bool:
        return self in (
            JobStatus.CREATED,
            JobStatus.QUEUED,
            JobStatus.DISPATCHED,
            JobStatus.IN_PROGRESS,
        )


class TriggerType(StrEnum):
    CREATE_PIPELINE = "CreatePipeline"
    START_PIPELINE_EXECUTION = "StartPipelineExecution"
    POLL_FOR_SOURCE_CHANGES = "PollForSourceChanges"
    WEBHOOK = "Webhook"
    WEBHOOK_V2 = "WebhookV2"
    CLOUDWATCH_EVENT = "CloudWatchEvent"
    PUT_ACTION_REVISION = "PutActionRevision"
    MANUAL_ROLLBACK = "ManualRollback"
    AUTOMATED_ROLLBACK = "AutomatedRollback"


# The upper-case state names of CodePipeline's EventBridge events.
EVENT_STATE = {
    "InProgress": "STARTED",
    "Succeeded": "SUCCEEDED",
    "Failed": "FAILED",
    "Stopping": "STOPPING",
    "Stopped": "STOPPED",
    "Superseded": "SUPERSEDED",
    "Cancelled": "CANCELED",
    "Abandoned": "ABANDONED",
}
