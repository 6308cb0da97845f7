"""The buildspec runner's cost: what run_build adds around a build's commands, and its logs.

Runs the library directly (:func:`stageline.builds.run_build`), no server, each
build logging into a :class:`~stageline.logs.FileLogStore` in a temporary
directory the way a real build does:

* overhead per build: for a few buildspecs (one trivial command; 20 short
  commands over the 4 phases; a 0.5 s sleep; about 0.5 s of shell CPU), the
  median wall time of run_build (log writer opened and closed included) against
  ``bash -c`` running the same commands (``set -e``, one per line), as a share of the
  commands' own time, against the target "under 50 ms per build plus 10% of the
  commands' time". The buildspecs use ``env.shell: bash`` so both sides run bash;
* log throughput: a build printing 1,000,000 lines (``seq``), through run_build
  into the store with its default cap (50 MiB): lines/s and MB/s, the growth of
  the process's resident set while it runs and tracemalloc's peak (measured in a
  second run: tracing slows Python down), and whether the stored log is complete
  or was capped with the marker, read back through the store. A second build
  prints 1,000,000 lines of 100 characters (about 100 MB), past the cap.

    .venv/bin/python bench/build.py [--quick] [--runs 20] [--lines 1000000]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stageline.builds import BuildInfo, BuildResult, parse_buildspec, run_build
from stageline.logs import DEFAULT_MAX_BYTES, FileLogStore
from stageline.logs.model import MAX_PAGE_LINES, TRUNCATION_MARKER
from stageline.runner.shell import build_clean_env

TARGET_FIXED_MS = 50.0
TARGET_SHARE = 0.10
PHASES = ("install", "pre_build", "build", "post_build")
_ids = itertools.count(1)


@dataclass(frozen=True)
class Case:
    """A buildspec to time: its commands by phase, and how many builds of it to run."""

    name: str
    #: Commands per phase, in PHASES order (empty phases are left out of the buildspec).
    phases: tuple[tuple[str, ...], ...]
    runs: int

    @property
    def commands(self) -> list[str]:
        return [c for phase in self.phases for c in phase]

    def buildspec(self) -> str:
        lines = ["version: 0.2", "env:", "  shell: bash", "phases:"]
        for name, commands in zip(PHASES, self.phases, strict=True):
            if commands:
                lines += [f"  {name}:", "    commands:"]
                lines += [f"      - {_yaml_quote(c)}" for c in commands]
        return "\n".join(lines) + "\n"


def _yaml_quote(command: str) -> str:
    return "'" + command.replace("'", "''") + "'"


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def rss_peak() -> Iterator[list[float]]:
    """Samples the resident set every 5 ms; yields [baseline, peak] (MB), filled in at exit."""
    out = [rss_mb(), 0.0]
    peak = out[0]
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.005):
            peak = max(peak, rss_mb())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield out
    finally:
        done.set()
        thread.join()
        out[1] = max(peak, rss_mb())


class Runner:
    """Runs buildspecs with run_build, logging into one FileLogStore, in one scratch dir."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store = FileLogStore(root / "logs")
        self.source = root / "src"
        self.source.mkdir()
        self.env = build_clean_env()

    def build(self, spec_text: str) -> tuple[float, BuildResult, str]:
        """One build: (wall seconds, result, log id)."""
        spec = parse_buildspec(spec_text)
        log_id = f"bench-{next(_ids)}"
        t0 = time.perf_counter()
        writer = self.store.writer(log_id)
        try:
            result = run_build(
                spec,
                info=BuildInfo(project="bench"),
                workspace=self.root / "ws",
                primary_source=self.source,
                env={"PATH": self.env["PATH"]},
                log=writer.write,
            )
        finally:
            writer.close()
        took = time.perf_counter() - t0
        if not result.succeeded:
            raise SystemExit(f"bench build failed: {result.failure}")
        return took, result, log_id

    def direct(self, commands: list[str]) -> tuple[float, int]:
        """The same commands in one ``bash -c``: (wall seconds, bytes of output)."""
        t0 = time.perf_counter()
        proc = subprocess.run(
            ["bash", "-c", "\n".join(["set -e", *commands])],
            cwd=self.source,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            check=True,
        )
        return time.perf_counter() - t0, len(proc.stdout)


