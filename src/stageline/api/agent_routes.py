"""What a remote agent needs besides the job API: its job's artifacts and a place for its log.

Every route is scoped to one job and authenticated by that job's nonce (header
``X-Stageline-Nonce``); the job must be open (Dispatched or InProgress), and an
artifact must be one of the job's declared inputs (GET) or outputs (PUT).

* ``GET  /_stageline/jobs/{job}/artifacts/{name}`` — an input artifact, streamed;
* ``PUT  /_stageline/jobs/{job}/artifacts/{name}`` — an output artifact, streamed in;
* ``POST /_stageline/jobs/{job}/log`` — a JSON list of lines to append; ``?final=1`` closes it;
* ``GET  /_stageline/jobs/{job}/spec`` — what the job needs beyond AWS's JobData.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from stageline.artifacts.store import ArtifactStore
from stageline.engine.jobs import JobService
from stageline.errors import ApiError
from stageline.logs import FileLogStore
from stageline.store.jobs import JobRow

CHUNK = 1024 * 1024
OPEN = ("Dispatched", "InProgress")


def agent_routes(
    jobs: JobService, store: ArtifactStore, logs: FileLogStore, *, max_artifact_bytes: int
) -> list[BaseRoute]:
    writers: dict[str, Any] = {}
    writers_lock = threading.Lock()

    def job_for(request: Request, *, finished_ok: bool = False) -> JobRow | Response:
        try:
            job = jobs.get(request.path_params["job_id"])
        except ApiError as exc:
            return JSONResponse({"message": exc.message}, status_code=404)
        if request.headers.get("x-stageline-nonce") != job.nonce or job.nonce is None:
            return JSONResponse(
                {"message": "X-Stageline-Nonce does not match the job's nonce"}, status_code=403
            )
        if job.status not in OPEN and not finished_ok:
            return JSONResponse(
                {"message": f"job {job.id} is {job.status}, no longer open"}, status_code=409
            )
        return job

    def artifact_key(job: JobRow, name: str, kind: str) -> str | None:
        for art in job.data["job"].get(kind, []):
            if art["name"] == name:
                return str(art["location"]["s3Location"]["objectKey"])
        return None

    async def download(request: Request) -> Response:
        job = await run_in_threadpool(job_for, request)
        if isinstance(job, Response):
            return job
        key = artifact_key(job, request.path_params["name"], "inputArtifacts")
        if key is None:
            return JSONResponse({"message": "not an input artifact of this job"}, status_code=404)
        try:
            stream = await run_in_threadpool(store.open, key)
        except FileNotFoundError:
            return JSONResponse(
                {"message": f"artifact {key} is missing from the store"}, status_code=404
            )

        async def body() -> AsyncIterator[bytes]:
            try:
                while chunk := await run_in_threadpool(stream.read, CHUNK):
                    yield chunk
            finally:
                stream.close()

        return StreamingResponse(body(), media_type="application/zip")

    async def upload(request: Request) -> Response:
        job = await run_in_threadpool(job_for, request)
        if isinstance(job, Response):
            return job
        key = artifact_key(job, request.path_params["name"], "outputArtifacts")
        if key is None:
            return JSONResponse({"message": "not an output artifact of this job"}, status_code=404)
        with tempfile.TemporaryFile() as spool:
            size = 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_artifact_bytes:
                    return JSONResponse(
                        {"message": f"artifact is over the limit of {max_artifact_bytes} bytes"},
                        status_code=413,
                    )
                spool.write(chunk)
            spool.seek(0)
            info = await run_in_threadpool(store.put, key, spool)
        return JSONResponse({"key": key, "size": info.size, "sha256": info.sha256})

    async def spec(request: Request) -> Response:
        """The parts of a job that AWS's JobData has no place for (a Commands action's
        commands, output variable names, environment, output file globs, pinned revision)."""
        job = await run_in_threadpool(job_for, request)
        if isinstance(job, Response):
            return job
        return JSONResponse(job.data.get("stageline", {}))

    async def append_log(request: Request) -> Response:
        # The last lines may arrive just after the result: a finished job's log still takes them.
        job = await run_in_threadpool(lambda: job_for(request, finished_ok=True))
        if isinstance(job, Response):
            return job
        try:
            lines = json.loads(await request.body())
            if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
                raise ValueError("expected a JSON list of strings")
        except ValueError as exc:
            return JSONResponse({"message": f"log body: {exc}"}, status_code=400)
        action_id = job.data["job"]["pipelineContext"]["action"]["actionExecutionId"]

        def write() -> None:
            with writers_lock:
                writer = writers.get(job.id)
                if writer is None:
                    writer = writers[job.id] = logs.next_writer(action_id)
            for line in lines:
                writer.write(line)
            if request.query_params.get("final"):
                with writers_lock:
                    writers.pop(job.id, None)
                writer.close()
            else:
                writer.flush()

        await run_in_threadpool(write)
        return JSONResponse({"lines": len(lines)})

    return [
        Route("/_stageline/jobs/{job_id}/artifacts/{name}", download, methods=["GET"]),
        Route("/_stageline/jobs/{job_id}/artifacts/{name}", upload, methods=["PUT"]),
        Route("/_stageline/jobs/{job_id}/log", append_log, methods=["POST"]),
        Route("/_stageline/jobs/{job_id}/spec", spec, methods=["GET"]),
    ]
