"""What every console page needs: the server's services, the API's operations and the live hub."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from stageline.console.calls import ApiCalls
from stageline.console.live import LiveHub
from stageline.console.render import page

if TYPE_CHECKING:
    from stageline.api.app import Services

PREFIX = "/console"


@dataclass
class ConsoleContext:
    """Shared by the console's page modules; built once per server process."""

    services: Services
    api: ApiCalls
    hub: LiveHub

    def now_ms(self) -> int:
        return self.services.ctx.clock.now_ms()


def ms(value: Any) -> int | None:
    """Epoch milliseconds from what the queries return (datetimes) or from numbers."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    return int(value)


def wants_json(request: Request) -> bool:
    """The console's own script asks for JSON; a plain form post gets a page or a redirect."""
    return "application/json" in request.headers.get("accept", "")


def is_fragment(request: Request) -> bool:
    """The script loads dialogs and panels as fragments, without the page around them."""
    return request.headers.get("x-console-fragment") == "1"


def missing(request: Request, message: str, *, status_code: int = 404) -> Response:
    """A page (or a dialog's fragment) saying what is not there."""
    return page(
        "error.html",
        status_code=status_code,
        title="Not found",
        message=message,
        fragment=is_fragment(request),
    )


def done(request: Request, message: str, location: str) -> Response:
    """A state change went through: JSON for the script, else back to ``location``."""
    if wants_json(request):
        return JSONResponse({"ok": True, "message": message, "location": location})
    return RedirectResponse(location, status_code=303)


def refused(request: Request, message: str, back: str, *, status_code: int = 400) -> Response:
    """A state change was refused: the API's message, as JSON or as a page with a way back."""
    if wants_json(request):
        return JSONResponse({"ok": False, "message": message}, status_code=status_code)
    return page("error.html", status_code=status_code, title="Refused", message=message, back=back)
