"""The file log store: lines with times, readable while written, capped, masked, safe ids."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stageline.logs import (
    FileLogStore,
    InvalidLogIdError,
    LogLine,
    LogNotFoundError,
    LogStore,
    LogWriter,
)


class Ticks:
    """A clock that advances one millisecond per call."""

    def __init__(self, start: int = 1_700_000_000_000) -> None:
        self.now = start

    def __call__(self) -> int:
        self.now += 1
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FileLogStore]:
    s = FileLogStore(tmp_path / "logs", clock=Ticks())
    yield s
    s.close()


def read_all(store: FileLogStore, log_id: str, limit: int = 1000) -> list[LogLine]:
    lines: list[LogLine] = []
    offset = 0
    while True:
        page = store.read(log_id, offset=offset, limit=limit)
        lines += page.lines
        if not page.lines:
            return lines
        offset = page.next_offset


def test_file_store_fits_the_protocols(tmp_path: Path) -> None:
    # Checked by mypy: the file store is usable wherever a LogStore is expected.
    store: LogStore = FileLogStore(tmp_path)
    writer: LogWriter = store.writer("typed")
    writer.write("x")
    writer.close()
    assert writer.dropped_lines == 0


def test_lines_come_back_numbered_with_their_times(store: FileLogStore) -> None:
    with store.writer("build-1") as writer:
        writer.write("first")
        writer.write("")
        writer.write("  indented third")
    page = store.read("build-1")
    assert page.lines == [
        LogLine(ts_ms=1_700_000_000_001, text="first", number=1),
        LogLine(ts_ms=1_700_000_000_002, text="", number=2),
        LogLine(ts_ms=1_700_000_000_003, text="  indented third", number=3),
    ]
    assert page.complete


def test_pages_continue_from_next_offset(store: FileLogStore) -> None:
    with store.writer("paged") as writer:
        for i in range(5):
            writer.write(f"line {i}")
    first = store.read("paged", limit=2)
    assert [line.text for line in first.lines] == ["line 0", "line 1"]
    assert not first.complete
    second = store.read("paged", offset=first.next_offset, limit=2)
    assert [line.number for line in second.lines] == [3, 4]
    last = store.read("paged", offset=second.next_offset, limit=2)
    assert [line.text for line in last.lines] == ["line 4"]
    assert last.complete
    again = store.read("paged", offset=last.next_offset)
    assert again.lines == [] and again.complete and again.next_offset == last.next_offset


def test_complete_only_after_close(store: FileLogStore, tmp_path: Path) -> None:
    writer = store.writer("open")
    writer.write("x")
    writer.flush()
    page = store.read("open")
    assert [line.text for line in page.lines] == ["x"] and not page.complete
    writer.close()
    writer.close()  # idempotent
    assert store.read("open").complete
    assert (tmp_path / "logs" / "open.done").exists()


def test_readers_see_lines_soon_without_flush_or_close(store: FileLogStore) -> None:
    writer = store.writer("quiet")
    writer.write("one line, then silence")
    deadline = time.monotonic() + 5
    while not store.read("quiet").lines:
        assert time.monotonic() < deadline, "the line never reached the file"
        time.sleep(0.01)
    writer.close()


def test_follow_yields_lines_while_another_thread_writes(store: FileLogStore) -> None:
    writer = store.writer("live")
    total = 500

    def produce() -> None:
        for i in range(total):
            writer.write(f"n={i}")
            if i % 100 == 0:
                time.sleep(0.05)
        writer.close()

    stop = threading.Event()
    safety = threading.Timer(20, stop.set)
    safety.start()
    producer = threading.Thread(target=produce)
    producer.start()
    try:
        seen = [line.text for line in store.follow("live", poll_s=0.01, stop=stop)]
    finally:
        safety.cancel()
        producer.join()
    assert seen == [f"n={i}" for i in range(total)]


def test_follow_waits_for_a_log_that_has_not_started(store: FileLogStore) -> None:
    def produce() -> None:
        time.sleep(0.1)
        with store.writer("later") as writer:
            writer.write("hello")

    producer = threading.Thread(target=produce)
    producer.start()
    stop = threading.Event()
    safety = threading.Timer(10, stop.set)
    safety.start()
    try:
        assert [line.text for line in store.follow("later", poll_s=0.01, stop=stop)] == ["hello"]
    finally:
        safety.cancel()
        producer.join()


def test_follow_ends_when_stopped(store: FileLogStore) -> None:
    writer = store.writer("endless")
    writer.write("a")
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    assert [line.text for line in store.follow("endless", poll_s=0.01, stop=stop)] == ["a"]
    writer.close()


def test_cap_writes_one_marker_and_counts_what_it_drops(tmp_path: Path) -> None:
    store = FileLogStore(tmp_path, max_bytes=2048, clock=Ticks())
    with store.writer("big") as writer:
        for i in range(1000):
            writer.write(f"{i:04d} " + "x" * 45)
    lines = read_all(store, "big")
    assert lines[-1].text == (
        "[stageline] log truncated: more than 2048 bytes; further output discarded"
    )
    assert sum(1 for line in lines if "truncated" in line.text) == 1
    kept = len(lines) - 1
    assert [line.text[:4] for line in lines[:-1]] == [f"{i:04d}" for i in range(kept)]
    assert writer.dropped_lines == 1000 - kept
    assert (tmp_path / "big.log").stat().st_size <= 2048 + 200


def test_secrets_are_masked_before_storing(store: FileLogStore, tmp_path: Path) -> None:
    secrets = ["hunter22", "hunter2233", "abc", "-----BEGIN KEY-----\nc2VjcmV0LWtleQ==\n"]
    with store.writer("masked", secrets=secrets) as writer:
        writer.write("password=hunter22 and again hunter22!")
        writer.write("longer one hunter2233")
        writer.write("abc is too short to be a secret")
        writer.write("c2VjcmV0LWtleQ==")
    texts = [line.text for line in store.read("masked").lines]
    assert texts == [
        "password=*** and again ***!",
        "longer one ***",
        "abc is too short to be a secret",
        "***",
    ]
    assert b"hunter22" not in (tmp_path / "logs" / "masked.log").read_bytes()


CONTROL_LINES = [
    "progress 10%\rprogress 100%",
    "\x1b[31mred\x1b[0m",
    "back\\slash and \\n literally",
    "tab\there",
    "embedded\nnewline",
    "nul\x00byte and del\x7f",
    "unicode é ✓ \u2028 separator",
]


def test_control_characters_round_trip_one_record_per_line(
    store: FileLogStore, tmp_path: Path
) -> None:
    with store.writer("ctl") as writer:
        for line in CONTROL_LINES:
            writer.write(line)
    assert [line.text for line in store.read("ctl").lines] == CONTROL_LINES
    raw = (tmp_path / "logs" / "ctl.log").read_bytes()
    assert raw.count(b"\n") == len(CONTROL_LINES)
    assert b"\r" not in raw and b"\x1b" not in raw and b"\x00" not in raw


@pytest.mark.parametrize(
    "log_id",
    ["", ".", "..", "../etc/passwd", "a/b", "a\\b", "x" * 201, "a b", "é", "a\x00b", "/abs"],
)
def test_hostile_log_ids_are_refused(store: FileLogStore, log_id: str) -> None:
    with pytest.raises(InvalidLogIdError):
        store.writer(log_id)
    with pytest.raises(InvalidLogIdError):
        store.read(log_id)
    with pytest.raises(InvalidLogIdError):
        store.exists(log_id)
    with pytest.raises(InvalidLogIdError):
        next(store.follow(log_id))


@pytest.mark.parametrize("log_id", ["x" * 200, "a.b-c_D9", "...", ".hidden"])
def test_unusual_but_valid_ids_work(store: FileLogStore, log_id: str) -> None:
    with store.writer(log_id) as writer:
        writer.write("ok")
    assert store.exists(log_id)
    assert [line.text for line in store.read(log_id).lines] == ["ok"]


def test_unknown_log(store: FileLogStore) -> None:
    assert not store.exists("nope")
    with pytest.raises(LogNotFoundError):
        store.read("nope")


def test_one_writer_per_log_and_none_after_close(store: FileLogStore) -> None:
    writer = store.writer("once")
    with pytest.raises(FileExistsError):
        store.writer("once")
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.write("late")


@pytest.mark.parametrize(
    ("offset", "limit", "match"),
    [(3, 10, "line boundary"), (10_000, 10, "past the end"), (-1, 10, "offset"), (0, 0, "limit")],
)
def test_bad_offsets_and_limits_are_refused(
    store: FileLogStore, offset: int, limit: int, match: str
) -> None:
    with store.writer("o") as writer:
        writer.write("hello world")
    with pytest.raises(ValueError, match=match):
        store.read("o", offset=offset, limit=limit)


def test_concurrent_writers_threads_keep_every_line(store: FileLogStore) -> None:
    writer = store.writer("shared")
    per_thread = 5000

    def produce(name: str) -> None:
        for i in range(per_thread):
            writer.write(f"{name} {i}")

    threads = [threading.Thread(target=produce, args=(f"t{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    lines = read_all(store, "shared", limit=10_000)
    assert [line.number for line in lines] == list(range(1, 4 * per_thread + 1))
    for n in range(4):
        mine = [int(line.text.split()[1]) for line in lines if line.text.startswith(f"t{n} ")]
        assert mine == list(range(per_thread))


def test_a_million_lines(tmp_path: Path) -> None:
    """Correctness at volume; the time is printed (bench/ holds timings, not tests)."""
    store = FileLogStore(tmp_path)
    count = 1_000_000
    started = time.perf_counter()
    with store.writer("huge") as writer:
        for i in range(count):
            writer.write("output line %d" % i)  # noqa: UP031 - cheapest formatting in the loop
    written = time.perf_counter() - started
    started = time.perf_counter()
    lines = read_all(store, "huge", limit=100_000)
    read = time.perf_counter() - started
    print(f"\n{count} lines: write {written:.2f} s, read {read:.2f} s")
    assert len(lines) == count
    assert lines[0].text == "output line 0" and lines[-1].number == count
    assert lines[-1].text == f"output line {count - 1}"
    assert writer.dropped_lines == 0


def test_a_byte_budget_bounds_a_page_and_every_line_says_where_to_resume(
    store: FileLogStore, tmp_path: Path
) -> None:
    with store.writer("budget") as writer:
        for i in range(300):
            writer.write(f"{i:03d} " + "y" * 96)
    page = store.read("budget", limit=1000, max_bytes=4096)
    assert 0 < len(page.lines) < 300
    assert page.next_offset <= 4096 and page.ends[-1] == page.next_offset
    raw = (tmp_path / "logs" / "budget.log").read_bytes()
    # Each end is just after its own record: resuming there gives the next line.
    for line, end in zip(page.lines, page.ends, strict=True):
        assert raw[end - 1 : end] == b"\n"
        assert store.read("budget", offset=end, limit=1).lines[0].number == line.number + 1
    assert store.read("budget", max_bytes=1).lines[0].text.startswith("000 ")  # never empty
    texts = []
    offset = 0
    while not (page := store.read("budget", offset=offset, max_bytes=4096)).complete:
        texts += [line.text[:3] for line in page.lines]
        offset = page.next_offset
    texts += [line.text[:3] for line in page.lines]
    assert texts == [f"{i:03d}" for i in range(300)]


def test_a_started_log_exists_before_its_first_line(store: FileLogStore) -> None:
    writer = store.writer("quiet-start")
    assert store.exists("quiet-start")
    assert store.read("quiet-start").lines == []
    writer.close()
    assert store.exists("quiet-start")


def test_the_parts_of_one_action_execution(store: FileLogStore) -> None:
    assert store.parts("act") == []
    for expected in ("act", "act.1", "act.2"):
        with store.next_writer("act") as writer:
            assert writer.log_id == expected
            writer.write(expected)
    assert store.parts("act") == ["act", "act.1", "act.2"]
    assert store.parts("act.1") == ["act.1"]
