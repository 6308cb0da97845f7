"""The in-process agent's backend: the job service and stores, called directly."""

from __future__ import annotations

import threading
from typing import Any

from stageline.agent.worker import ClaimedJob
from stageline.artifacts.store import ArtifactStore
from stageline.definitions.catalog import ActionTypeKey
from stageline.engine.jobs import JobService
from stageline.engine.operations import Operations
from stageline.logs import FileLogStore
from stageline.providers.base import JobResult


def revision_doc(result: JobResult) -> dict[str, Any] | None:
    if result.revision is None:
        return None
    rev = result.revision
    return {
        k: v
        for k, v in {
            "revisionId": rev.revision_id,
            "revisionChangeId": rev.revision_id,
            "summary": rev.summary,
            "createdMs": rev.created_ms,
            "url": rev.url,
        }.items()
        if v is not None
    }


def finish(
    operations: Operations, job_id: str, result: JobResult, pipeline_name: str | None = None
) -> None:
    """Report a provider's result through the engine."""
    operations.job_finished(
        job_id,
        pipeline_name=pipeline_name,
        succeeded=result.succeeded,
        summary=result.summary,
        error_code=None if result.succeeded else result.failure_type,
        message=result.message,
        output_variables=dict(result.output_variables),
        external_execution_id=result.external_execution_id,
        external_execution_url=result.external_execution_url,
        revision=revision_doc(result),
        artifact_revisions=dict(result.artifact_revisions),
        continuation_token=result.continuation_token,
    )


class LocalBackend:
    def __init__(
        self,
        jobs: JobService,
        operations: Operations,
        store: ArtifactStore,
        logs: FileLogStore,
        *,
        regions: tuple[str | None, ...] | None = None,
    ) -> None:
        self.regions = regions
        self._pipelines: dict[str, str] = {}  # claimed job -> its pipeline
        self._lock = threading.Lock()
        self.jobs = jobs
        self.operations = operations
        self.store = store
        self.logs = logs

    def claim(self, type_key: ActionTypeKey, *, worker: str, limit: int) -> list[ClaimedJob]:
        rows = self.jobs.claim(
            type_key, worker=worker, limit=limit, acknowledge=True, regions=self.regions
        )
        with self._lock:
            for j in rows:
                self._pipelines[j.id] = j.pipeline_name
        return [
            ClaimedJob(id=j.id, nonce=j.nonce or "", type_key=j.type_key, data=j.data) for j in rows
        ]

    def acknowledge(self, job_id: str, nonce: str) -> str:
        return "InProgress"  # claimed straight into InProgress

    def heartbeat(self, job_id: str) -> str:
        return self.jobs.heartbeat(job_id)

    def status(self, job_id: str) -> str:
        return self.jobs.get(job_id).status

    def finish(self, job_id: str, result: JobResult) -> None:
        with self._lock:
            pipeline_name = self._pipelines.pop(job_id, None)
        finish(self.operations, job_id, result, pipeline_name)

    def log_writer(self, job: ClaimedJob, secrets: list[str]) -> Any:
        action_execution_id = job.data["job"]["pipelineContext"]["action"]["actionExecutionId"]
        return self.logs.next_writer(action_execution_id, secrets=secrets)

    def artifacts(self, job: ClaimedJob) -> ArtifactStore:
        return self.store
