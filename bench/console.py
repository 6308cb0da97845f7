"""The console under load: rendering a big pipeline view, and live updates at 100 per second.

Starts a real `stageline server` (SQLite, fresh data dir), pushes a repository
and runs a 10-stage, 50-action pipeline (a source and 49 `Commands` actions,
parallel groups in every stage) to the end, then measures:

* server-side render time of its pipeline view, in process on the same
  database (what the server does for one page: the reads and the templates),
  median and p95 — the target is under 200 ms; and the same page over HTTP;
* live updates: one client makes 100 committed changes per second (transitions
  disabled with a numbered reason, each a real engine transaction) for a few
  seconds while several browsers-to-be hold the view's server-sent-event
  stream open. Printed: the changes per second achieved, frames per second
  each subscriber received, how stale a frame was when it arrived (the time
  since the newest change it shows was committed), how long after the last
  change every subscriber showed it, and the page and GetPipelineState
  latency during the storm against the same when idle.

    .venv/bin/python bench/console.py [--seconds 5] [--subscribers 5] [--rate 100]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stageline.api.app import build_services
from stageline.config import Settings
from stageline.console.calls import ApiCalls
from stageline.console.context import ConsoleContext
from stageline.console.live import LiveHub
from stageline.console.overview import build_overview
from stageline.console.pipelines import render_stages
from stageline.console.render import render
from tests.support.git import GitClient
from tests.support.pipelines import Watcher, commands, declaration, source, wait_until
from tests.support.server import start_server

API = {"Content-Type": "application/x-amz-json-1.1"}
NAME = "bench-console"
REASON = re.compile(r"bench (\d+)")


def big_pipeline(repo: str) -> dict[str, Any]:
    """Source + 9 stages of 5-6 `Commands` actions in two runOrder groups: 50 actions."""
    stages: list[tuple[str, list[dict[str, Any]]]] = [("Source", [source(repo)])]
    remaining = 49
    for s in range(1, 10):
        count = remaining // (10 - s)
        remaining -= count
        stages.append(
            (
                f"Stage{s}",
                [commands(f"Act{s}-{a}", ["true"], run_order=1 + a % 2) for a in range(count)],
            )
        )
    return declaration(NAME, *stages)


def quantiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def timed(fn: Any, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def call(http: httpx.Client, op: str, body: dict[str, Any]) -> dict[str, Any]:
    r = http.post(
        "/", content=json.dumps(body), headers={"X-Amz-Target": f"CodePipeline_20150709.{op}"}
    )
    assert r.status_code == 200, r.text
    return dict(r.json()) if r.content else {}


class Subscriber(threading.Thread):
    """Holds the view's event stream open and notes each frame's arrival and newest change."""

    def __init__(self, url: str, commits: dict[int, float]) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.commits = commits
        self.frames: list[tuple[float, int]] = []  # (arrival, newest change shown)
        self.stop = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        with httpx.stream("GET", self.url, timeout=None) as response:
            data: list[str] = []
            self.ready.set()
            for line in response.iter_lines():
                if self.stop.is_set():
                    return
                if line.startswith("data: "):
                    data.append(line[6:])
                elif line == "" and data:
                    shown = [int(n) for n in REASON.findall("\n".join(data))]
                    self.frames.append((time.perf_counter(), max(shown, default=-1)))
                    data = []


def row(label: str, figures: str) -> None:
    print(f"  {label:56} {figures}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--subscribers", type=int, default=5)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--renders", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "server"
        server = start_server(data_dir)
        try:
            http = httpx.Client(base_url=server.url, headers=API, timeout=30)
            server.client("codecommit").create_repository(repositoryName="bench-app")
            GitClient(Path(tmp) / "git").push_tree(
                f"{server.url}/git/bench-app", Path(tmp) / "work", {"app.py": "print(1)\n"}, "Add"
            )
            server.client("codepipeline").create_pipeline(pipeline=big_pipeline("bench-app"))
            watcher = Watcher(server.client("codepipeline"), NAME)
            execution = watcher.latest()
            wait_until(lambda: watcher.status(execution) == "Succeeded", timeout=300)

            # --- render time, in process on the same database ------------------------------
            services = build_services(Settings(data_dir=data_dir, extra={"agent": "off"}))
            ctx = ConsoleContext(services=services, api=ApiCalls(services), hub=LiveHub())
            ov = build_overview(ctx, NAME)
            actions = sum(len(g) for st in ov.stages for g in st.groups)
            assert len(ov.stages) == 10 and actions == 50, (len(ov.stages), actions)
            for _ in range(5):
                render_stages(ctx, NAME)
            fragment = timed(lambda: render_stages(ctx, NAME), args.renders)
            whole = timed(
                lambda: render("pipeline.html", title=NAME, ov=build_overview(ctx, NAME), since=""),
                args.renders,
            )
            reads = timed(lambda: build_overview(ctx, NAME), args.renders)
            size = len(render_stages(ctx, NAME).encode())
            browser = httpx.Client(base_url=server.url, timeout=30)
            page_url = f"/console/pipelines/{NAME}"
            idle_page = timed(lambda: browser.get(page_url).raise_for_status(), args.renders)
            idle_state = timed(lambda: call(http, "GetPipelineState", {"name": NAME}), args.renders)
            print(
                f"pipeline view of {len(ov.stages)} stages, {actions} actions ({size:,} bytes of HTML)"
            )
            for label, samples in (
                ("server-side render, whole page (reads + templates)", whole),
                ("  of which the reads (pipeline, state, executions)", reads),
                ("server-side render, the live fragment", fragment),
                ("GET the page over HTTP", idle_page),
            ):
                median, p95 = quantiles(samples)
                row(label, f"median {median:7.1f} ms   p95 {p95:7.1f} ms")
            print(f"  target < 200 ms: ratio {statistics.median(whole) / 200:.2f} of the target")

            # --- live updates at `rate` per second -----------------------------------------
            commits: dict[int, float] = {}
            subscribers = [
                Subscriber(f"{server.url}/console/pipelines/{NAME}/events", commits)
                for _ in range(args.subscribers)
            ]
            for s in subscribers:
                s.start()
                s.ready.wait(10)
            wait_until(lambda: all(s.frames for s in subscribers), timeout=30)
            stop = threading.Event()
            busy_page: list[float] = []
            busy_state: list[float] = []

            def probe() -> None:
                probe_http = httpx.Client(base_url=server.url, headers=API, timeout=30)
                while not stop.is_set():
                    busy_page.extend(timed(lambda: browser.get(page_url).raise_for_status(), 1))
                    busy_state.extend(
                        timed(lambda: call(probe_http, "GetPipelineState", {"name": NAME}), 1)
                    )
                    time.sleep(0.05)

            prober = threading.Thread(target=probe, daemon=True)
            prober.start()
            interval = 1 / args.rate
            total = int(args.seconds * args.rate)
            begin = time.perf_counter()
            for i in range(total):
                slot = begin + i * interval
                pause = slot - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                call(
                    http,
                    "DisableStageTransition",
                    {
                        "pipelineName": NAME,
                        "stageName": f"Stage{1 + i % 9}",
                        "transitionType": "Inbound",
                        "reason": f"bench {i}",
                    },
                )
                commits[i] = time.perf_counter()
            elapsed = time.perf_counter() - begin
            last = total - 1
            wait_until(
                lambda: all(s.frames and s.frames[-1][1] == last for s in subscribers), timeout=30
            )
            settle = [
                (next(t for t, shown in s.frames if shown == last) - commits[last]) * 1000
                for s in subscribers
            ]
            stop.set()
            prober.join()
            for s in subscribers:
                s.stop.set()
            lags = [
                (arrived - commits[shown]) * 1000
                for s in subscribers
                for arrived, shown in s.frames
                if shown in commits
            ]
            rates = [
                sum(1 for t, shown in s.frames if begin <= t and shown >= 0) / elapsed
                for s in subscribers
            ]
            print(
                f"live updates: {total} committed changes in {elapsed:.2f} s "
                f"({total / elapsed:.0f}/s), {args.subscribers} subscribers"
            )
            lag_median, lag_p95 = quantiles(lags)
            row("frames per subscriber per second", f"median {statistics.median(rates):7.1f}")
            row(
                "frame staleness (arrival - newest change's commit)",
                f"median {lag_median:7.1f} ms   p95 {lag_p95:7.1f} ms",
            )
            row(
                "last change on every subscriber, after its commit",
                f"median {statistics.median(settle):7.1f} ms   max {max(settle):7.1f} ms",
            )
            for label, idle, busy in (
                ("GET the page during the storm", idle_page, busy_page),
                ("GetPipelineState during the storm", idle_state, busy_state),
            ):
                ratio = statistics.median(busy) / statistics.median(idle)
                row(
                    label,
                    f"median {statistics.median(busy):7.1f} ms   "
                    f"idle {statistics.median(idle):7.1f} ms   ratio {ratio:.2f}",
                )
            services.runtime.stop()
            services.ctx.db.dispose()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
