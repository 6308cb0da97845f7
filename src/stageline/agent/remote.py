"""An agent on another machine: the job API over HTTP, artifacts and logs through the server.

It speaks CodePipeline's own job-worker protocol (PollForJobs, AcknowledgeJob,
PutJobSuccessResult, PutJobFailureResult) with stageline's extension headers for
long polling and region routing, and the job-scoped artifact and log routes
(``stageline.api.agent_routes``).
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import IO, Any, BinaryIO

import httpx

from stageline.agent.worker import ClaimedJob
from stageline.artifacts.store import ArtifactInfo
from stageline.definitions.catalog import ActionTypeKey
from stageline.logs import records
from stageline.providers.base import JobResult

log = logging.getLogger("stageline.agent")

TARGET = "CodePipeline_20150709."
MAX_SUMMARY = 2048
MAX_MESSAGE = 5000
LOG_BATCH_LINES = 500
LOG_FLUSH_S = 0.25


class RemoteError(RuntimeError):
    pass


class RemoteBackend:
    """JobBackend over HTTP to a stageline server."""

    def __init__(
        self, endpoint_url: str, *, region: str | None, worker: str, wait_s: float = 10.0
    ) -> None:
        self.url = endpoint_url.rstrip("/")
        self.region = region
        self.worker = worker
        self.wait_s = wait_s
        self.lease_s: float | None = None
        self.http = httpx.Client(base_url=self.url, timeout=httpx.Timeout(30.0, read=wait_s + 30.0))
        self._nonces: dict[str, str] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.http.close()

    def call(
        self, operation: str, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> Any:
        response = self.http.post(
            "/",
            content=json.dumps(body),
            headers={
                "X-Amz-Target": TARGET + operation,
                "Content-Type": "application/x-amz-json-1.1",
                "X-Stageline-Worker": self.worker,
                **(headers or {}),
            },
        )
        if response.status_code != 200:
            try:
                err = response.json()
            except ValueError:
                err = {"__type": str(response.status_code), "message": response.text[:200]}
            raise RemoteError(f"{operation}: {err.get('__type')}: {err.get('message')}")
        if "x-stageline-lease-seconds" in response.headers:
            self.lease_s = float(response.headers["x-stageline-lease-seconds"])
        return response.json()

    # --- JobBackend ------------------------------------------------------------------------

    def claim(self, type_key: ActionTypeKey, *, worker: str, limit: int) -> list[ClaimedJob]:
        headers = {"X-Stageline-Wait-Seconds": str(self.wait_s)}
        if self.region:
            headers["X-Stageline-Agent-Region"] = self.region
        body = {
            "actionTypeId": {
                "category": type_key.category,
                "owner": type_key.owner,
                "provider": type_key.provider,
                "version": type_key.version,
            },
            "maxBatchSize": limit,
        }
        jobs = self.call("PollForJobs", body, headers)["jobs"]
        claimed = []
        for job in jobs:
            with self._lock:
                self._nonces[job["id"]] = job["nonce"]
            spec = self.http.get(
                f"/_stageline/jobs/{job['id']}/spec", headers={"X-Stageline-Nonce": job["nonce"]}
            )
            extra = spec.json() if spec.status_code == 200 else {}
            claimed.append(
                ClaimedJob(
                    id=job["id"],
                    nonce=job["nonce"],
                    type_key=type_key,
                    data={"job": job["data"], "stageline": extra},
                )
            )
        return claimed

    def acknowledge(self, job_id: str, nonce: str) -> str:
        return str(self.call("AcknowledgeJob", {"jobId": job_id, "nonce": nonce})["status"])

    def heartbeat(self, job_id: str) -> str:
        """AcknowledgeJob again renews the lease and tells whether the job is still ours."""
        return self.acknowledge(job_id, self._nonces[job_id])

    def status(self, job_id: str) -> str:
        return self.heartbeat(job_id)

    def finish(self, job_id: str, result: JobResult) -> None:
        try:
            if result.succeeded:
                body: dict[str, Any] = {"jobId": job_id}
                details = {
                    k: v
                    for k, v in {
                        "summary": (result.summary or "")[:MAX_SUMMARY] or None,
                        "externalExecutionId": result.external_execution_id,
                    }.items()
                    if v
                }
                if details:
                    body["executionDetails"] = details
                if result.output_variables:
                    body["outputVariables"] = dict(result.output_variables)
                if result.continuation_token:
                    body["continuationToken"] = result.continuation_token
                if result.revision is not None:
                    rev = result.revision
                    body["currentRevision"] = {
                        "revision": rev.revision_id,
                        "changeIdentifier": rev.revision_id,
                        **({"revisionSummary": rev.summary[:2048]} if rev.summary else {}),
                        **({"created": rev.created_ms / 1000} if rev.created_ms else {}),
                    }
                self.call("PutJobSuccessResult", body)
            else:
                failure = {
                    "type": result.failure_type,
                    "message": (result.message or "the job failed")[:MAX_MESSAGE],
                }
                if result.external_execution_id:
                    failure["externalExecutionId"] = result.external_execution_id
                self.call("PutJobFailureResult", {"jobId": job_id, "failureDetails": failure})
        finally:
            with self._lock:
                self._nonces.pop(job_id, None)

    def log_writer(self, job: ClaimedJob, secrets: list[str]) -> RemoteLogWriter:
        return RemoteLogWriter(self.http, job, secrets)

    def artifacts(self, job: ClaimedJob) -> RemoteArtifacts:
        return RemoteArtifacts(self.http, job)


class RemoteLogWriter:
    """Batches log lines and posts them to the job's log route; secrets are masked here."""

    def __init__(self, http: httpx.Client, job: ClaimedJob, secrets: list[str]) -> None:
        self.http = http
        self.job = job
        self.closed = False
        masker = records.SecretMasker(secrets)
        self._mask = masker.mask if masker else None
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"log-{job.id[:8]}", daemon=True)
        self._thread.start()

    def write(self, line: str) -> None:
        if self._mask is not None:
            line = self._mask(line)
        with self._lock:
            self._lines.append(line)
            full = len(self._lines) >= LOG_BATCH_LINES
        if full:
            self.flush()

    def flush(self, *, final: bool = False) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
        if not lines and not final:
            return
        try:
            self.http.post(
                f"/_stageline/jobs/{self.job.id}/log",
                params={"final": "1"} if final else None,
                content=json.dumps(lines),
                headers={"X-Stageline-Nonce": self.job.nonce},
            )
        except httpx.HTTPError:
            log.warning(
                "could not send %d log lines of job %s", len(lines), self.job.id, exc_info=True
            )

    def _loop(self) -> None:
        while not self._stop.wait(LOG_FLUSH_S):
            self.flush()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._stop.set()
        self._thread.join(timeout=5)
        self.flush(final=True)


