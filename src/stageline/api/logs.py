"""Action logs over HTTP: ``GET /logs/<action execution id>`` pages through a log as JSON.

Offsets are the store's byte cursors: pass back ``nextOffset`` to continue;
``complete`` says the action has finished writing.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from stageline.logs import FileLogStore, InvalidLogIdError, LogNotFoundError

MAX_LIMIT = 5000


def log_routes(logs: FileLogStore) -> list[BaseRoute]:
    async def read(request: Request) -> Response:
        log_id = request.path_params["log_id"]
        try:
            offset = int(request.query_params.get("offset", "0"))
            limit = min(int(request.query_params.get("limit", "1000")), MAX_LIMIT)
        except ValueError:
            return JSONResponse({"message": "offset and limit must be integers"}, status_code=400)
        try:
            page = logs.read(log_id, offset=offset, limit=limit)
        except InvalidLogIdError as exc:
            return JSONResponse({"message": str(exc)}, status_code=400)
        except LogNotFoundError:
            return JSONResponse({"message": f"no log '{log_id}' (yet)"}, status_code=404)
        except ValueError as exc:
            return JSONResponse({"message": str(exc)}, status_code=400)
        return JSONResponse(
            {
                "lines": [
                    {"number": ln.number, "time": ln.ts_ms, "text": ln.text} for ln in page.lines
                ],
                "nextOffset": page.next_offset,
                "complete": page.complete,
            }
        )

    return [Route("/logs/{log_id}", read, methods=["GET"])]
