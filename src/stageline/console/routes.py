"""The console as the server mounts it: every page module's routes behind the guard, at /console."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.staticfiles import StaticFiles

from stageline.console import controls, editor, executions, logs, pipelines
from stageline.console.calls import ApiCalls
from stageline.console.context import PREFIX, ConsoleContext
from stageline.console.live import LiveHub
from stageline.console.security import ConsoleGuard, hosts_of

if TYPE_CHECKING:
    from stageline.api.app import Services

STATIC = Path(__file__).resolve().parent / "static"


class Console:
    """The web console: its routes, and the live hub the engine's notifications feed.

    ``start`` and ``stop`` belong in the server's lifespan: the hub binds to the
    running event loop and ends open streams at shutdown.
    """

    def __init__(self, services: Services, *, hub: LiveHub | None = None) -> None:
        self.hub = hub or LiveHub()
        self.ctx = ConsoleContext(services=services, api=ApiCalls(services), hub=self.hub)
        services.runtime.engine.listeners.append(self.hub.notify)
        services.pipelines.changed_listeners.append(self.hub.notify)

    def routes(self) -> list[BaseRoute]:
        ctx = self.ctx
        inner = Router(
            routes=[
                *pipelines.routes(ctx),
                *controls.routes(ctx),
                *executions.routes(ctx),
                *logs.routes(ctx),
                *editor.routes(ctx),
                Mount("/static", app=StaticFiles(directory=STATIC), name="console-static"),
            ]
        )
        guarded = ConsoleGuard(inner, server_hosts=lambda: hosts_of(ctx.services.repos.base_url))

        async def to_index(_request: Request) -> Response:
            return RedirectResponse(f"{PREFIX}/", status_code=307)

        return [Route(PREFIX, to_index, methods=["GET", "HEAD"]), Mount(PREFIX, app=guarded)]

    def start(self) -> None:
        self.hub.start()

    def stop(self) -> None:
        self.hub.stop()
