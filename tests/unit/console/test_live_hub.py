"""The live hub: notifications from any thread, coalesced frames, shared renders, shutdown."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

from stageline.console.live import ALL, Gone, LiveHub, sse


def test_an_event_spans_as_many_data_lines_as_its_text() -> None:
    assert sse("state", "<p>\r\na</p>\rb\n", "x.3") == (
        b"id: x.3\nevent: state\ndata: <p>\ndata: a</p>\ndata: b\ndata: \n\n"
    )


async def frames(stream: AsyncIterator[bytes], count: int) -> list[bytes]:
    out = []
    async for chunk in stream:
        if chunk.startswith(b"event:") or b"\nevent:" in chunk:
            out.append(chunk)
            if len(out) == count:
                break
    return out


def test_a_stream_sends_the_state_then_a_frame_per_burst_of_changes() -> None:
    async def scenario() -> tuple[list[bytes], int]:
        hub = LiveHub(min_interval_s=0.05)
        hub.start()
        version = {"n": 0}

        def render() -> str:
            return f"state {version['n']}"

        stream = hub.stream("p", "p\0view", render)
        first = await asyncio.wait_for(frames(stream, 1), 5)

        # A burst of changes from another thread: one frame shows the last of them.
        def burst() -> None:
            for _ in range(50):
                version["n"] += 1
                hub.notify("p")

        thread = threading.Thread(target=burst)
        thread.start()
        thread.join()
        second = await asyncio.wait_for(frames(stream, 1), 5)
        await stream.aclose()  # type: ignore[attr-defined]
        hub.stop()
        return first + second, hub.renders

    got, renders = asyncio.run(scenario())
    assert b"data: state 0" in got[0]
    assert b"data: state 50" in got[1]
    assert renders == 2


def test_a_page_rendered_at_the_current_generation_gets_no_first_frame() -> None:
    async def scenario() -> list[bytes]:
        hub = LiveHub(min_interval_s=0)
        hub.start()
        hub.notify("p")
        await asyncio.sleep(0.01)
        mark = hub.mark("p")
        stream = hub.stream("p", "p\0view", lambda: "fresh", since=mark)
        first = asyncio.ensure_future(frames(stream, 1))
        await asyncio.sleep(0.05)
        assert not first.done()  # nothing changed since the page was rendered
        hub.notify("other")  # another pipeline's change is not this stream's
        await asyncio.sleep(0.05)
        assert not first.done()
        hub.notify("p")
        got = await asyncio.wait_for(first, 5)
        hub.stop()
        return got

    assert b"data: fresh" in asyncio.run(scenario())[0]


def test_streams_of_the_same_view_share_one_render() -> None:
    async def scenario() -> int:
        hub = LiveHub(min_interval_s=0)
        hub.start()
        gate = threading.Event()

        def render() -> str:
            gate.wait(5)
            return "shared"

        streams = [hub.stream("p", "p\0view", render) for _ in range(5)]
        tasks = [asyncio.ensure_future(frames(s, 1)) for s in streams]
        await asyncio.sleep(0.05)
        gate.set()
        results = await asyncio.wait_for(asyncio.gather(*tasks), 5)
        assert all(b"data: shared" in r[0] for r in results)
        hub.stop()
        return hub.renders

    assert asyncio.run(scenario()) == 1


def test_the_list_hears_every_pipeline_and_a_gone_pipeline_ends_its_stream() -> None:
    async def scenario() -> tuple[list[bytes], list[bytes]]:
        hub = LiveHub(min_interval_s=0)
        hub.start()
        listing = hub.stream(ALL, "*\0list", lambda: "list", since=hub.mark(ALL))
        pending = asyncio.ensure_future(frames(listing, 1))

        def missing() -> str:
            raise Gone("pipeline 'p' does not exist")

        gone = [chunk async for chunk in hub.stream("p", "p\0view", missing)]
        hub.notify("q")
        listed = await asyncio.wait_for(pending, 5)
        hub.stop()
        return gone, listed

    gone, listed = asyncio.run(scenario())
    assert gone[-1] == b"event: gone\ndata: pipeline 'p' does not exist\n\n"
    assert b"data: list" in listed[0]


def test_closing_the_hub_ends_open_streams() -> None:
    async def scenario() -> list[bytes]:
        hub = LiveHub(min_interval_s=0, heartbeat_s=60)
        hub.start()
        stream = hub.stream("p", "p\0view", lambda: "x")
        collected = asyncio.ensure_future(_all(stream))
        await asyncio.sleep(0.05)
        hub.close()
        out = await asyncio.wait_for(collected, 5)
        hub.stop()
        return out

    out = asyncio.run(scenario())
    assert out[0].startswith(b"retry:") and b"data: x" in out[1]


def test_a_guarded_body_stops_when_the_hub_closes() -> None:
    async def forever() -> AsyncIterator[bytes]:
        yield b"first"
        await asyncio.sleep(3600)
        yield b"never"

    async def scenario() -> list[bytes]:
        hub = LiveHub()
        hub.start()
        collected = asyncio.ensure_future(_all(hub.guard(forever())))
        await asyncio.sleep(0.05)
        hub.close()
        out = await asyncio.wait_for(collected, 5)
        hub.stop()
        return out

    assert asyncio.run(scenario()) == [b"first"]


def test_notifications_before_start_or_after_stop_are_dropped() -> None:
    hub = LiveHub()
    hub.notify("p")  # no loop yet: nothing to wake, nothing raised
    assert hub.generation("p") == 0


async def _all(stream: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in stream]
