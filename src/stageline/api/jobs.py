"""The job-worker operations of CodePipeline's API, AWS-exact, plus stageline's extensions.

Extensions are HTTP headers, so AWS clients that do not send them get AWS's answers:

* ``X-Stageline-Wait-Seconds`` (PollForJobs, PollForThirdPartyJobs): wait up to this
  many seconds (at most 20) for a job instead of answering at once (long polling);
* ``X-Stageline-Worker``: the worker's name, recorded on the jobs it claims;
* ``X-Stageline-Agent-Region``: claim only jobs of actions in this region (actions
  without a region belong to the server's region).

Responses to polls carry ``X-Stageline-Lease-Seconds``: how long a claimed job stays
the worker's without an acknowledgement or heartbeat.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from starlette.concurrency import run_in_threadpool

from stageline.api.protocol import RESPONSE_HEADERS, ServiceEndpoint, request_header
from stageline.definitions.catalog import ActionTypeKey
from stageline.engine.jobs import JobService
from stageline.store.jobs import JobRow

MAX_WAIT_S = 20.0


def _wait_seconds() -> float:
    raw = request_header("x-stageline-wait-seconds")
    if not raw:
        return 0.0
    try:
        return max(0.0, min(float(raw), MAX_WAIT_S))
    except ValueError:
        return 0.0


def _regions(server_region: str) -> tuple[str | None, ...] | None:
    region = request_header("x-stageline-agent-region")
    if not region:
        return None
    return (region, None) if region == server_region else (region,)


def _worker() -> str:
    return request_header("x-stageline-worker") or "job-worker"


def job_wire(job: JobRow, account_id: str, *, nonce: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"id": job.id, "data": job.data["job"], "accountId": account_id}
    if nonce and job.nonce:
        out["nonce"] = job.nonce
    return out


def client_id(job: JobRow) -> str:
    """A stable id for the pipeline action a third-party job belongs to."""
    ctx = job.data["job"]["pipelineContext"]
    digest = hashlib.sha256(
        f"{ctx['pipelineName']}/{ctx['stage']['name']}/{ctx['action']['name']}".encode()
    )
    return str(uuid.UUID(hex=digest.hexdigest()[:32]))  # AWS's ClientId is a UUID


def register(endpoint: ServiceEndpoint, jobs: JobService) -> None:
    account = jobs.ctx.account_id
    region = jobs.ctx.region
    lease_s = str(jobs.lease_ms // 1000)

    async def poll_for_jobs(p: dict[str, Any]) -> dict[str, Any]:
        key = ActionTypeKey(**p["actionTypeId"])
        query = p.get("queryParam")
        await run_in_threadpool(jobs.check_pollable, key, query)
        claimed = await jobs.poll(
            key,
            worker=_worker(),
            limit=p.get("maxBatchSize") or 1,
            wait_s=_wait_seconds(),
            regions=_regions(region),
            query=query,
        )
        RESPONSE_HEADERS.get()["X-Stageline-Lease-Seconds"] = lease_s
        return {"jobs": [job_wire(j, account) for j in claimed]}

    def acknowledge_job(p: dict[str, Any]) -> dict[str, Any]:
        return {"status": jobs.acknowledge(p["jobId"], p["nonce"])}

    def get_job_details(p: dict[str, Any]) -> dict[str, Any]:
        return {"jobDetails": job_wire(jobs.get(p["jobId"]), account, nonce=False)}

    def put_job_success_result(p: dict[str, Any]) -> None:
        jobs.put_success(
            p["jobId"],
            current_revision=p.get("currentRevision"),
            continuation_token=p.get("continuationToken"),
            execution_details=p.get("executionDetails"),
            output_variables=p.get("outputVariables"),
        )

    def put_job_failure_result(p: dict[str, Any]) -> None:
        jobs.put_failure(p["jobId"], p["failureDetails"])

    async def poll_for_third_party_jobs(p: dict[str, Any]) -> dict[str, Any]:
        key = ActionTypeKey(**p["actionTypeId"])
        await run_in_threadpool(jobs.check_pollable, key, None)
        claimed = await jobs.poll(
            key,
            worker=_worker(),
            limit=p.get("maxBatchSize") or 1,
            wait_s=_wait_seconds(),
            regions=_regions(region),
        )
        RESPONSE_HEADERS.get()["X-Stageline-Lease-Seconds"] = lease_s
        return {"jobs": [{"clientId": client_id(j), "jobId": j.id} for j in claimed]}

    def acknowledge_third_party_job(p: dict[str, Any]) -> dict[str, Any]:
        return {"status": jobs.acknowledge(p["jobId"], p["nonce"], client_token=p["clientToken"])}

    def get_third_party_job_details(p: dict[str, Any]) -> dict[str, Any]:
        job = jobs.client_details(p["jobId"], p["clientToken"])
        details: dict[str, Any] = {"id": job.id, "data": job.data["job"]}
        if job.nonce:
            details["nonce"] = job.nonce
        return {"jobDetails": details}

    def put_third_party_job_success_result(p: dict[str, Any]) -> None:
        jobs.put_success(
            p["jobId"],
            current_revision=p.get("currentRevision"),
            continuation_token=p.get("continuationToken"),
            execution_details=p.get("executionDetails"),
            client_token=p["clientToken"],
        )

    def put_third_party_job_failure_result(p: dict[str, Any]) -> None:
        jobs.put_failure(p["jobId"], p["failureDetails"], client_token=p["clientToken"])

    endpoint.handlers.update(
        PollForJobs=poll_for_jobs,
        AcknowledgeJob=acknowledge_job,
        GetJobDetails=get_job_details,
        PutJobSuccessResult=put_job_success_result,
        PutJobFailureResult=put_job_failure_result,
        PollForThirdPartyJobs=poll_for_third_party_jobs,
        AcknowledgeThirdPartyJob=acknowledge_third_party_job,
        GetThirdPartyJobDetails=get_third_party_job_details,
        PutThirdPartyJobSuccessResult=put_third_party_job_success_result,
        PutThirdPartyJobFailureResult=put_third_party_job_failure_result,
    )