class RemoteArtifacts:
    """The artifact store as one job sees it: its inputs to read, its outputs to write."""

    def __init__(self, http: httpx.Client, job: ClaimedJob) -> None:
        self.http = http
        self.job = job
        data = job.data["job"]
        self._names = {
            art["location"]["s3Location"]["objectKey"]: art["name"]
            for art in data.get("inputArtifacts", []) + data.get("outputArtifacts", [])
        }

    def _url(self, key: str) -> str:
        return f"/_stageline/jobs/{self.job.id}/artifacts/{self._names[key]}"

    def open(self, key: str) -> BinaryIO:
        spool: IO[bytes] = __import__("tempfile").TemporaryFile()
        with self.http.stream(
            "GET", self._url(key), headers={"X-Stageline-Nonce": self.job.nonce}
        ) as response:
            if response.status_code != 200:
                spool.close()
                raise FileNotFoundError(f"{key}: {response.read().decode(errors='replace')[:200]}")
            for chunk in response.iter_bytes(1024 * 1024):
                spool.write(chunk)
        spool.seek(0)
        return spool  # type: ignore[return-value]

    def put(self, key: str, source: BinaryIO) -> ArtifactInfo:
        def chunks() -> Any:
            while chunk := source.read(1024 * 1024):
                yield chunk

        response = self.http.put(
            self._url(key), content=chunks(), headers={"X-Stageline-Nonce": self.job.nonce}
        )
        if response.status_code != 200:
            raise OSError(f"uploading {key} failed: {response.text[:200]}")
        body = response.json()
        return ArtifactInfo(key=key, size=body["size"], sha256=body["sha256"], md5="")

    def new_key(
        self, pipeline_name: str, artifact_name: str
    ) -> str:  # pragma: no cover - server-side only
        raise NotImplementedError("keys are made by the server")

    def exists(self, key: str) -> bool:  # pragma: no cover
        return key in self._names

    def delete(self, key: str) -> None:  # pragma: no cover
        raise NotImplementedError("agents do not delete artifacts")

    def size(self, key: str) -> int:  # pragma: no cover
        raise NotImplementedError

    def local_path(self, key: str) -> Path | None:
        return None
