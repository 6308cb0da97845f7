"""Jobs from the worker's side: AWS's job-worker protocol, leases and lease expiry.

A claimed job is Dispatched with a nonce and a lease; AcknowledgeJob (with the
nonce) moves it to InProgress; every acknowledgement renews the lease. A lease
that runs out means the worker died: the job goes back to the queue for another
worker, up to MAX_ATTEMPTS claims, and then fails its action with the reason
(DESIGN.md §2.3). Results arrive as PutJobSuccessResult / PutJobFailureResult
and go through the engine like any other state change.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Mapping
from typing import Any

from stageline.definitions.catalog import ActionTypeKey
from stageline.engine.core import Engine
from stageline.engine.operations import Operations
from stageline.engine.status import JobStatus
from stageline.errors import error
from stageline.services import catalog as catalog_service
from stageline.store import jobs as job_store
from stageline.store.jobs import JobRow

DEFAULT_LEASE_MS = 60_000
MAX_ATTEMPTS = 3
MAX_OUTPUT_VARIABLES_BYTES = 122_880
FAILURE_TYPES = (
    "JobFailed",
    "ConfigurationError",
    "PermissionError",
    "RevisionOutOfSync",
    "RevisionUnavailable",
    "SystemUnavailable",
)


class JobSignal:
    """Wakes long-polling waiters, threads and asyncio tasks alike, when jobs are queued."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()
        self._generation = 0

    def notify(self) -> None:
        with self._lock:
            self._generation += 1
            waiters = list(self._futures)
            self._futures.clear()
        for loop, future in waiters:
            loop.call_soon_threadsafe(_resolve, future)

    def register(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]:
        """Register before looking for work, so a notification in between is not lost."""
        loop = asyncio.get_running_loop()
        entry = (loop, loop.create_future())
        with self._lock:
            self._futures.add(entry)
        return entry

    def forget(self, entry: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]) -> None:
        with self._lock:
            self._futures.discard(entry)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class JobService:
    def __init__(
        self, engine: Engine, operations: Operations, *, lease_ms: int = DEFAULT_LEASE_MS
    ) -> None:
        self.engine = engine
        self.operations = operations
        self.ctx = engine.ctx
        self.lease_ms = lease_ms
        self.signal = JobSignal()
        engine.job_listeners.append(self.signal.notify)

    # --- claiming -------------------------------------------------------------------------

    def claim(
        self,
        type_key: ActionTypeKey,
        *,
        worker: str,
        limit: int = 1,
        regions: tuple[str | None, ...] | None = None,
        acknowledge: bool = False,
        query: Mapping[str, str] | None = None,
    ) -> list[JobRow]:
        """Claim queued jobs; ``acknowledge`` claims straight into InProgress (the in-process
        agent, which needs no separate AcknowledgeJob round trip)."""
        match = None
        if query:
            wanted = dict(query)

            def match(data: dict[str, Any]) -> bool:
                config = data.get("job", {}).get("actionConfiguration", {}).get("configuration", {})
                return all(config.get(k) == v for k, v in wanted.items())

        # Peek first: a read takes no write lock, and most polls find nothing to claim.
        with self.ctx.db.read() as conn:
            if not job_store.has_queued(conn, type_key):
                return []
        with self.ctx.db.write() as conn:
            return job_store.claim(
                conn,
                type_key,
                status=JobStatus.IN_PROGRESS if acknowledge else JobStatus.DISPATCHED,
                worker=worker,
                limit=limit,
                lease_ms=self.lease_ms,
                now_ms=self.ctx.clock.now_ms(),
                regions=regions,
                match=match,
            )

    def check_pollable(self, type_key: ActionTypeKey, query: Mapping[str, str] | None) -> None:
        """PollForJobs names an action type that exists, and queries only a queryable property."""
        with self.ctx.db.read() as conn:
            spec = catalog_service.load(conn).get(type_key)
        if spec is None:
            raise error(
                "ActionTypeNotFoundException",
                f"action type (category {type_key.category}, owner {type_key.owner}, provider "
                f"{type_key.provider}, version {type_key.version}) does not exist or was deleted",
            )
        for key in query or {}:
            prop = spec.config_property(key)
            if spec.owner == "Custom" and (prop is None or not prop.queryable):
                queryable = [p.name for p in spec.properties if p.queryable] or ["none"]
                raise error(
                    "ValidationException",
                    f"queryParam '{key}' is not a queryable configuration property of this action "
                    f"type; queryable: {', '.join(queryable)}",
                )

    async def poll(
        self,
        type_key: ActionTypeKey,
        *,
        worker: str,
        limit: int,
        wait_s: float,
        regions: tuple[str | None, ...] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> list[JobRow]:
        """Claim jobs, waiting up to ``wait_s`` for one to be queued (long polling)."""
        from starlette.concurrency import run_in_threadpool

        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, wait_s)
        while True:
            entry = self.signal.register()
            try:
                jobs = await run_in_threadpool(
                    lambda: self.claim(
                        type_key, worker=worker, limit=limit, regions=regions, query=query
                    )
                )
                remaining = deadline - loop.time()
                if jobs or remaining <= 0:
                    return jobs
                try:
                    await asyncio.wait_for(asyncio.shield(entry[1]), remaining)
                except TimeoutError:
                    return []
            finally:
                self.signal.forget(entry)

    # --- the worker's calls ---------------------------------------------------------------

    def get(self, job_id: str) -> JobRow:
        with self.ctx.db.read() as conn:
            job = job_store.get(conn, job_id)
        if job is None:
            raise error("JobNotFoundException", f"no job with id {job_id}")
        return job

    def acknowledge(self, job_id: str, nonce: str, *, client_token: str | None = None) -> str:
        now = self.ctx.clock.now_ms()
        with self.ctx.db.write() as conn:
            job = job_store.get(conn, job_id)
            if job is None:
                raise error("JobNotFoundException", f"no job with id {job_id}")
            if client_token is not None:
                self._bind_client(conn, job, client_token)
            if job.nonce != nonce:
                raise error(
                    "InvalidNonceException",
                    f"the nonce does not match job {job_id}'s; use the nonce the poll returned with it",
                )
            if job.status == JobStatus.DISPATCHED:
                job_store.set_status(
                    conn, job_id, JobStatus.IN_PROGRESS, now, lease_expires_ms=now + self.lease_ms
                )
                return JobStatus.IN_PROGRESS
            if job.status == JobStatus.IN_PROGRESS:
                job_store.renew(conn, job_id, self.lease_ms, now)
            return job.status

    def client_details(self, job_id: str, client_token: str) -> JobRow:
        """GetThirdPartyJobDetails: the first client token presented binds the job to that client."""
        with self.ctx.db.write() as conn:
            job = job_store.get(conn, job_id)
            if job is None:
                raise error("JobNotFoundException", f"no job with id {job_id}")
            self._bind_client(conn, job, client_token)
            return job

    def _bind_client(self, conn: Any, job: JobRow, client_token: str) -> None:
        if job.client_token is None:
            job_store.set_status(
                conn, job.id, job.status, self.ctx.clock.now_ms(), client_token=client_token
            )
        elif job.client_token != client_token:
            raise error(
                "InvalidClientTokenException",
                f"job {job.id} belongs to another client; use the client token it was first used with",
            )

    def heartbeat(self, job_id: str) -> str:
        """Renew the lease; returns the job status so a worker learns of an abandon."""
        now = self.ctx.clock.now_ms()
        with self.ctx.db.write() as conn:
            job = job_store.get(conn, job_id)
            if job is None:
                raise error("JobNotFoundException", f"no job with id {job_id}")
            if JobStatus(job.status) in (JobStatus.DISPATCHED, JobStatus.IN_PROGRESS):
                job_store.renew(conn, job_id, self.lease_ms, now)
            return job.status

    def put_success(
        self,
        job_id: str,
        *,
        current_revision: Mapping[str, Any] | None = None,
        continuation_token: str | None = None,
        execution_details: Mapping[str, Any] | None = None,
        output_variables: Mapping[str, str] | None = None,
        client_token: str | None = None,
    ) -> None:
        job = self._open_job(job_id, client_token)
        variables = dict(output_variables or {})
        size = len(json.dumps(variables).encode())
        if size > MAX_OUTPUT_VARIABLES_BYTES:
            raise error(
                "OutputVariablesSizeExceededException",
                f"output variables take {size} bytes; the limit is {MAX_OUTPUT_VARIABLES_BYTES}",
            )
        details = dict(execution_details or {})
        revision = None
        if current_revision:
            created = current_revision.get("created")
            revision = {
                "revisionId": current_revision["revision"],
                "revisionChangeId": current_revision.get("changeIdentifier")
                or current_revision["revision"],
                **(
                    {"summary": current_revision["revisionSummary"]}
                    if current_revision.get("revisionSummary")
                    else {}
                ),
                **(
                    {"createdMs": int(float(created) * 1000)}
                    if isinstance(created, int | float)
                    else {}
                ),
            }
        outputs = [a["name"] for a in job.data["job"].get("outputArtifacts", [])]
        done = self.operations.job_finished(
            job_id,
            succeeded=True,
            summary=details.get("summary"),
            output_variables=variables,
            external_execution_id=details.get("externalExecutionId"),
            percent_complete=details.get("percentComplete"),
            revision=revision,
            artifact_revisions={name: revision["revisionId"] for name in outputs}
            if revision
            else None,
            continuation_token=continuation_token,
        )
        if not done:
            raise self._not_open(job_id)

    def put_failure(
        self, job_id: str, failure: Mapping[str, Any], *, client_token: str | None = None
    ) -> None:
        self._open_job(job_id, client_token)
        if failure["type"] not in FAILURE_TYPES:
            raise error(
                "ValidationException",
                f"failureDetails.type '{failure['type']}' is not one of {', '.join(FAILURE_TYPES)}",
            )
        done = self.operations.job_finished(
            job_id,
            succeeded=False,
            error_code=failure["type"],
            message=failure["message"],
            external_execution_id=failure.get("externalExecutionId"),
        )
        if not done:
            raise self._not_open(job_id)

    def _open_job(self, job_id: str, client_token: str | None) -> JobRow:
        job = self.get(job_id)
        if client_token is not None:
            with self.ctx.db.write() as conn:
                self._bind_client(conn, job, client_token)
        if JobStatus(job.status) not in (JobStatus.DISPATCHED, JobStatus.IN_PROGRESS):
            raise self._not_open(job_id, job.status)
        return job

    def _not_open(self, job_id: str, status: str | None = None) -> Exception:
        status = status or self.get(job_id).status
        return error(
            "InvalidJobStateException",
            f"job {job_id} is {status}; a result can only be reported for a job that is "
            "Dispatched or InProgress (it may have been abandoned, timed out or already reported)",
        )

    # --- time -----------------------------------------------------------------------------

    def release_lost_workers(self, prefix: str, *, keep: str) -> int:
        """End the leases of open jobs held by workers named ``prefix…`` (except ``keep``),
        known to be gone, then let lease expiry apply each action type's policy: run the
        job again elsewhere, or fail work that must not run twice."""
        with self.ctx.db.write() as conn:
            lost = [
                job
                for job in job_store.expired_leases(conn, now_ms=2**62, limit=10_000)
                if (job.worker or "").startswith(prefix) and job.worker != keep
            ]
            for job in lost:
                job_store.end_lease(conn, job.id)
        return self.expire_leases() if lost else 0

    def expire_leases(self) -> int:
        now = self.ctx.clock.now_ms()
        with self.ctx.db.read() as conn:
            expired = job_store.expired_leases(conn, now)
            if not expired:
                return 0
            catalog = catalog_service.load(conn)
        handled = 0
        for job in expired:
            spec = catalog.get(job.type_key)
            requeue = spec.requeue_on_lost_worker if spec else True
            if requeue and job.attempts < MAX_ATTEMPTS:
                with self.engine.transaction(job.pipeline_name) as (conn, writer):
                    if job_store.set_status(
                        conn,
                        job.id,
                        JobStatus.QUEUED,
                        writer.now,
                        expect=(job.status,),
                        nonce=None,
                        worker=None,
                        lease_expires_ms=None,
                    ):
                        writer.jobs_created = True
                        handled += 1
            else:
                done = self.operations.job_finished(
                    job.id,
                    succeeded=False,
                    error_code="JobFailed",
                    message=(
                        f"the worker running this job stopped responding (its lease expired "
                        f"{job.attempts} times, last held by {job.worker}); the action failed"
                        if requeue
                        else f"the worker running this job ({job.worker}) stopped responding; "
                        f"{job.type_key.provider} actions are not run twice, so the action failed"
                    ),
                    job_status=JobStatus.FAILED,
                    expect=(job.status,),
                )
                handled += int(done)
        return handled
