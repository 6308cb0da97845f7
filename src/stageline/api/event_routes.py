"""The dead-letter queue over HTTP (EventBridge has no API for it: this is stageline's own).

* ``GET /events/dead-letters?rule=NAME&limit=N`` — the deliveries that failed for good,
  oldest first, as a JSON list (id, eventId, rule, targetId, targetArn, attempts, lastError,
  eventTime / createdTime / failedTime in epoch milliseconds, input, deadLetterConfigArn).
* ``POST /events/dead-letters/redrive`` with ``{"ids": [1, 2]}`` or ``{"all": true}`` —
  puts them back to be delivered again with a fresh set of attempts; answers
  ``{"redriven": [ids moved], "notInQueue": [ids given that were not in it]}``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from stageline.events.bus import EventBus

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000


def _bad(message: str) -> Response:
    return JSONResponse({"error": message}, status_code=400)


def event_routes(bus: EventBus) -> list[BaseRoute]:
    async def dead_letters(request: Request) -> Response:
        rule = request.query_params.get("rule") or None
        raw = request.query_params.get("limit") or str(DEFAULT_LIMIT)
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            return _bad(f"limit must be a whole number from 1 to {MAX_LIMIT}, e.g. ?limit=100")
        found = await run_in_threadpool(bus.dead_letters, rule, int(raw))
        return JSONResponse([d.to_json() for d in found])

    async def redrive(request: Request) -> Response:
        try:
            body: Any = json.loads(await request.body() or b"{}")
        except (ValueError, UnicodeDecodeError):
            return _bad('the body must be JSON: {"ids": [1, 2]} or {"all": true}')
        if not isinstance(body, dict):
            return _bad('the body must be a JSON object: {"ids": [1, 2]} or {"all": true}')
        ids = body.get("ids")
        if body.get("all") is True and ids is None:
            moved = await run_in_threadpool(bus.redrive, None)
            return JSONResponse({"redriven": moved, "notInQueue": []})
        if (
            not isinstance(ids, list)
            or not ids
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
        ):
            return _bad(
                'pass {"ids": [...]} with the ids `GET /events/dead-letters` lists, '
                'or {"all": true} to redrive the whole queue'
            )
        moved = await run_in_threadpool(bus.redrive, ids)
        missing = [i for i in ids if i not in set(moved)]
        return JSONResponse({"redriven": moved, "notInQueue": missing})

    return [
        Route("/events/dead-letters", dead_letters, methods=["GET"]),
        Route("/events/dead-letters/redrive", redrive, methods=["POST"]),
    ]
