"""A POST to a webhook's URL: authenticate it, apply its filter rules, start its pipeline.

What AWS documents (PutWebhook, WebhookDefinition): the target pipeline starts
"as long as the POST request satisfied the authentication and filtering
requirements"; the execution's trigger is ``Webhook`` with the webhook's ARN as
detail, and the webhook's ``lastTriggered`` moves. A delivery that is refused
(bad signature, address outside the range, a body that is not a payload) or
that cannot start the pipeline starts nothing, is logged as a warning (never
with the secret or the body) and is recorded as the webhook's ``errorCode`` /
``errorMessage`` until a later delivery succeeds, which is where a user
looking at ListWebhooks sees why pushes do nothing. A delivery that passes
authentication but not the filters is no error: the sender gets 200 and why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from stageline.engine.status import TriggerType
from stageline.errors import ApiError
from stageline.services.context import ServiceContext
from stageline.store import pipelines as pipeline_store
from stageline.triggers.changes import PayloadError
from stageline.triggers.payloads import load_document
from stageline.webhooks import auth, jsonfilters
from stageline.webhooks import store as webhook_store
from stageline.webhooks.store import WebhookRow

log = logging.getLogger("stageline.webhooks")


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What the sender is told: an HTTP status and a short message."""

    status: int
    message: str
    execution_ids: tuple[str, ...] = ()

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.execution_ids:
            out["pipelineExecutionIds"] = list(self.execution_ids)
        return out


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """One POST as the HTTP edge read it: raw body, headers, the caller's address."""

    body: bytes
    headers: Mapping[str, str]
    client: str | None

    @property
    def content_type(self) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == "content-type"), None)


class WebhookDeliveries:
    """Handles deliveries to ``/webhooks/<token>`` URLs."""

    def __init__(self, ctx: ServiceContext, *, start: Callable[..., str]) -> None:
        self.ctx = ctx
        self.start = start

    def deliver(self, token: str, delivery: Delivery) -> Outcome:
        with self.ctx.db.read() as conn:
            row = webhook_store.by_token(conn, token)
        if row is None:
            return Outcome(
                status=404, message="no webhook has this URL; it was deleted or never existed"
            )
        try:
            self._authenticate(row, delivery)
        except auth.Refused as refused:
            return self._refuse(row, refused.status, refused.reason, delivery)
        try:
            document = load_document(delivery.body, delivery.content_type)
        except PayloadError as exc:
            return self._refuse(row, 400, str(exc), delivery)
        return self._run(row, document, delivery)

    def _authenticate(self, row: WebhookRow, delivery: Delivery) -> None:
        definition = row.definition
        config = definition.get("authenticationConfiguration") or {}
        kind = definition.get("authentication")
        if kind == "GITHUB_HMAC":
            auth.verify_secret(str(config.get("SecretToken", "")), delivery.body, delivery.headers)
        elif kind == "IP":
            auth.check_address(delivery.client, str(config.get("AllowedIPRange", "")))
        elif kind != "UNAUTHENTICATED":
            raise auth.Refused(403, f"the webhook's authentication {kind!r} is not supported")

    def _run(self, row: WebhookRow, document: Any, delivery: Delivery) -> Outcome:
        definition = row.definition
        pipeline, action_name = definition["targetPipeline"], definition["targetAction"]
        with self.ctx.db.read() as conn:
            stored = pipeline_store.get_version(conn, pipeline)
        if stored is None:
            return self._refuse(
                row, 404, f"the target pipeline '{pipeline}' does not exist", delivery
            )
        configuration = _action_configuration(stored.declaration, action_name)
        if configuration is None:
            return self._refuse(
                row,
                404,
                f"the target action '{action_name}' is not a source action of pipeline "
                f"'{pipeline}' any more; update the webhook with PutWebhook",
                delivery,
            )
        try:
            failure = jsonfilters.first_failure(
                definition.get("filters") or [], document, configuration
            )
        except jsonfilters.FilterError as exc:
            return self._refuse(row, 422, str(exc), delivery)
        if failure is not None:
            return Outcome(status=200, message=f"no pipeline started: {failure}")
        try:
            execution_id = self.start(
                pipeline, trigger_type=TriggerType.WEBHOOK, trigger_detail=row.arn
            )
        except ApiError as exc:
            return self._refuse(row, exc.status, f"{exc.code}: {exc.message}", delivery)
        with self.ctx.db.write() as conn:
            webhook_store.record_trigger(conn, row.name, self.ctx.clock.now_ms())
        log.info("webhook %s started pipeline %s (%s)", row.name, pipeline, execution_id)
        return Outcome(
            status=200,
            message=f"started pipeline {pipeline}",
            execution_ids=(execution_id,),
        )

    def _refuse(self, row: WebhookRow, status: int, reason: str, delivery: Delivery) -> Outcome:
        log.warning(
            "webhook %s: delivery from %s refused (%d): %s",
            row.name,
            delivery.client,
            status,
            reason,
        )
        with self.ctx.db.write() as conn:
            webhook_store.record_error(conn, row.name, str(status), reason)
        return Outcome(status=status, message=reason)


def _action_configuration(declaration: Mapping[str, Any], name: str) -> dict[str, str] | None:
    """The configuration of source action ``name`` of the first stage, or None."""
    stages = declaration.get("stages") or []
    for action in (stages[0].get("actions") or []) if stages else []:
        if action.get("name") == name and action["actionTypeId"].get("category") == "Source":
            return dict(action.get("configuration") or {})
    return None
