"""Orchestration cost: what stageline adds around actions that do nothing.

Runs the real engine, job service and agent in one process on SQLite in a
temporary directory, with no-op providers that record when they start and end:

* overhead per action: from one action's end to the next one's start (a chain
  of sequential actions), median and p99 — AWS adds about a second per action;
* end-to-end time of a no-op 3-stage pipeline, from StartPipelineExecution to
  Succeeded;
* throughput: actions per second with 50 executions running at once (PARALLEL);
* memory: resident set size after 100 and after 1,000 executions.

    .venv/bin/python bench/orchestration.py [--chain 50] [--runs 30]
"""

from __future__ import annotations

import argparse
import itertools
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stageline.agent.local import LocalBackend
from stageline.agent.registry import ProviderRegistry
from stageline.agent.worker import Agent
from stageline.api.app import build_services
from stageline.config import Settings
from stageline.definitions.catalog import ActionTypeKey
from stageline.providers.base import JobContext, JobResult
from tests.support.declarations import action, pipeline

SOURCE = ActionTypeKey(category="Source", owner="Custom", provider="Noop", version="1")
BUILD = ActionTypeKey(category="Build", owner="Custom", provider="Noop", version="1")


class Noop:
    def __init__(self, key: ActionTypeKey, marks: dict[str, tuple[float, float]]) -> None:
        self.key = key
        self.marks = marks

    def run(self, job: JobContext) -> JobResult:
        start = time.perf_counter()
        self.marks[job.pipeline.action_execution_id] = (start, time.perf_counter())
        return JobResult(succeeded=True, summary="nothing done")


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Bench:
    def __init__(self, data_dir: Path) -> None:
        self.services = build_services(Settings(data_dir=data_dir, extra={"agent": "off"}))
        rt = self.services.runtime
        self.rt = rt
        self.marks: dict[str, tuple[float, float]] = {}
        registry = ProviderRegistry()
        registry.add(Noop(SOURCE, self.marks))
        registry.add(Noop(BUILD, self.marks))
        self.agent = Agent(
            LocalBackend(rt.jobs, rt.operations, rt.artifacts, rt.logs),
            registry,
            work_root=data_dir / "work",
            concurrency=4,
            heartbeat_s=60,
        )
        rt.engine.job_listeners.append(self.agent.wake)
        self.changed = threading.Condition()
        rt.engine.listeners.append(self._changed)
        self.agent.start()
        for key, outs in ((SOURCE, 1), (BUILD, 0)):
            self.services.action_types.create_custom(
                {
                    "category": key.category,
                    "provider": key.provider,
                    "version": "1",
                    "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 5},
                    "outputArtifactDetails": {
                        "minimumCount": outs,
                        "maximumCount": outs if outs else 5,
                    },
                }
            )

    def _changed(self, _name: str) -> None:
        with self.changed:
            self.changed.notify_all()

    def wait(self, name: str, ids: list[str], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        pending = set(ids)
        while pending:
            for ex in list(pending):
                if self.rt.queries.execution(name, ex)["status"] not in ("InProgress", "Stopping"):
                    pending.discard(ex)
            if pending:
                with self.changed:
                    self.changed.wait(0.05)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(pending)} executions still running")

    def close(self) -> None:
        self.agent.stop()
        self.rt.logs.close()
        self.services.ctx.db.dispose()


def noop(name: str, key: ActionTypeKey, **extra: Any) -> dict[str, Any]:
    return action(name, key.category, key.provider, owner="Custom", **extra)


def source_stage() -> tuple[str, list[dict[str, Any]]]:
    return ("Source", [noop("Src", SOURCE, outputs=("S",))])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--chain", type=int, default=50, help="sequential actions in the overhead chain"
    )
    parser.add_argument("--runs", type=int, default=30, help="runs of the 3-stage pipeline")
    parser.add_argument("--memory-executions", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        b = Bench(Path(tmp))
        try:
            # 1. overhead between sequential actions
            chain = [noop(f"A{i:03d}", BUILD, run_order=i + 1) for i in range(args.chain)]
            b.services.pipelines.create(pipeline("chain", source_stage(), ("Chain", chain)), [])
            first = b.rt.queries.list_executions(
                "chain", max_results=1, next_token=None, succeeded_in_stage=None
            )[0][0]
            b.wait("chain", [first["pipelineExecutionId"]])
            ex = b.rt.operations.start("chain")
            b.wait("chain", [ex])
            details, _ = b.rt.queries.list_action_executions(
                "chain", execution_id=ex, max_results=1000, next_token=None
            )
            ordered = sorted(
                (d for d in details if d["actionName"].startswith("A")),
                key=lambda d: d["actionName"],
            )
            marks = [b.marks[d["actionExecutionId"]] for d in ordered]
            gaps = sorted((nxt[0] - prev[1]) * 1000 for prev, nxt in itertools.pairwise(marks))
            print(
                f"overhead per action ({len(gaps)} gaps): median {statistics.median(gaps):.2f} ms, "
                f"p99 {gaps[min(len(gaps) - 1, int(len(gaps) * 0.99))]:.2f} ms  (AWS: about 1000 ms)"
            )

            # 2. no-op 3-stage pipeline end to end
            decl = pipeline(
                "three",
                source_stage(),
                ("Build", [noop("B", BUILD)]),
                ("Deploy", [noop("D", BUILD)]),
            )
            b.services.pipelines.create(decl, [])
            b.wait(
                "three",
                [
                    b.rt.queries.list_executions(
                        "three", max_results=1, next_token=None, succeeded_in_stage=None
                    )[0][0]["pipelineExecutionId"]
                ],
            )
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                ex = b.rt.operations.start("three")
                b.wait("three", [ex])
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            print(
                f"no-op 3-stage pipeline end to end ({args.runs} runs): median {statistics.median(times):.1f} ms, "
                f"p99 {times[-1]:.1f} ms  (target < 500 ms)"
            )

            # 3. throughput with 50 executions at once
            decl = pipeline(
                "wide",
                source_stage(),
                ("Build", [noop("B1", BUILD), noop("B2", BUILD)]),
                ("Deploy", [noop("D", BUILD)]),
                pipelineType="V2",
                executionMode="PARALLEL",
            )
            b.services.pipelines.create(decl, [])
            t0 = time.perf_counter()
            ids = [b.rt.operations.start("wide") for _ in range(50)]
            b.wait("wide", ids)
            elapsed = time.perf_counter() - t0
            actions = 4 * len(ids)
            print(
                f"throughput, 50 executions at once: {actions} actions in {elapsed:.2f} s = "
                f"{actions / elapsed:.0f} actions/s  (target >= 100)"
            )

            # 4. memory over many executions
            rss = {}
            for n in range(1, args.memory_executions + 1):
                b.wait("three", [b.rt.operations.start("three")])
                if n in (100, args.memory_executions):
                    rss[n] = rss_mb()
            print(
                f"resident memory: {rss[100]:.1f} MB after 100 executions, "
                f"{rss[args.memory_executions]:.1f} MB after {args.memory_executions} "
                f"(ratio {rss[args.memory_executions] / rss[100]:.2f})"
            )
        finally:
            b.close()


if __name__ == "__main__":
    main()
