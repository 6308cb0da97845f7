"""Webhooks at the HTTP edge: the codepipeline webhook operations, and the URLs git hosts post to.

* ``PutWebhook``, ``ListWebhooks``, ``DeleteWebhook``,
  ``RegisterWebhookWithThirdParty``, ``DeregisterWebhookWithThirdParty`` on the
  codepipeline endpoint (:func:`register`).
* ``POST /webhooks/<token>`` — a PutWebhook webhook's URL.
* ``POST /webhooks/connections/<connection id>`` — a connection's push and pull
  request events.

Bodies are read up to ``max_body_bytes`` (1 MiB by default; GitHub caps its own
payloads at 25 MB but a push of a few commits is a few kilobytes) and refused
with 413 past it, before anything parses them. Work that touches the database
runs in a worker thread. Replies are small JSON objects with a ``message``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from stageline.api.protocol import ServiceEndpoint
from stageline.clock import ms_to_datetime
from stageline.triggers.router import TriggerRouter
from stageline.webhooks.connection_hook import ConnectionHook
from stageline.webhooks.delivery import Delivery, Outcome
from stageline.webhooks.service import WebhookService, WebhookView

MAX_BODY_BYTES = 1024 * 1024


def register(endpoint: ServiceEndpoint, webhooks: WebhookService) -> None:
    """Add the webhook operations to the codepipeline endpoint."""

    def put_webhook(p: dict[str, Any]) -> dict[str, Any]:
        return {"webhook": _item(webhooks.put(p["webhook"], p.get("tags") or []))}

    def list_webhooks(p: dict[str, Any]) -> dict[str, Any]:
        views, token = webhooks.list(next_token=p.get("NextToken"), max_results=p.get("MaxResults"))
        out: dict[str, Any] = {"webhooks": [_item(v) for v in views]}
        if token:
            out["NextToken"] = token
        return out

    def delete_webhook(p: dict[str, Any]) -> dict[str, Any]:
        webhooks.delete(p["name"])
        return {}

    def register_with_third_party(p: dict[str, Any]) -> dict[str, Any]:
        webhooks.set_registered(p.get("webhookName"), True)
        return {}

    def deregister_with_third_party(p: dict[str, Any]) -> dict[str, Any]:
        webhooks.set_registered(p.get("webhookName"), False)
        return {}

    endpoint.handlers.update(
        PutWebhook=put_webhook,
        ListWebhooks=list_webhooks,
        DeleteWebhook=delete_webhook,
        RegisterWebhookWithThirdParty=register_with_third_party,
        DeregisterWebhookWithThirdParty=deregister_with_third_party,
    )


def _item(view: WebhookView) -> dict[str, Any]:
    """A ListWebhookItem."""
    item: dict[str, Any] = {"definition": view.definition, "url": view.url, "arn": view.arn}
    if view.error_code:
        item["errorCode"] = view.error_code
    if view.error_message:
        item["errorMessage"] = view.error_message
    if view.last_triggered_ms is not None:
        item["lastTriggered"] = ms_to_datetime(view.last_triggered_ms)
    if view.tags:
        item["tags"] = [{"key": k, "value": v} for k, v in view.tags]
    return item


def _no_secret(_connection_id: str) -> str | None:
    return None


def webhook_routes(
    webhooks: WebhookService,
    router: TriggerRouter | None = None,
    *,
    connection_secret: Callable[[str], str | None] = _no_secret,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> list[BaseRoute]:
    """The routes to mount: webhook URLs, and with a ``router`` the connection URL.

    ``connection_secret(id)`` is the webhook secret of a connection, None when it
    has none (then only deliveries from the server's machine are accepted).
    """

    async def webhook(request: Request) -> Response:
        delivery = await _read(request, max_body_bytes)
        if isinstance(delivery, Response):
            return delivery
        outcome = await run_in_threadpool(webhooks.deliver, request.path_params["token"], delivery)
        return _reply(outcome)

    routes: list[BaseRoute] = []
    if router is not None:
        hook = ConnectionHook(router, connection_secret=connection_secret)

        async def connection(request: Request) -> Response:
            delivery = await _read(request, max_body_bytes)
            if isinstance(delivery, Response):
                return delivery
            outcome = await run_in_threadpool(
                hook.deliver, request.path_params["connection_id"], delivery
            )
            return _reply(outcome)

        routes.append(Route("/webhooks/connections/{connection_id}", connection, methods=["POST"]))
    routes.append(Route("/webhooks/{token}", webhook, methods=["POST"]))
    return routes


async def _read(request: Request, limit: int) -> Delivery | Response:
    """The delivery, or a 413 once the body passes ``limit`` (read no further than that)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return _too_large(limit)
        chunks.append(chunk)
    client = request.client.host if request.client else None
    return Delivery(body=b"".join(chunks), headers=dict(request.headers), client=client)


def _too_large(limit: int) -> Response:
    return JSONResponse(
        {"message": f"the payload is larger than {limit} bytes, the most a webhook accepts"},
        status_code=413,
    )


def _reply(outcome: Outcome) -> Response:
    return JSONResponse(outcome.body(), status_code=outcome.status)
