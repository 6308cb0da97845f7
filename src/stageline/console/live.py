"""The console's live updates: the engine says a pipeline changed, open pages get its new state.

The engine calls :meth:`LiveHub.notify` after every committed change, from
whichever thread made it. The hub bumps that pipeline's generation and wakes
the server-sent-event streams watching it (and those watching every pipeline,
the list page). A stream then renders its fragment once for the latest
generation and sends it whole: a page never applies deltas, so a missed or
coalesced notification can never leave it wrong.

Bursts are coalesced: a stream sends at most one frame per ``min_interval_s``,
always of the newest state, and streams showing the same thing share one
render per generation. A stream's first frame is skipped when the page was
rendered at the generation that is still current (``since``), so opening a page
costs no second render.

Open streams end when the server begins shutting down (SIGINT or SIGTERM), so
an open console never holds up a restart; browsers reconnect by themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("stageline.console")

ALL = "*"  # the topic every change is also published to
RETRY_MS = 1000
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def sse(event: str, data: str, event_id: str | None = None) -> bytes:
    """One server-sent event; ``data`` may span lines (each becomes a ``data:`` line)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    body = "".join(f"data: {line}\n" for line in _LINE_BREAK.split(data))
    return f"{head}event: {event}\n{body}\n".encode()


class Gone(Exception):
    """What a stream shows no longer exists (the pipeline was deleted); the stream ends."""


@dataclass(eq=False)
class _Subscriber:
    topic: str
    wake: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _Render:
    generation: int
    result: asyncio.Future[str]
    users: int = 0


class LiveHub:
    """Change notifications in, coalesced server-sent-event frames out; see the module doc."""

    def __init__(self, *, min_interval_s: float = 0.1, heartbeat_s: float = 15.0) -> None:
        self.min_interval_s = min_interval_s
        self.heartbeat_s = heartbeat_s
        self.instance = uuid.uuid4().hex[:8]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._generation: dict[str, int] = {}
        self._subscribers: dict[str, set[_Subscriber]] = {}
        self._renders: dict[str, _Render] = {}
        self._pending: set[str] = set()
        self._pending_lock = threading.Lock()
        self._flush_scheduled = False
        self._closed = False
        self._previous_handlers: dict[int, Any] = {}
        self.frames_sent = 0
        self.renders = 0

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Bind to the running event loop; end streams when the process is told to stop."""
        self._loop = asyncio.get_running_loop()
        self._closed = False
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous = signal.getsignal(sig)
                if callable(previous):
                    self._previous_handlers[sig] = previous
                    signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.close)
        previous = self._previous_handlers.get(signum)
        if callable(previous):
            previous(signum, frame)

    def close(self) -> None:
        """End every open stream (at shutdown)."""
        self._closed = True
        for subscribers in self._subscribers.values():
            for sub in subscribers:
                sub.wake.set()

    def stop(self) -> None:
        self.close()
        for sig, previous in self._previous_handlers.items():
            if signal.getsignal(sig) == self._on_signal:
                signal.signal(sig, previous)
        self._previous_handlers.clear()
        self._loop = None

    @property
    def closed(self) -> bool:
        return self._closed

    # --- notifications --------------------------------------------------------------------

    def notify(self, topic: str) -> None:
        """Say ``topic`` (a pipeline name) changed; safe from any thread, cheap when repeated."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with self._pending_lock:
            self._pending.add(topic)
            if self._flush_scheduled:
                return
            self._flush_scheduled = True
        with contextlib.suppress(RuntimeError):  # the loop closed in between
            loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        with self._pending_lock:
            topics, self._pending = self._pending, set()
            self._flush_scheduled = False
        for topic in (*topics, ALL):
            self._generation[topic] = self._generation.get(topic, 0) + 1
            for sub in self._subscribers.get(topic, ()):
                sub.wake.set()

    def generation(self, topic: str) -> int:
        return self._generation.get(topic, 0)

    def mark(self, topic: str) -> str:
        """What a page rendered now passes back as ``since`` when it opens its stream."""
        return f"{self.instance}.{self.generation(topic)}"

    # --- streams --------------------------------------------------------------------------

    async def stream(
        self,
        topic: str,
        key: str,
        render: Callable[[], str],
        *,
        event: str = "state",
        since: str | None = None,
    ) -> AsyncIterator[bytes]:
        """Frames of ``render()`` (run in a thread, shared by streams with the same ``key``)
        each time ``topic`` changes, until the client leaves or the server stops."""
        loop = asyncio.get_running_loop()
        sub = _Subscriber(topic)
        self._subscribers.setdefault(topic, set()).add(sub)
        shown = self.generation(topic) if since == self.mark(topic) else None
        last_sent = 0.0
        try:
            yield f"retry: {RETRY_MS}\n\n".encode()
            while not self._closed:
                current = self.generation(topic)
                if current != shown:
                    try:
                        html = await self._render(key, current, render)
                    except Gone as exc:
                        yield sse("gone", str(exc))
                        return
                    except Exception:
                        log.exception("rendering a live update of %s failed", topic)
                        html = None
                    shown = current
                    if html is None:
                        continue
                    yield sse(event, html, f"{self.instance}.{current}")
                    self.frames_sent += 1
                    last_sent = loop.time()
                while not sub.wake.is_set():
                    try:
                        await asyncio.wait_for(sub.wake.wait(), self.heartbeat_s)
                    except TimeoutError:
                        yield b": keep-alive\n\n"
                sub.wake.clear()
                wait = self.min_interval_s - (loop.time() - last_sent)
                if wait > 0 and not self._closed:
                    await asyncio.sleep(wait)
        finally:
            subscribers = self._subscribers.get(topic)
            if subscribers is not None:
                subscribers.discard(sub)
                if not subscribers:
                    del self._subscribers[topic]

    async def _render(self, key: str, generation: int, render: Callable[[], str]) -> str:
        entry = self._renders.get(key)
        if entry is None or entry.generation != generation:
            self.renders += 1
            entry = _Render(generation, asyncio.ensure_future(asyncio.to_thread(render)))
            self._renders[key] = entry
        entry.users += 1
        try:
            return await asyncio.shield(entry.result)
        finally:
            entry.users -= 1
            # Shared only by streams waiting at the same time: nothing is kept for later.
            if entry.users == 0 and self._renders.get(key) is entry:
                del self._renders[key]

    async def guard(self, body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """``body`` until it ends or the server stops, whichever comes first."""
        iterator = body.__aiter__()
        try:
            while not self._closed:
                step = asyncio.ensure_future(iterator.__anext__())
                while not step.done():
                    done, _ = await asyncio.wait({step}, timeout=0.5)
                    if self._closed and not done:
                        step.cancel()
                        return
                try:
                    yield step.result()
                except StopAsyncIteration:
                    return
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except Exception:  # a cancelled generator may complain on close
                    log.debug("closing a log stream failed", exc_info=True)
