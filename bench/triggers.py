"""Triggers: how fast the event bus matches and delivers, in a real server.

Starts ``stageline server`` (SQLite in a temporary directory, or ``--database-url``) with
10 rules on the default bus, each matching its own ``detail-type`` with a pattern of the
usual shape and an HTTP target on a local sink. Then, per run:

* PutEvents in batches of 10 from a few client processes, every event matching one rule;
* matched per second: events put -> their deliveries written (rows in ``event_deliveries``,
  read from the server's SQLite file), against the target of 1,000 events/s;
* delivered per second: until the sink has received every one.

Medians over the runs. Then the push path:

* git push -> first action started: a pipeline whose CodeCommit source has
  ``PollForSourceChanges`` false (so stageline's managed rule starts it), a commit pushed
  with the real ``git push`` to the hosted repository; the time from ``git push``
  returning (and from it starting) to the source action's ``startTime``
  (ListActionExecutions), against the target of 200 ms. AWS's event path takes seconds to
  a minute.

No assertions: figures and ratios to read.

    .venv/bin/python bench/triggers.py [--events 5000] [--runs 3] [--clients 4]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.git import GitClient
from tests.support.pipelines import commands, declaration, source
from tests.support.server import ServerProcess, start_server

RULES = 10
BATCH = 10
TARGET_MATCHED_PER_S = 1000.0
TARGET_PUSH_MS = 200.0


class Sink:
    """A local HTTP target that counts what it receives."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real webhook receiver would

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                with sink._lock:
                    sink.count += 1
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _wait(probe: Callable[[], bool], timeout: float) -> float:
    """Seconds until ``probe`` holds (inf past ``timeout``), polling every 5 ms."""
    start = time.perf_counter()
    while not probe():
        if time.perf_counter() - start > timeout:
            return float("inf")
        time.sleep(0.005)
    return time.perf_counter() - start


def _rules(server: ServerProcess, sink: Sink, run_id: str) -> None:
    events = server.client("events")
    for n in range(RULES):
        pattern = {
            "source": [f"bench.{run_id}"],
            "detail-type": [f"step {n}"],
            "detail": {"size": [{"numeric": [">=", 0]}], "env": [{"anything-but": "test"}]},
        }
        events.put_rule(Name=f"bench-{run_id}-{n}", EventPattern=json.dumps(pattern))
        target = {"Id": "sink", "Arn": f"{sink.url}/{n}"}
        events.put_targets(Rule=f"bench-{run_id}-{n}", Targets=[target])


def delivery_counter(server: ServerProcess, database_url: str | None) -> Callable[[], int]:
    """Counts the server's rows in ``event_deliveries``, read straight from its database."""
    if database_url is None:
        path = server.data_dir / "stageline.db"

        def count_sqlite() -> int:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as conn:
                return int(conn.execute("SELECT count(*) FROM event_deliveries").fetchone()[0])

        return count_sqlite
    from sqlalchemy import create_engine, text

    from stageline.store.db import normalise_url

    engine = create_engine(normalise_url(database_url))

    def count_sql() -> int:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM event_deliveries")).scalar_one())

    return count_sql


def _put_share(url: str, run_id: str, client_no: int, count: int, ready: Any, go: Any) -> None:
    """One client process: ``count`` events, PutEvents in batches of 10."""
    import boto3
    from botocore.config import Config

    bus = boto3.client(
        "events",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 1}),
    )
    ready.wait(120)
    go.wait(120)
    for start in range(0, count, BATCH):
        entries = [
            {
                "Source": f"bench.{run_id}",
                "DetailType": f"step {(start + i) % RULES}",
                "Detail": json.dumps({"size": start + i, "env": "prod", "c": client_no}),
            }
            for i in range(min(BATCH, count - start))
        ]
        if bus.put_events(Entries=entries)["FailedEntryCount"]:
            raise SystemExit("PutEvents refused entries")


def measure_event_throughput(
    server: ServerProcess,
    *,
    events: int = 5000,
    clients: int = 4,
    run_id: str = "0",
    database_url: str | None = None,
) -> dict[str, float]:
    """One run: PutEvents from ``clients`` processes; returns events/s put, matched, delivered."""
    sink = Sink()
    deliveries = delivery_counter(server, database_url)
    try:
        _rules(server, sink, run_id)
        before = deliveries()
        per_client = events // clients
        total = per_client * clients

        spawn = multiprocessing.get_context("spawn")
        go = spawn.Event()
        ready = spawn.Barrier(clients + 1)
        procs = [
            spawn.Process(target=_put_share, args=(server.url, run_id, c, per_client, ready, go))
            for c in range(clients)
        ]
        for p in procs:
            p.start()
        ready.wait(120)  # every client has its boto3 client made: time the puts alone
        t0 = time.perf_counter()
        go.set()
        for p in procs:
            p.join()
        put_s = time.perf_counter() - t0
        matched_s = put_s + _wait(lambda: deliveries() - before >= total, timeout=300)
        delivered_s = put_s + _wait(lambda: sink.count >= total, timeout=300)
        # Time is measured from the first PutEvents; the waits ran one after the other, so
        # delivered_s is at least matched_s (both from t0).
        delivered_s = max(delivered_s, matched_s)
        return {
            "put": total / put_s,
            "matched": total / matched_s,
            "delivered": total / delivered_s,
        }
    finally:
        sink.close()


