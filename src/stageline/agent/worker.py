"""The agent loop: claim a job, prepare a workspace, run the provider, upload, report.

The same code runs inside the server (the in-process agent) and, through the
HTTP job API, as ``stageline agent`` on other machines: it talks to a
:class:`JobBackend`, which is either the job service itself or a client of it.
"""

from __future__ import annotations

import logging
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from stageline import arns
from stageline.agent.registry import ProviderRegistry
from stageline.artifacts import UnsafeArchiveError, extract_zip, zip_directory
from stageline.artifacts.store import ArtifactStore
from stageline.definitions.catalog import ActionTypeKey
from stageline.providers.base import JobContext, JobResult, PipelineContext

log = logging.getLogger("stageline.agent")

MAX_INPUT_BYTES = 5 * 1024**3
IDLE_WAIT_S = 0.5


@dataclass(frozen=True, kw_only=True)
class ClaimedJob:
    id: str
    nonce: str
    type_key: ActionTypeKey
    data: dict[str, Any]  # {"job": AWS JobData, "stageline": engine extras}


class JobBackend(Protocol):
    """What an agent needs from the server, in-process or over HTTP."""

    def claim(self, type_key: ActionTypeKey, *, worker: str, limit: int) -> list[ClaimedJob]: ...

    def acknowledge(self, job_id: str, nonce: str) -> str: ...

    def heartbeat(self, job_id: str) -> str: ...

    def status(self, job_id: str) -> str: ...

    def finish(self, job_id: str, result: JobResult) -> None: ...

    def log_writer(self, job: ClaimedJob, secrets: list[str]) -> Any: ...

    def artifacts(self, job: ClaimedJob) -> ArtifactStore: ...


