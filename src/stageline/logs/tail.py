"""Following a log from async code: each read in a worker thread, each page bounded in bytes.

The HTTP streams (server-sent events, the plain-text view) read logs through
this, so a slow disk or a 50 MiB log never blocks the event loop, and memory
holds one page per reader whatever the log's size. Pages come from the
store's byte offsets, so a reader that stops and starts again at the last
offset it saw gets every line exactly once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

from stageline.logs.model import DEFAULT_PAGE_BYTES, LogNotFoundError, LogPage, LogStore

PAGE_LINES = 1000
POLL_MIN_S = 0.05
POLL_MAX_S = 0.5


async def pages(
    store: LogStore,
    log_id: str,
    *,
    offset: int = 0,
    follow: bool = False,
    wait_s: float = 0.0,
    stop_when: Callable[[], bool] | None = None,
    page_lines: int = PAGE_LINES,
    page_bytes: int = DEFAULT_PAGE_BYTES,
    poll_min_s: float = POLL_MIN_S,
    poll_max_s: float = POLL_MAX_S,
) -> AsyncIterator[LogPage | None]:
    """Pages of ``log_id`` from ``offset``, ending with the last line there is.

    With ``follow`` it goes on as lines are written and ends with the page that
    completes the log; while there is nothing new it yields None after each
    look (so a caller can send a heartbeat) and looks again after a pause that
    grows from ``poll_min_s`` to ``poll_max_s``. ``stop_when`` (called in a
    worker thread while idle) ends following early, e.g. when a log is
    abandoned for a newer part. A log that has not started is waited for up to
    ``wait_s`` (yielding None meanwhile), then LogNotFoundError; ValueError for
    an offset that is not a line boundary of the log.
    """
    deadline: float | None = None
    poll = poll_min_s
    while True:
        try:
            page = await asyncio.to_thread(
                store.read, log_id, offset=offset, limit=page_lines, max_bytes=page_bytes
            )
        except LogNotFoundError:
            if deadline is None:
                deadline = time.monotonic() + wait_s
            if time.monotonic() >= deadline:
                raise
            yield None
            await asyncio.sleep(poll)
            poll = min(poll * 2, poll_max_s)
            continue
        if page.lines or page.complete:
            yield page
        offset = page.next_offset
        if page.complete:
            return
        if page.lines:
            poll = poll_min_s
            continue
        if not follow:
            return
        yield None
        if stop_when is not None and await asyncio.to_thread(stop_when):
            return
        await asyncio.sleep(poll)
        poll = min(poll * 2, poll_max_s)
