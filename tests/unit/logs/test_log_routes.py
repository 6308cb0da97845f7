"""The log routes as a browser, curl or the CLI sees them: JSON pages, events, plain text."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from stageline.api.logs import event_stream, log_link, log_routes, text_stream
from stageline.logs import FileLogStore


class Ticks:
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


class Http:
    """Requests to the routes in process (a response is read whole: finished logs only)."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    def get(self, url: str, **kw: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://logs.test") as c:
                return await c.get(url, **kw)

        return asyncio.run(go())


@pytest.fixture
def http(store: FileLogStore) -> Http:
    return Http(Starlette(routes=log_routes(store)))


def write(store: FileLogStore, log_id: str, *lines: str, close: bool = True) -> None:
    writer = store.writer(log_id)
    for line in lines:
        writer.write(line)
    if close:
        writer.close()
    else:
        writer.flush()


def parse_events(body: str) -> list[dict[str, Any]]:
    """Server-sent events as the EventSource algorithm reads them (comments dropped)."""
    events = []
    for block in body.split("\n\n"):
        event: dict[str, Any] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(": ")
            event[name] = value
        if "data" in event:
            event["data"] = json.loads(event["data"])
            events.append(event)
        elif event:
            events.append(event)
    return events


def test_events_stream_every_line_with_its_resume_offset_then_end(
    http: Http, store: FileLogStore
) -> None:
    write(store, "done", "first", "two\nlines", "third ✓")
    response = http.get("/logs/done/events")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    events = parse_events(response.text)
    assert events[0] == {"retry": "3000"}
    lines = events[1:-1]
    assert [e["data"]["text"] for e in lines] == ["first", "two\nlines", "third ✓"]
    assert [e["data"]["number"] for e in lines] == [1, 2, 3]
    assert all(e["data"]["time"] > 1_700_000_000_000 for e in lines)
    end = events[-1]
    assert end["event"] == "end" and end["id"] == lines[-1]["id"]
    assert end["data"] == {"nextOffset": int(end["id"])}


@pytest.mark.parametrize("how", ["header", "query"])
def test_a_reconnect_resumes_after_the_last_event_without_repeats(
    http: Http, store: FileLogStore, how: str
) -> None:
    write(store, "resume", *[f"line {i}" for i in range(10)])
    first = parse_events(http.get("/logs/resume/events").text)[1:-1]
    last_seen = first[3]["id"]
    if how == "header":
        again = http.get("/logs/resume/events", headers={"Last-Event-ID": last_seen})
    else:
        again = http.get(f"/logs/resume/events?offset={last_seen}")
    rest = parse_events(again.text)[1:-1]
    assert [e["data"]["text"] for e in rest] == [f"line {i}" for i in range(4, 10)]
    # The header wins over the query string: a browser keeps the URL it first opened.
    both = http.get("/logs/resume/events?offset=0", headers={"Last-Event-ID": first[8]["id"]})
    assert [e["data"]["text"] for e in parse_events(both.text)[1:-1]] == ["line 9"]


def test_events_refuse_what_they_can_before_streaming(http: Http, store: FileLogStore) -> None:
    write(store, "o", "hello world")
    assert http.get("/logs/o/events?offset=3").status_code == 400  # not a line boundary
    assert http.get("/logs/o/events", headers={"Last-Event-ID": "x"}).status_code == 400
    assert http.get("/logs/o/events?wait=-1").status_code == 400
    assert http.get("/logs/o/events?wait=99999").status_code == 400
    assert http.get("/logs/..%2Fetc/events").status_code in (400, 404)
    missing = http.get("/logs/nothing-yet/events?wait=0")
    assert missing.status_code == 404 and "nothing-yet" in missing.json()["message"]


def test_events_wait_for_a_log_that_never_starts_then_say_so(store: FileLogStore) -> None:
    async def body() -> str:
        chunks = [c async for c in event_stream(store, "late", wait_s=0.2, heartbeat_s=0.05)]
        return b"".join(chunks).decode()

    text = asyncio.run(asyncio.wait_for(body(), 10))
    assert ": keep-alive" in text  # heartbeats while waiting
    error = parse_events(text)[-1]
    assert error["event"] == "error" and "late" in error["data"]["message"]


