"""The job-worker API under load: how fast a waiting worker gets a job, and how many
jobs concurrent workers can claim, without any job handed out twice.

Starts real `stageline server` processes and talks to them over HTTP, as job workers do:

* pickup latency: one worker long-polls PollForJobs (``X-Stageline-Wait-Seconds``)
  while jobs are queued one at a time by StartPipelineExecution of a pipeline whose
  first action is a custom Source type; the time from just before that call to the
  poll returning the job, median and p99 (target: median under 20 ms);
* claims per second: ``--queued`` jobs of one custom type are queued up front (a
  PARALLEL pipeline, one StartPipelineExecution per job), then ``--pollers``
  processes drain them with PollForJobs (maxBatchSize 1). Every job id handed out
  is collected and checked for duplicates across all pollers. Runs on SQLite and,
  when ``--database-url`` or STAGELINE_TEST_POSTGRES_URL names a PostgreSQL server,
  on PostgreSQL too (in a fresh database created there and dropped afterwards).

    .venv/bin/python bench/jobs.py [--jobs 50] [--queued 3000] [--pollers 8]
                                   [--database-url postgresql://USER@HOST:PORT/DB]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.declarations import action, approval, pipeline
from tests.support.server import ServerProcess, start_server

SOURCE = {"category": "Source", "owner": "Custom", "provider": "BenchSource", "version": "1"}
HEADERS = {"Content-Type": "application/x-amz-json-1.1"}


def call(http: httpx.Client, op: str, body: dict[str, Any], **headers: str) -> Any:
    r = http.post(
        "/",
        content=json.dumps(body),
        headers={"X-Amz-Target": f"CodePipeline_20150709.{op}", **headers},
    )
    assert r.status_code == 200, f"{op}: {r.status_code} {r.text}"
    return r.json() if r.content else {}


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def setup(http: httpx.Client, name: str) -> None:
    """A custom Source type and a PARALLEL pipeline whose every execution queues one job."""
    call(
        http,
        "CreateCustomActionType",
        {
            "category": "Source",
            "provider": SOURCE["provider"],
            "version": "1",
            "configurationProperties": [
                {"name": "Feed", "required": True, "key": True, "secret": False, "queryable": True}
            ],
            "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 0},
            "outputArtifactDetails": {"minimumCount": 1, "maximumCount": 1},
        },
    )
    source = action(
        "Source", "Source", SOURCE["provider"], owner="Custom", config={"Feed": name},
        outputs=("Src",),
    )  # fmt: skip
    decl = pipeline(
        name,
        ("Source", [source]),
        ("Gate", [approval()]),
        pipelineType="V2",
        executionMode="PARALLEL",
    )
    call(http, "CreatePipeline", {"pipeline": decl})  # queues a first job


# --- (a) pickup latency -------------------------------------------------------------------


def pickup_latency(server: ServerProcess, jobs: int) -> tuple[list[float], list[float]]:
    """Pickup latencies, and how long the StartPipelineExecution calls themselves took."""
    name = "pickup"
    starter = httpx.Client(base_url=server.url, headers=HEADERS, timeout=30)
    worker = httpx.Client(base_url=server.url, headers=HEADERS, timeout=30)
    setup(starter, name)
    poll = {"actionTypeId": SOURCE, "maxBatchSize": 1}
    long_poll = {"X-Stageline-Wait-Seconds": "10", "X-Stageline-Worker": "bench-pickup"}

    def complete(job: dict[str, Any]) -> None:
        call(worker, "AcknowledgeJob", {"jobId": job["id"], "nonce": job["nonce"]})
        call(worker, "PutJobSuccessResult", {"jobId": job["id"]})

    for job in call(worker, "PollForJobs", poll)["jobs"]:  # CreatePipeline's own job
        complete(job)

    polling = threading.Event()
    got: list[float] = []
    handed = threading.Event()

    def run_worker() -> None:
        for _ in range(jobs):
            polling.set()
            answer = call(worker, "PollForJobs", poll, **long_poll)["jobs"]
            got.append(time.perf_counter())
            assert len(answer) == 1, answer
            handed.set()
            complete(answer[0])

    thread = threading.Thread(target=run_worker)
    thread.start()
    latencies, starts = [], []
    for _ in range(jobs):
        polling.wait()
        polling.clear()
        time.sleep(0.05)  # the poll is waiting at the server, with nothing queued
        t0 = time.perf_counter()
        call(starter, "StartPipelineExecution", {"name": name})
        starts.append((time.perf_counter() - t0) * 1000)
        handed.wait(15)
        handed.clear()
        latencies.append((got[-1] - t0) * 1000)
    thread.join()
    starter.close()
    worker.close()
    return latencies, starts


# --- (b) claims per second ----------------------------------------------------------------


def queue_jobs(url: str, name: str, count: int) -> float:
    local = threading.local()

    def start(_: int) -> None:
        if not hasattr(local, "http"):
            local.http = httpx.Client(base_url=url, headers=HEADERS, timeout=60)
        call(local.http, "StartPipelineExecution", {"name": name})

    t0 = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(start, range(count)))
    return time.perf_counter() - t0


def drain(url: str, start_at: float) -> tuple[list[str], list[float], float]:
    """One poller process: claim jobs one at a time until the queue stays empty."""
    http = httpx.Client(base_url=url, headers=HEADERS, timeout=60)
    poll = {"actionTypeId": SOURCE, "maxBatchSize": 1}
    ids: list[str] = []
    times: list[float] = []
    empty = 0
    time.sleep(max(0.0, start_at - time.time()))
    while empty < 3:  # PostgreSQL's SKIP LOCKED may answer empty while others hold the rest
        t0 = time.perf_counter()
        jobs = call(http, "PollForJobs", poll, **{"X-Stageline-Worker": f"bench-{os.getpid()}"})
        times.append((time.perf_counter() - t0) * 1000)
        empty = 0 if jobs["jobs"] else empty + 1
        ids.extend(j["id"] for j in jobs["jobs"])
    finished = time.time()
    http.close()
    return ids, times, finished


def claims(server: ServerProcess, queued: int, pollers: int, label: str) -> float:
    name = "claims"
    http = httpx.Client(base_url=server.url, headers=HEADERS, timeout=60)
    setup(http, name)
    took = queue_jobs(server.url, name, queued - 1)
    print(
        f"  {label}: queued {queued} jobs in {took:.1f} s "
        f"({(queued - 1) / took:.0f} StartPipelineExecution/s)"
    )
    start_at = time.time() + 1.5
    with ProcessPoolExecutor(pollers, mp_context=get_context("spawn")) as pool:
        results = list(pool.map(drain, [server.url] * pollers, [start_at] * pollers))
    elapsed = max(r[2] for r in results) - start_at
    handed = [job_id for r in results for job_id in r[0]]
    polls = [t for r in results for t in r[1]]
    left = call(http, "PollForJobs", {"actionTypeId": SOURCE, "maxBatchSize": 100})["jobs"]
    http.close()
    distinct = len(set(handed))
    med, p99 = summary(polls)
    rate = len(handed) / elapsed
    print(
        f"  {label}: {pollers} pollers claimed {len(handed)} jobs in {elapsed:.2f} s = "
        f"{rate:.0f} claims/s; PollForJobs median {med:.2f} ms, p99 {p99:.2f} ms"
    )
    per_poller = sorted(len(r[0]) for r in results)
    verdict = "OK, none handed out twice" if distinct == len(handed) else "FAILED: DUPLICATES"
    print(
        f"  {label}: duplicate check {verdict} ({len(handed)} handed out, {distinct} distinct, "
        f"{queued} queued, {len(left)} left in the queue; per poller {per_poller[0]}-{per_poller[-1]})"
    )
    return rate


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    from sqlalchemy import create_engine, text

    name = f"bench_jobs_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        admin_url.replace("postgresql://", "postgresql+psycopg://", 1),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=50, help="jobs timed for pickup latency")
    parser.add_argument("--queued", type=int, default=3000, help="jobs queued before claiming")
    parser.add_argument("--pollers", type=int, default=8, help="concurrent poller processes")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("STAGELINE_TEST_POSTGRES_URL"),
        help="a PostgreSQL server to run the claims on as well [STAGELINE_TEST_POSTGRES_URL]",
    )
    args = parser.parse_args()
    # Long leases: a claimed job must not come back to the queue while the bench runs.
    lease = ("--job-lease-seconds", "3600")
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "pickup")
        try:
            latencies, starts = pickup_latency(server, args.jobs)
        finally:
            server.stop()
        med, p99 = summary(latencies)
        start_med, _ = summary(starts)
        print(
            f"pickup latency, long-polling worker ({args.jobs} jobs): median {med:.2f} ms, "
            f"p99 {p99:.2f} ms  (target: median < 20 ms; a worker polling every second "
            "waits 500 ms on average)"
        )
        print(
            f"  the StartPipelineExecution call that queues the job takes median {start_med:.2f} ms "
            f"of it (pickup / call = {med / start_med:.2f})"
        )

        print(f"claims per second, {args.pollers} poller processes, maxBatchSize 1:")
        server = start_server(Path(tmp) / "sqlite", *lease)
        try:
            sqlite_rate = claims(server, args.queued, args.pollers, "SQLite")
        finally:
            server.stop()
        if not args.database_url:
            print("  PostgreSQL: skipped (give --database-url or STAGELINE_TEST_POSTGRES_URL)")
            return
        with postgres_database(args.database_url) as url:
            server = start_server(Path(tmp) / "postgres", "--database-url", url, *lease)
            try:
                pg_rate = claims(server, args.queued, args.pollers, "PostgreSQL")
            finally:
                server.stop()
        print(f"  PostgreSQL / SQLite claims per second = {pg_rate / sqlite_rate:.2f}")


if __name__ == "__main__":
    main()
