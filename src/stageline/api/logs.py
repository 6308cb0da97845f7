"""Action logs over HTTP: JSON pages for programs, live events for consoles, text for people.

* ``GET /logs/<log id>?offset=&limit=`` — a page of lines as JSON: ``lines``
  (``number``, ``time`` in epoch milliseconds, ``text``), ``nextOffset`` to
  pass back as ``offset``, and ``complete`` once the action has finished writing.
* ``GET /logs/<log id>/events`` — server-sent events: the lines there are,
  then each new one as it is written, then ``event: end``. Every line's
  ``id`` is the offset after it, so a client that reconnects with
  ``Last-Event-ID`` (or ``?offset=``) goes on without a gap or a repeat.
* ``GET /logs/<log id>/text`` — the whole log as ``text/plain`` for a browser,
  ``?timestamps=1`` to prefix times, ``?follow=1`` to keep streaming while it grows.

A log id is an action execution id; ``<id>.1``, ``<id>.2``… are later parts of
the same action execution (see ``stageline.logs.part_id``). Everything streams
page by page from the store's byte offsets, with reads in worker threads.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from stageline.logs import (
    FileLogStore,
    InvalidLogIdError,
    LogNotFoundError,
    LogPage,
    part_id,
    tail,
    validate_log_id,
)
from stageline.logs.text import plain, timestamp

MAX_LIMIT = 5000
JSON_PAGE_BYTES = 1024 * 1024
HEARTBEAT_S = 15.0
RETRY_MS = 3000
# A stream may be opened for an action that has not printed anything yet (its
# log file appears with the first line), so a log that does not exist is waited
# for this long by default; a browser's EventSource reconnects after that and
# waits again, a script can pass ?wait=0 to get a 404 at once.
DEFAULT_WAIT_S = 60.0
MAX_WAIT_S = 3600.0

_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
_SSE_HEADERS = {**_HEADERS, "X-Accel-Buffering": "no"}
_TRUE = ("1", "true", "yes", "on")


def log_link(logs: FileLogStore, base_url: Callable[[], str]) -> Callable[[str], str | None]:
    """The engine's ``log_url``: where a person reads an action execution's log, if it has one."""

    def url(log_id: str) -> str | None:
        try:
            started = logs.exists(log_id)
        except InvalidLogIdError:
            return None
        return f"{base_url()}/logs/{log_id}/text" if started else None

    return url


def log_routes(logs: FileLogStore, *, heartbeat_s: float = HEARTBEAT_S) -> list[BaseRoute]:
    async def read(request: Request) -> Response:
        log_id = request.path_params["log_id"]
        try:
            offset = int(request.query_params.get("offset", "0"))
            limit = min(int(request.query_params.get("limit", "1000")), MAX_LIMIT)
        except ValueError:
            return _message(400, "offset and limit must be integers")
        try:
            page = await asyncio.to_thread(
                logs.read, log_id, offset=offset, limit=limit, max_bytes=JSON_PAGE_BYTES
            )
        except InvalidLogIdError as exc:
            return _message(400, str(exc))
        except LogNotFoundError:
            return _message(404, f"no log '{log_id}' (yet)")
        except ValueError as exc:
            return _message(400, str(exc))
        return JSONResponse(
            {
                "lines": [_line(ln.number, ln.ts_ms, ln.text) for ln in page.lines],
                "nextOffset": page.next_offset,
                "complete": page.complete,
            }
        )

    async def events(request: Request) -> Response:
        log_id = request.path_params["log_id"]
        try:
            validate_log_id(log_id)
            resume = request.headers.get("last-event-id") or request.query_params.get("offset")
            offset = _non_negative_int(resume or "0", "Last-Event-ID or offset")
            wait_s = _seconds(request, "wait", DEFAULT_WAIT_S)
        except ValueError as exc:
            return _message(400, str(exc))
        refused = await _refusal(logs, log_id, offset, wait_s)
        if refused is not None:
            return refused
        body = event_stream(logs, log_id, offset=offset, wait_s=wait_s, heartbeat_s=heartbeat_s)
        return StreamingResponse(body, media_type="text/event-stream", headers=_SSE_HEADERS)

    async def text(request: Request) -> Response:
        log_id = request.path_params["log_id"]
        try:
            validate_log_id(log_id)
            follow = request.query_params.get("follow", "").lower() in _TRUE
            wait_s = _seconds(request, "wait", DEFAULT_WAIT_S) if follow else 0.0
        except ValueError as exc:
            return PlainTextResponse(f"{exc}\n", status_code=400, headers=_HEADERS)
        if wait_s <= 0 and not await asyncio.to_thread(logs.exists, log_id):
            return PlainTextResponse(
                f"no log '{log_id}' (yet)\n", status_code=404, headers=_HEADERS
            )
        body = text_stream(
            logs,
            log_id,
            timestamps=request.query_params.get("timestamps", "").lower() in _TRUE,
            follow=follow,
            wait_s=wait_s,
        )
        return StreamingResponse(body, media_type="text/plain; charset=utf-8", headers=_HEADERS)

    return [
        Route("/logs/{log_id}", read, methods=["GET"]),
        Route("/logs/{log_id}/events", events, methods=["GET"]),
        Route("/logs/{log_id}/text", text, methods=["GET"]),
    ]


async def event_stream(
    logs: FileLogStore,
    log_id: str,
    *,
    offset: int = 0,
    wait_s: float = DEFAULT_WAIT_S,
    heartbeat_s: float = HEARTBEAT_S,
) -> AsyncIterator[bytes]:
    """The body of ``/events``: one event per line, a comment while quiet, ``end`` at the end.

    A log that is not there after ``wait_s`` ends the stream with ``event:
    error``; so does an offset that turns out not to be a line boundary.
    """
    yield f"retry: {RETRY_MS}\n: log {log_id}\n\n".encode()
    quiet_since = time.monotonic()
    try:
        async for page in tail.pages(logs, log_id, offset=offset, follow=True, wait_s=wait_s):
            if page is None:
                if time.monotonic() - quiet_since >= heartbeat_s:
                    yield b": keep-alive\n\n"
                    quiet_since = time.monotonic()
                continue
            if page.lines:
                yield _line_events(page)
                quiet_since = time.monotonic()
            if page.complete:
                yield _event("end", {"nextOffset": page.next_offset}, page.next_offset)
    except LogNotFoundError:
        yield _event("error", {"message": f"no log '{log_id}' after waiting {wait_s:g} s"})
    except ValueError as exc:
        yield _event("error", {"message": str(exc)})


async def text_stream(
    logs: FileLogStore,
    log_id: str,
    *,
    timestamps: bool = False,
    follow: bool = False,
    wait_s: float = 0.0,
) -> AsyncIterator[bytes]:
    """The body of ``/text``: every part of the log in order, as plain text.

    Following stays on one part until it is complete, or until a later part
    starts (an abandoned run's log is never completed).
    """
    part = 0
    current = log_id
    while True:
        later_part_started = functools.partial(logs.exists, part_id(log_id, part + 1))
        try:
            async for page in tail.pages(
                logs,
                current,
                follow=follow,
                wait_s=wait_s if part == 0 else 0.0,
                stop_when=later_part_started,
            ):
                if page is not None and page.lines:
                    yield _text_lines(page, timestamps)
        except LogNotFoundError:
            yield f"[stageline] no log '{current}' after waiting {wait_s:g} s\n".encode()
            return
        part += 1
        current = part_id(log_id, part)
        if not await asyncio.to_thread(logs.exists, current):
            return
        yield f"[stageline] the action went on in a further log: {current}\n".encode()


async def _refusal(logs: FileLogStore, log_id: str, offset: int, wait_s: float) -> Response | None:
    """A 400 or 404 while one can still be sent, for what can be known before streaming."""
    try:
        await asyncio.to_thread(logs.read, log_id, offset=offset, limit=1, max_bytes=1)
    except LogNotFoundError:
        if wait_s <= 0:
            return _message(404, f"no log '{log_id}' (yet)")
    except ValueError as exc:
        return _message(400, str(exc))
    return None


def _line(number: int, ts_ms: int, text: str) -> dict[str, Any]:
    return {"number": number, "time": ts_ms, "text": text}


def _line_events(page: LogPage) -> bytes:
    return "".join(
        f"id: {end}\ndata: {_json(_line(ln.number, ln.ts_ms, ln.text))}\n\n"
        for ln, end in zip(page.lines, page.ends, strict=True)
    ).encode("utf-8", "replace")


def _event(name: str, data: dict[str, Any], event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {_json(data)}\n\n".encode("utf-8", "replace")


def _text_lines(page: LogPage, timestamps: bool) -> bytes:
    if timestamps:
        text = "".join(f"{timestamp(ln.ts_ms)} {plain(ln.text)}\n" for ln in page.lines)
    else:
        text = "".join(f"{plain(ln.text)}\n" for ln in page.lines)
    return text.encode("utf-8", "replace")


def _json(data: dict[str, Any]) -> str:
    # JSON escapes CR and LF, so one event's data is always one line.
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _non_negative_int(value: str, name: str) -> int:
    if not (value.isascii() and value.isdigit()):
        raise ValueError(f"{name} must be a byte offset (an integer >= 0), got {value[:40]!r}")
    return int(value)


def _seconds(request: Request, name: str, default: float) -> float:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= MAX_WAIT_S:
        raise ValueError(f"{name} must be a number of seconds from 0 to {MAX_WAIT_S:g}")
    return value


def _message(status: int, message: str) -> Response:
    return JSONResponse({"message": message}, status_code=status)