class Agent:
    """Runs up to ``concurrency`` jobs at once for every provider in its registry."""

    def __init__(
        self,
        backend: JobBackend,
        registry: ProviderRegistry,
        *,
        work_root: Path,
        concurrency: int = 4,
        name: str | None = None,
        heartbeat_s: float = 10.0,
        data_dir: Path | None = None,
        max_input_bytes: int = MAX_INPUT_BYTES,
    ) -> None:
        self.backend = backend
        self.max_input_bytes = max_input_bytes
        self.registry = registry
        self.work_root = work_root
        self.concurrency = concurrency
        self.name = name or f"agent:{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self.heartbeat_s = heartbeat_s
        self.data_dir = data_dir
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._slots = threading.Semaphore(concurrency)
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="job")
        self._janitor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="job-tidy")
        self._thread: threading.Thread | None = None
        self._running: dict[str, threading.Event] = {}
        self._pokes: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self.work_root.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._loop, name=f"agent-{self.name}", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def poke(self) -> None:
        """Something changed at the server: running jobs re-read their status now (abandon)."""
        with self._lock:
            for event in self._pokes.values():
                event.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        with self._lock:
            for cancel in self._running.values():
                cancel.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._janitor.shutdown(wait=True)

    # --- claiming -------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            claimed_any = False
            try:
                claimed_any = self._claim_round()
            except Exception:
                log.exception("claiming jobs failed; retrying")
                time.sleep(IDLE_WAIT_S)
            if not claimed_any:
                self._wake.wait(IDLE_WAIT_S)

    def _claim_round(self) -> bool:
        claimed_any = False
        for key in self.registry.types():
            free = 0
            while self._slots.acquire(blocking=False):
                free += 1
            if not free:
                break
            jobs = self.backend.claim(key, worker=self.name, limit=free)
            for _ in range(free - len(jobs)):
                self._slots.release()
            for job in jobs:
                claimed_any = True
                self._pool.submit(self._run_and_release, job)
            if self._stop.is_set():
                break
        return claimed_any

    def _run_and_release(self, job: ClaimedJob) -> None:
        """Run a job, then keep this thread busy with the next queued job of the same type
        (no hand-off to the claiming loop between actions that follow each other)."""
        current: ClaimedJob | None = job
        try:
            while current is not None:
                try:
                    self.run_job(current)
                except Exception:
                    log.exception("job %s crashed the agent's runner", current.id)
                current = None
                if not self._stop.is_set():
                    following = self.backend.claim(job.type_key, worker=self.name, limit=1)
                    current = following[0] if following else None
        finally:
            self._slots.release()
            self._wake.set()

    # --- running one job -------------------------------------------------------------------

    def run_job(self, job: ClaimedJob) -> None:
        provider = self.registry.get(job.type_key)
        if provider is None:  # pragma: no cover - we only claim types we have
            return
        self.backend.acknowledge(job.id, job.nonce)
        cancel = threading.Event()
        with self._lock:
            self._running[job.id] = cancel
        workspace = Path(tempfile.mkdtemp(prefix=f"job-{job.id[:8]}-", dir=self.work_root))
        stop_heartbeat = threading.Event()
        poke = threading.Event()
        with self._lock:
            self._pokes[job.id] = poke
        beat = threading.Thread(
            target=self._heartbeat,
            args=(job.id, cancel, stop_heartbeat, poke),
            name=f"hb-{job.id[:8]}",
            daemon=True,
        )
        beat.start()
        extra = job.data.get("stageline", {})
        secrets_to_mask = [v for v in extra.get("secretValues", []) if v]
        writer = self.backend.log_writer(job, secrets_to_mask)
        try:
            result = self._execute(job, provider, workspace, writer, cancel)
            stop_heartbeat.set()
            poke.set()
            writer.flush()
            if result.reported_externally:
                pass
            elif not (cancel.is_set() and not result.succeeded and self._stop.is_set()):
                # Report first, clean up after: the next action should not wait for rm -rf.
                # (When shutting down, a cancelled job is left to lease expiry to run elsewhere.)
                self.backend.finish(job.id, result)
        finally:
            stop_heartbeat.set()
            poke.set()
            with self._lock:
                self._running.pop(job.id, None)
                self._pokes.pop(job.id, None)
            # Tidying up is off the critical path: the next action need not wait for it.
            self._janitor.submit(self._tidy, beat, writer, workspace)

    @staticmethod
    def _tidy(beat: threading.Thread, writer: Any, workspace: Path) -> None:
        beat.join(timeout=5)
        try:
            writer.close()  # marks the log complete
        except Exception:  # pragma: no cover
            log.exception("closing a job's log failed")
        shutil.rmtree(workspace, ignore_errors=True)

    def _execute(
        self, job: ClaimedJob, provider: Any, workspace: Path, writer: Any, cancel: threading.Event
    ) -> JobResult:
        data, extra = job.data["job"], job.data.get("stageline", {})
        context = data["pipelineContext"]
        store = self.backend.artifacts(job)
        inputs: dict[str, Path] = {}
        try:
            for art in data.get("inputArtifacts", []):
                target = workspace / "src" / art["name"]
                target.mkdir(parents=True)
                with _open_artifact(store, art) as stream:
                    extract_zip(stream, target, max_total_bytes=self.max_input_bytes)
                inputs[art["name"]] = target
        except UnsafeArchiveError as exc:
            return JobResult.failed(f"input artifact refused: {exc}")
        except FileNotFoundError as exc:
            return JobResult.failed(f"input artifact missing from the artifact store: {exc}")
        outputs: dict[str, Path] = {}
        for art in data.get("outputArtifacts", []):
            target = workspace / "out" / art["name"]
            target.mkdir(parents=True)
            outputs[art["name"]] = target
        timeout_min = extra.get("timeoutMinutes")
        deadline = time.monotonic() + timeout_min * 60 if timeout_min else None
        ctx = JobContext(
            job_id=job.id,
            action_type=job.type_key,
            configuration=data.get("actionConfiguration", {}).get("configuration", {}),
            pipeline=PipelineContext(
                pipeline_name=context["pipelineName"],
                pipeline_arn=context.get("pipelineArn", ""),
                execution_id=context.get("pipelineExecutionId", ""),
                stage_name=context["stage"]["name"],
                action_name=context["action"]["name"],
                action_execution_id=context["action"]["actionExecutionId"],
                region=extra.get("region", ""),
                account_id=_account_of(context.get("pipelineArn", "")),
            ),
            workspace=workspace,
            inputs=inputs,
            outputs=outputs,
            output_files={k: tuple(v) for k, v in extra.get("outputFiles", {}).items()},
            log=writer.write,
            commands=tuple(extra.get("commands", [])),
            output_variable_names=tuple(extra.get("outputVariables", [])),
            environment=extra.get("environment", {}),
            continuation_token=data.get("continuationToken"),
            source_revision=extra.get("sourceRevision"),
            source_revision_type=extra.get("sourceRevisionType"),
            cancel=cancel,
            deadline_monotonic=deadline,
            data_dir=self.data_dir,
            raw_job_data=data,
        )
        try:
            result = provider.run(ctx)
        except Exception as exc:
            log.exception("provider %s failed on job %s", job.type_key, job.id)
            return JobResult.failed(
                f"the {job.type_key.provider} provider raised {type(exc).__name__}: {exc}"
            )
        if not result.succeeded or result.continuation_token or result.reported_externally:
            return result
        for art in data.get("outputArtifacts", []):
            key = art["location"]["s3Location"]["objectKey"]
            try:
                _upload(store, key, outputs[art["name"]])
            except (OSError, ValueError) as exc:
                return JobResult.failed(f"could not store output artifact '{art['name']}': {exc}")
        return result

    def _beat_interval(self) -> float:
        """A third of the server's lease when it told us (remote agents), else our setting."""
        lease = getattr(self.backend, "lease_s", None)
        return min(self.heartbeat_s, lease / 3) if lease else self.heartbeat_s

    def _heartbeat(
        self, job_id: str, cancel: threading.Event, stop: threading.Event, poke: threading.Event
    ) -> None:
        next_beat = time.monotonic() + self._beat_interval()
        while not stop.is_set():
            poke.wait(max(0.0, next_beat - time.monotonic()))
            if stop.is_set():
                return
            try:
                if poke.is_set():
                    poke.clear()
                    status = self.backend.status(job_id)
                else:
                    status = self.backend.heartbeat(job_id)
                    next_beat = time.monotonic() + self._beat_interval()
            except Exception:
                log.warning("heartbeat for job %s failed", job_id, exc_info=True)
                continue
            if status not in ("Dispatched", "InProgress"):
                cancel.set()  # abandoned, timed out or taken over: stop working on it
                return


class _ArtifactStream:
    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream

    def __enter__(self) -> BinaryIO:
        return self.stream

    def __exit__(self, *exc: object) -> None:
        self.stream.close()


def _open_artifact(store: ArtifactStore, art: dict[str, Any]) -> _ArtifactStream:
    return _ArtifactStream(store.open(art["location"]["s3Location"]["objectKey"]))


def _upload(store: ArtifactStore, key: str, directory: Path) -> None:
    with tempfile.TemporaryFile() as spool:
        zip_directory(directory, spool)
        spool.seek(0)
        store.put(key, spool)


LocalFinish = Callable[[str, JobResult], None]


def _account_of(pipeline_arn: str) -> str:
    """The account of ``arn:aws:codepipeline:REGION:ACCOUNT:NAME``; empty when it has none."""
    parsed = arns.parse(pipeline_arn)
    return parsed.account_id if parsed is not None else ""
