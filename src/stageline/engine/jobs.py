"""Jobs from the worker's side: claim with a lease, acknowledge, heartbeat, and lease expiry.

A claimed job is Dispatched with a nonce and a lease; AcknowledgeJob (with the
nonce) moves it to InProgress; every acknowledgement or progress report renews
the lease. A lease that runs out means the worker died: the job goes back to
the queue for another worker, up to MAX_ATTEMPTS claims, and then fails its
action with the reason (DESIGN.md §2.3).
"""

from __future__ import annotations

from stageline.definitions.catalog import ActionTypeKey
from stageline.engine.core import Engine
from stageline.engine.operations import Operations
from stageline.engine.status import JobStatus
from stageline.errors import error
from stageline.store import jobs as job_store
from stageline.store.jobs import JobRow

DEFAULT_LEASE_MS = 60_000
MAX_ATTEMPTS = 3


class JobService:
    def __init__(
        self, engine: Engine, operations: Operations, *, lease_ms: int = DEFAULT_LEASE_MS
    ) -> None:
        self.engine = engine
        self.operations = operations
        self.ctx = engine.ctx
        self.lease_ms = lease_ms

    def claim(
        self,
        type_key: ActionTypeKey,
        *,
        worker: str,
        limit: int = 1,
        regions: tuple[str | None, ...] | None = None,
        acknowledge: bool = False,
    ) -> list[JobRow]:
        """Claim queued jobs; ``acknowledge`` claims straight into InProgress (the in-process
        agent, which needs no separate AcknowledgeJob round trip)."""
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
            )

    def get(self, job_id: str) -> JobRow:
        with self.ctx.db.read() as conn:
            job = job_store.get(conn, job_id)
        if job is None:
            raise error("JobNotFoundException", f"no job with id {job_id}")
        return job

    def acknowledge(self, job_id: str, nonce: str) -> str:
        now = self.ctx.clock.now_ms()
        with self.ctx.db.write() as conn:
            job = job_store.get(conn, job_id)
            if job is None:
                raise error("JobNotFoundException", f"no job with id {job_id}")
            if job.nonce != nonce:
                raise error(
                    "InvalidNonceException",
                    f"the nonce does not match job {job_id}'s; use the nonce PollForJobs returned with it",
                )
            if job.status == JobStatus.DISPATCHED:
                job_store.set_status(
                    conn, job_id, JobStatus.IN_PROGRESS, now, lease_expires_ms=now + self.lease_ms
                )
                return JobStatus.IN_PROGRESS
            if job.status == JobStatus.IN_PROGRESS:
                job_store.renew(conn, job_id, self.lease_ms, now)
            return job.status

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

    def expire_leases(self) -> int:
        now = self.ctx.clock.now_ms()
        with self.ctx.db.read() as conn:
            expired = job_store.expired_leases(conn, now)
        handled = 0
        for job in expired:
            if job.attempts < MAX_ATTEMPTS:
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
                    message=f"the worker running this job stopped responding (its lease expired "
                    f"{job.attempts} times, last held by {job.worker}); the action failed",
                    job_status=JobStatus.FAILED,
                    expect=(job.status,),
                )
                handled += int(done)
        return handled
