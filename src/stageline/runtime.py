"""The running parts of a server process: engine, job service, stores, in-process agent, scheduler."""

from __future__ import annotations

import logging
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from stageline.agent.local import LocalBackend
from stageline.agent.registry import ProviderContext, ProviderRegistry
from stageline.agent.worker import Agent
from stageline.artifacts import LocalArtifactStore
from stageline.engine.core import Engine
from stageline.engine.jobs import JobService
from stageline.engine.operations import Operations
from stageline.engine.queries import Queries
from stageline.engine.scheduler import Scheduler
from stageline.engine.status import TriggerType
from stageline.engine.transitions import StateWriter
from stageline.logs import FileLogStore
from stageline.services.context import ServiceContext
from stageline.services.pipelines import PipelineService
from stageline.store import executions as execution_store
from stageline.store import jobs as job_store
from stageline.store import pipelines as pipeline_store

log = logging.getLogger("stageline")


@dataclass
class Runtime:
    engine: Engine
    operations: Operations
    queries: Queries
    jobs: JobService
    artifacts: LocalArtifactStore
    logs: FileLogStore
    scheduler: Scheduler
    agent: Agent | None = None
    worker_prefix: str = field(default_factory=lambda: f"inproc:{socket.gethostname()}:")

    def start(self) -> None:
        requeued = self.requeue_orphans()
        if requeued:
            log.info("re-queued %d job(s) left running by a previous server process", requeued)
        if self.agent is not None:
            self.agent.start()
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop()
        if self.agent is not None:
            self.agent.stop()
        self.logs.close()

    def requeue_orphans(self) -> int:
        """Jobs held by this host's in-process agent of an earlier boot: that agent is gone."""
        if self.agent is None:
            return 0
        return self.jobs.release_lost_workers(self.worker_prefix, keep=self.agent.name)


def build_runtime(
    ctx: ServiceContext,
    data_dir: Path,
    pipelines: PipelineService,
    *,
    provider_services: dict[str, Any] | None = None,
    agent_concurrency: int = 4,
    with_agent: bool = True,
    scheduler_interval_s: float = 0.25,
    max_artifact_bytes: int | None = None,
    lease_ms: int | None = None,
) -> Runtime:
    engine = Engine(ctx)
    operations = Operations(engine)
    jobs = JobService(engine, operations, **({"lease_ms": lease_ms} if lease_ms else {}))
    artifacts = LocalArtifactStore(data_dir / "artifacts")
    logs = FileLogStore(data_dir / "logs", clock=ctx.clock.now_ms)
    runtime = Runtime(
        engine=engine,
        operations=operations,
        queries=Queries(engine),
        jobs=jobs,
        artifacts=artifacts,
        logs=logs,
        scheduler=Scheduler(operations, jobs, interval_s=scheduler_interval_s),
    )
    if with_agent:
        services = dict(provider_services or {})
        services.setdefault("job_status", lambda job_id: jobs.get(job_id).status)
        registry = ProviderRegistry.discover(ProviderContext(data_dir=data_dir, services=services))
        agent = Agent(
            LocalBackend(jobs, operations, artifacts, logs, regions=(None, ctx.region)),
            registry,
            work_root=data_dir / "work",
            concurrency=agent_concurrency,
            name=f"{runtime.worker_prefix}{uuid.uuid4().hex[:12]}",
            data_dir=data_dir,
            heartbeat_s=max(1.0, (lease_ms or 60_000) / 3000),
            **({"max_input_bytes": max_artifact_bytes} if max_artifact_bytes else {}),
        )
        engine.job_listeners.append(agent.wake)
        engine.cancel_listeners.append(agent.poke)
        runtime.agent = agent

    def first_execution(
        conn: Connection, row: pipeline_store.PipelineRow, _stored: dict[str, Any]
    ) -> None:
        """CreatePipeline starts an execution at once, as AWS does."""
        writer = StateWriter(conn, ctx, ctx.clock.now_ms())
        operations.start_in(conn, writer, row.name, trigger_type=TriggerType.CREATE_PIPELINE)
        step = engine.advance(conn, writer, row.name)
        pipelines.after_commit.append(lambda: engine.notify(row.name, step.jobs_created))

    def forget_executions(conn: Connection, name: str) -> None:
        execution_store.delete_pipeline_executions(conn, name)
        job_store.delete_for_pipeline(conn, name)

    pipelines.created_hooks.append(first_execution)
    pipelines.deleted_hooks.append(forget_executions)
    return runtime
