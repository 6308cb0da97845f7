"""Latency of GetPipeline and ListPipelines as the number of stored pipelines grows.

Starts a real `stageline server` (SQLite, fresh data dir), fills it to 10, 100
and 1,000 pipelines, and times requests over one keep-alive HTTP connection
(what any SDK does) and through boto3 (which adds its own signing and parsing
on the client side). Prints medians, p99s and the 1,000-vs-10 ratio.

    .venv/bin/python bench/api_latency.py [--requests 500]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.declarations import pipeline
from tests.support.server import start_server

HEADERS = {"Content-Type": "application/x-amz-json-1.1"}


def timed(fn, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp))
        try:
            http = httpx.Client(base_url=server.url, headers=HEADERS)
            boto = server.client("codepipeline")

            def call(op: str, body: dict) -> None:  # type: ignore[type-arg]
                r = http.post(
                    "/",
                    content=json.dumps(body),
                    headers={"X-Amz-Target": f"CodePipeline_20150709.{op}"},
                )
                assert r.status_code == 200, r.text

            stored = 0
            results: dict[int, dict[str, tuple[float, float]]] = {}
            for target in (10, 100, 1000):
                while stored < target:
                    call("CreatePipeline", {"pipeline": pipeline(f"bench-{stored:04d}")})
                    stored += 1
                name = f"bench-{target // 2:04d}"
                for _ in range(50):  # warm up
                    call("GetPipeline", {"name": name})
                results[target] = {
                    "GetPipeline (HTTP)": summary(
                        timed(lambda n=name: call("GetPipeline", {"name": n}), args.requests)
                    ),
                    "ListPipelines (HTTP, page of 10)": summary(
                        timed(lambda: call("ListPipelines", {"maxResults": 10}), args.requests)
                    ),
                    "ListPipelines (HTTP, page of 100)": summary(
                        timed(lambda: call("ListPipelines", {}), args.requests)
                    ),
                    "GetPipeline (boto3)": summary(
                        timed(lambda n=name: boto.get_pipeline(name=n), args.requests)
                    ),
                    "ListPipelines (boto3, page of 10)": summary(
                        timed(lambda: boto.list_pipelines(maxResults=10), args.requests)
                    ),
                }
            print(f"{'operation':34} {'pipelines':>9} {'median ms':>10} {'p99 ms':>8}")
            for target, rows in results.items():
                for op, (med, p99) in rows.items():
                    print(f"{op:34} {target:>9} {med:>10.2f} {p99:>8.2f}")
            print()
            for op in results[10]:
                ratio = results[1000][op][0] / results[10][op][0]
                print(f"{op:34} median at 1,000 / median at 10 = {ratio:.2f}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
