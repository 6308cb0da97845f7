"""Reading an action's or a build's whole log from a running server."""

from __future__ import annotations

import httpx

from tests.support.server import ServerProcess


def read_log(server: ServerProcess, log_id: str) -> str:
    """Every line stored so far, page by page through ``GET /logs/<id>``."""
    lines: list[str] = []
    offset = 0
    while True:
        page = httpx.get(f"{server.url}/logs/{log_id}", params={"offset": offset}).json()
        lines.extend(line["text"] for line in page["lines"])
        if not page["lines"]:
            return "\n".join(lines)
        offset = page["nextOffset"]