def test_events_send_heartbeats_while_an_open_log_is_quiet(store: FileLogStore) -> None:
    write(store, "quiet", "only line", close=False)

    async def until_heartbeat() -> list[bytes]:
        chunks = []
        async for chunk in event_stream(store, "quiet", heartbeat_s=0.1):
            chunks.append(chunk)
            if chunk.startswith(b": keep-alive"):
                break
        return chunks

    chunks = asyncio.run(asyncio.wait_for(until_heartbeat(), 10))
    events = parse_events(b"".join(chunks).decode())
    assert [e["data"]["text"] for e in events if "data" in e] == ["only line"]


def test_text_view_for_a_browser(http: Http, store: FileLogStore) -> None:
    write(
        store,
        "act",
        "\x1b[32mgreen\x1b[0m and plain",
        "progress 10%\rprogress 100%",
        "<script>alert(1)</script>",
        "[stageline] log truncated: more than 1024 bytes; further output discarded",
    )
    response = http.get("/logs/act/text")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"  # never sniffed as HTML
    assert response.text.splitlines() == [
        "green and plain",
        "progress 100%",
        "<script>alert(1)</script>",
        "[stageline] log truncated: more than 1024 bytes; further output discarded",
    ]
    stamped = http.get("/logs/act/text?timestamps=1").text.splitlines()
    assert stamped[0] == "2023-11-14T22:13:20.001Z green and plain"


def test_text_view_reads_every_part_of_an_action_execution(http: Http, store: FileLogStore) -> None:
    for text in ("first run", "continued"):
        with store.next_writer("act") as writer:
            writer.write(text)
    assert http.get("/logs/act/text").text.splitlines() == [
        "first run",
        "[stageline] the action went on in a further log: act.1",
        "continued",
    ]
    assert http.get("/logs/act.1/text").text == "continued\n"


def test_text_view_of_a_log_that_is_not_there(http: Http, store: FileLogStore) -> None:
    response = http.get("/logs/nope/text")
    assert response.status_code == 404 and "nope" in response.text
    assert http.get("/logs/bad%20id/text").status_code == 400
    store.writer("started-quietly")  # running, nothing printed yet
    assert http.get("/logs/started-quietly/text").text == ""


def test_json_pages_are_bounded_in_bytes(http: Http, store: FileLogStore) -> None:
    write(store, "wide", *["w" * 60_000 for _ in range(40)])
    page = http.get("/logs/wide?limit=5000").json()
    assert 0 < len(page["lines"]) < 40 and not page["complete"]
    total = len(page["lines"])
    while not page["complete"]:
        page = http.get(f"/logs/wide?offset={page['nextOffset']}").json()
        total += len(page["lines"])
    assert total == 40


def test_log_link_only_for_logs_that_exist(store: FileLogStore) -> None:
    link = log_link(store, lambda: "http://127.0.0.1:9999")
    assert link("a1b2") is None
    write(store, "a1b2", "x")
    assert link("a1b2") == "http://127.0.0.1:9999/logs/a1b2/text"
    assert link("../escape") is None


def test_following_text_moves_on_when_a_later_part_starts(store: FileLogStore) -> None:
    """A run whose agent was lost never completes its part; the next run's part follows it."""
    lost = store.writer("act")
    lost.write("first run, then its agent died")
    lost.flush()

    async def body() -> str:
        chunks = []
        async for chunk in text_stream(store, "act", follow=True, wait_s=5):
            chunks.append(chunk)
            if b"first run" in chunk and not store.exists("act.1"):
                with store.next_writer("act") as again:
                    again.write("second run")
        return b"".join(chunks).decode()

    assert asyncio.run(asyncio.wait_for(body(), 20)).splitlines() == [
        "first run, then its agent died",
        "[stageline] the action went on in a further log: act.1",
        "second run",
    ]
    lost.close()