def paired_ms(runner: Runner, case: Case) -> tuple[list[float], list[float]]:
    """``case.runs`` timings (ms) of ``bash -c`` and of run_build, taken in turns so that
    other load on the machine weighs on both alike; one warm-up run of each first."""
    text = case.buildspec()
    runner.direct(case.commands)
    runner.build(text)
    direct: list[float] = []
    built: list[float] = []
    for _ in range(case.runs):
        direct.append(runner.direct(case.commands)[0] * 1000)
        built.append(runner.build(text)[0] * 1000)
    return direct, built


def cpu_loop(target_s: float, runner: Runner) -> str:
    """A bash arithmetic loop calibrated to take about ``target_s`` of CPU here."""
    probe = 200_000
    took, _ = runner.direct([f"i=0; while [ $i -lt {probe} ]; do i=$((i+1)); done"])
    count = max(1000, int(probe * target_s / took))
    return f"i=0; while [ $i -lt {count} ]; do i=$((i+1)); done"


def overhead(runner: Runner, runs: int) -> None:
    short = [
        'echo "step $((n=${n:-0}+1))"',
        "cd . && test -d .",
        "export STEP_${n}=done",
        "printf '%s\\n' \"$CODEBUILD_BUILD_ID\" > /dev/null",
        "true",
    ]
    slow_runs = max(3, runs // 4)
    cases = [
        Case("1 trivial command", ((), (), ("true",), ()), runs),
        Case("20 short commands, 4 phases", (tuple(short),) * 4, runs),
        Case("sleep 0.5", ((), (), ("sleep 0.5",), ()), slow_runs),
        Case("~0.5 s of CPU (bash loop)", ((), (), (cpu_loop(0.5, runner),), ()), slow_runs),
    ]
    print(
        f"overhead per build: run_build (bash, FileLogStore log) vs bash -c of the same "
        f"commands; target < {TARGET_FIXED_MS:.0f} ms + {TARGET_SHARE:.0%} of the commands' time"
    )
    print(
        "  (overhead = median run_build - median bash -c; share = overhead / bash -c; "
        "fastest = quickest run_build)"
    )
    print(
        f"  {'case':<28} {'runs':>4} {'bash -c':>9} {'run_build':>9} {'fastest':>9} "
        f"{'overhead':>9} {'share':>6} {'target':>9}  met"
    )
    for case in cases:
        direct_ms, built_ms = paired_ms(runner, case)
        direct, built, fastest = (
            statistics.median(direct_ms),
            statistics.median(built_ms),
            min(built_ms),
        )
        extra = built - direct
        target = TARGET_FIXED_MS + TARGET_SHARE * direct
        met = "yes" if extra < target else "NO"
        print(
            f"  {case.name:<28} {case.runs:>4} {direct:>7.1f}ms {built:>7.1f}ms "
            f"{fastest:>7.1f}ms {extra:>7.1f}ms {extra / direct:>6.0%} {target:>7.1f}ms  {met}"
        )


def read_back(store: FileLogStore, log_id: str) -> tuple[int, int, str | None, str | None, bool]:
    """(lines, command lines, first and last command line, truncation marker seen)."""
    prefix = TRUNCATION_MARKER.split("{", 1)[0]
    total = commands = 0
    first = last = None
    capped = False
    offset = 0
    while True:
        page = store.read(log_id, offset=offset, limit=MAX_PAGE_LINES)
        for line in page.lines:
            total += 1
            if line.text.startswith(prefix):
                capped = True
            elif not line.text.startswith("[Container] "):
                commands += 1
                first = line.text if first is None else first
                last = line.text
        offset = page.next_offset
        if page.complete or not page.lines:
            return total, commands, first, last, capped


def printing(lines: int, width: int | None) -> tuple[str, str]:
    """A command printing ``lines`` lines (``seq``, or ``width`` characters each), its label."""
    if width is None:
        return f"seq {lines}", f"seq {lines}"
    return f"yes \"$(printf '%0{width}d' 0)\" | head -n {lines}", f"{lines} lines of {width} chars"


def throughput(runner: Runner, lines: int, width: int | None, traced_lines: int) -> None:
    command, label = printing(lines, width)
    spec = Case(label, ((), (), (command,), ()), 1).buildspec()
    runner.build(Case("warm", ((), (), ("true",), ()), 1).buildspec())

    direct_s, out_bytes = runner.direct([command])
    with rss_peak() as rss:
        took, _, log_id = runner.build(spec)
    # A run of its own: under tracemalloc every allocation costs several times more.
    traced_spec = Case("", ((), (), (printing(traced_lines, width)[0],), ()), 1).buildspec()
    tracemalloc.start()
    tracemalloc.reset_peak()
    traced_s, _, _ = runner.build(traced_spec)
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    stored = (runner.store.root / f"{log_id}.log").stat().st_size
    t0 = time.perf_counter()
    total, printed, first, last, capped = read_back(runner.store, log_id)
    read_s = time.perf_counter() - t0
    print(
        f"log throughput: {label} through run_build into FileLogStore (cap {_mib(DEFAULT_MAX_BYTES)})"
    )
    print(
        f"  {lines:,} lines ({out_bytes / 1e6:.1f} MB) in {took:.2f} s = "
        f"{lines / took:,.0f} lines/s, {out_bytes / 1e6 / took:.1f} MB/s of output; "
        f"stored {stored / 1e6:.1f} MB ({stored / 1e6 / took:.1f} MB/s)"
    )
    print(
        f"  the same command into a pipe, bash -c: {direct_s:.2f} s "
        f"(run_build / bash -c = {took / direct_s:.1f}x)"
    )
    print(
        f"  memory: resident set {rss[0]:.0f} MB before, peak {rss[1]:.0f} MB during "
        f"(+{rss[1] - rss[0]:.1f} MB for {out_bytes / 2**20:.0f} MiB of output); "
        f"tracemalloc peak {traced_peak:.2f} MiB (a run of {traced_lines:,} lines under "
        f"tracing: {traced_s:.1f} s)"
    )
    if capped:
        verdict = (
            f"CAPPED with the marker after {printed:,} of {lines:,} lines "
            f"({lines - printed:,} dropped)"
        )
    elif printed == lines and (width is not None or (first, last) == ("1", str(lines))):
        verdict = f"COMPLETE: all {lines:,} lines, in order"
    else:
        verdict = f"INCOMPLETE WITHOUT MARKER: {printed:,} of {lines:,} lines"
    print(
        f"  stored log: {verdict}; {total:,} records in all, read back in {read_s:.2f} s "
        f"({total / read_s:,.0f} lines/s)"
    )


def _mib(n: int) -> str:
    return f"{n / 2**20:g} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer repetitions (5 per case), tracemalloc on a tenth of the lines",
    )
    parser.add_argument("--runs", type=int, default=20, help="builds timed per short case")
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines of the log builds")
    args = parser.parse_args()
    runs = 5 if args.quick else args.runs
    with tempfile.TemporaryDirectory() as tmp:
        runner = Runner(Path(tmp))
        try:
            overhead(runner, runs)
            traced = args.lines // 10 if args.quick else args.lines
            for width in (None, 100):
                print()
                throughput(runner, args.lines, width, traced)
        finally:
            runner.store.close()


if __name__ == "__main__":
    main()
