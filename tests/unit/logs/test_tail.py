"""Following a log from async code: live lines, waiting for a start, bounded memory."""

from __future__ import annotations

import asyncio
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from stageline.api.logs import event_stream, text_stream
from stageline.logs import FileLogStore, LogNotFoundError, LogPage, tail


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FileLogStore]:
    s = FileLogStore(tmp_path / "logs", flush_interval_s=0.02)
    yield s
    s.close()


async def collect(
    store: FileLogStore, log_id: str, **kw: object
) -> tuple[list[str], list[LogPage | None]]:
    texts: list[str] = []
    seen: list[LogPage | None] = []
    async for page in tail.pages(store, log_id, **kw):  # type: ignore[arg-type]
        seen.append(page)
        if page is not None:
            texts += [line.text for line in page.lines]
    return texts, seen


def test_following_yields_lines_while_they_are_written(store: FileLogStore) -> None:
    writer = store.writer("live")

    def produce() -> None:
        for i in range(50):
            writer.write(f"n={i}")
            if i % 10 == 0:
                time.sleep(0.03)
        writer.close()

    producer = threading.Thread(target=produce)
    producer.start()
    try:
        texts, seen = asyncio.run(
            asyncio.wait_for(collect(store, "live", follow=True, poll_max_s=0.02), 20)
        )
    finally:
        producer.join()
    assert texts == [f"n={i}" for i in range(50)]
    assert seen[-1] is not None and seen[-1].complete


def test_without_follow_it_ends_at_the_current_end(store: FileLogStore) -> None:
    writer = store.writer("open")
    writer.write("a")
    writer.flush()
    texts, seen = asyncio.run(collect(store, "open"))
    assert texts == ["a"] and seen[-1] is not None and not seen[-1].complete
    writer.close()


def test_a_log_that_has_not_started_is_waited_for_then_refused(store: FileLogStore) -> None:
    started = time.monotonic()
    with pytest.raises(LogNotFoundError):
        asyncio.run(collect(store, "never", follow=True, wait_s=0.2, poll_max_s=0.02))
    assert time.monotonic() - started >= 0.2

    def later() -> None:
        time.sleep(0.1)
        with store.writer("soon") as writer:
            writer.write("here")

    producer = threading.Thread(target=later)
    producer.start()
    try:
        texts, seen = asyncio.run(collect(store, "soon", follow=True, wait_s=20, poll_max_s=0.02))
    finally:
        producer.join()
    assert texts == ["here"]
    assert None in seen  # it said it was waiting, so a stream can send heartbeats


def test_stop_when_ends_following_an_abandoned_log(store: FileLogStore) -> None:
    writer = store.writer("abandoned")
    writer.write("partial")
    writer.flush()
    calls = []

    def later_part_started() -> bool:
        calls.append(1)
        return len(calls) > 2

    texts, _ = asyncio.run(
        asyncio.wait_for(
            collect(store, "abandoned", follow=True, stop_when=later_part_started, poll_max_s=0.01),
            10,
        )
    )
    assert texts == ["partial"]
    writer.close()


def _huge_log(store: FileLogStore, log_id: str, megabytes: int) -> int:
    line = "z" * 2000
    count = megabytes * 1024 * 1024 // 2000
    with store.writer(log_id) as writer:
        for _ in range(count):
            writer.write(line)
    return count


def test_streaming_a_huge_log_holds_one_page_at_a_time(store: FileLogStore) -> None:
    count = _huge_log(store, "huge", 24)
    assert (store.root / "huge.log").stat().st_size > 20 * 1024 * 1024

    async def drain_events() -> tuple[int, int]:
        events = sent = 0
        async for chunk in event_stream(store, "huge", wait_s=0):
            events += chunk.count(b"\ndata: ")
            sent += len(chunk)
        return events, sent

    async def drain_text() -> int:
        sent = 0
        async for chunk in text_stream(store, "huge", timestamps=True):
            sent += len(chunk)
        return sent

    tracemalloc.start()
    try:
        events, sent = asyncio.run(drain_events())
        _, peak_events = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        text_sent = asyncio.run(drain_text())
        _, peak_text = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert events == count + 1  # every line, then the end event
    assert sent > 20 * 1024 * 1024 and text_sent > 20 * 1024 * 1024
    # A page is 256 KiB of log: its lines and its formatted events, never the log.
    print(f"\npeak memory streaming {sent} bytes: events {peak_events}, text {peak_text}")
    assert peak_events < 6 * 1024 * 1024, peak_events
    assert peak_text < 6 * 1024 * 1024, peak_text