def measure_push_latency(
    server: ServerProcess, work: Path, *, pushes: int = 20
) -> list[tuple[float, float]]:
    """Per push, milliseconds from ``git push`` starting and from it returning to its
    execution's source action start (negative: the action started before git returned)."""
    git = GitClient(work / "home")
    repo = "bench-push"
    server.client("codecommit").create_repository(repositoryName=repo)
    url = f"{server.url}/git/{repo}"
    checkout = work / "checkout"
    git.push_tree(url, checkout, {"app.py": "print(0)\n"}, "first")
    cp = server.client("codepipeline")
    cp.create_pipeline(
        pipeline=declaration(
            "bench-push",
            ("Source", [source(repo, poll="false")]),
            ("Build", [commands("Build", ["true"])]),
        )
    )

    def source_starts() -> dict[str, float]:
        """Source action start times (epoch seconds) by execution id."""
        found = cp.list_action_executions(pipelineName="bench-push", filter={}, maxResults=100)[
            "actionExecutionDetails"
        ]
        return {
            d["pipelineExecutionId"]: d["startTime"].timestamp()
            for d in found
            if d["actionName"] == "Source"
        }

    def all_done() -> bool:
        summaries = cp.list_pipeline_executions(pipelineName="bench-push")[
            "pipelineExecutionSummaries"
        ]
        return bool(summaries) and all(s["status"] != "InProgress" for s in summaries)

    _wait(all_done, timeout=60)
    latencies: list[tuple[float, float]] = []
    for n in range(pushes):
        seen = set(source_starts())
        (checkout / "app.py").write_text(f"print({n + 1})\n")
        git.commit(checkout, f"change {n + 1}")
        began = time.time()
        git.ok("push", "--quiet", "origin", "HEAD:main", cwd=checkout)
        pushed = time.time()
        deadline = time.monotonic() + 30
        new: list[float] = []
        while not new and time.monotonic() < deadline:
            new = [at for ex, at in source_starts().items() if ex not in seen]
            time.sleep(0.005)
        if not new:
            raise SystemExit(f"push {n + 1} started no execution within 30 s")
        latencies.append(((min(new) - began) * 1000, (min(new) - pushed) * 1000))
        _wait(all_done, timeout=60)  # one at a time: each push is measured alone
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=5000, help="events per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4, help="processes calling PutEvents")
    parser.add_argument("--database-url", default=None, help="PostgreSQL instead of SQLite")
    parser.add_argument("--pushes", type=int, default=20, help="git pushes timed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        extra = ["--database-url", args.database_url] if args.database_url else []
        server = start_server(Path(tmp), "--event-retry-seconds", "0.1", *extra)
        try:
            # 1. event throughput: 10 rules, HTTP targets
            runs = [
                measure_event_throughput(
                    server,
                    events=args.events,
                    clients=args.clients,
                    run_id=str(n),
                    database_url=args.database_url,
                )
                for n in range(args.runs)
            ]
            median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(
                f"event throughput, {RULES} rules, {args.events} events x {args.runs} runs, "
                f"{args.clients} PutEvents clients (medians):"
            )
            print(f"  PutEvents accepted   {median['put']:8.0f} events/s")
            print(
                f"  matched              {median['matched']:8.0f} events/s  "
                f"({median['matched'] / TARGET_MATCHED_PER_S:.1f}x the target of "
                f"{TARGET_MATCHED_PER_S:.0f}/s)"
            )
            print(f"  delivered over HTTP  {median['delivered']:8.0f} events/s")

            # 2. git push -> the pipeline's first action started, through the managed rule
            latencies = measure_push_latency(server, Path(tmp), pushes=args.pushes)
            from_start = [a for a, _ in latencies]
            from_return = [b for _, b in latencies]
            print(f"git push -> source action started, {len(latencies)} pushes (medians):")
            print(
                f"  from git push returning  {statistics.median(from_return):6.0f} ms  "
                f"(p90 {_p90(from_return):.0f} ms; the target is under {TARGET_PUSH_MS:.0f} ms; "
                "below 0: the action started before git had returned)"
            )
            print(
                f"  from git push starting   {statistics.median(from_start):6.0f} ms  "
                f"(p90 {_p90(from_start):.0f} ms; the whole push included)"
            )
        finally:
            server.stop()


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]


if __name__ == "__main__":
    main()
