"""Deliveries to ``/webhooks/connections/<connection id>``: a git host's push and pull
request events for the repositories a connection reaches.

On AWS a connection's app receives the host's events; here the user points a
GitHub, GitLab or Bitbucket Cloud webhook at this URL (docs/triggers.md). The
payload is read into :class:`GitChange` s and routed to every pipeline with a
CodeStarSourceConnection source action on that connection (its ``ConnectionArn``
ends with the id) and that repository (``FullRepositoryId``, case-sensitive as
on AWS). Without a V2 trigger for the action, a push to its branch starts it
with trigger type ``Webhook``, as AWS records pushes seen through a connection
("Webhook events for third-party sources"); with one, its filters decide and
the type is ``WebhookV2``.

Authentication: when the connection has a webhook secret (``connection_secret``
returns it), the delivery must prove it as its host does (see ``auth``). A
connection without one accepts deliveries from this machine only, so a forwarder
or a test on the same host works and nobody else can start pipelines.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from stageline.engine.status import TriggerType
from stageline.triggers import payloads
from stageline.triggers.changes import GitChange, PayloadError
from stageline.triggers.router import Started, TriggerRouter
from stageline.webhooks import auth
from stageline.webhooks.delivery import Delivery, Outcome

log = logging.getLogger("stageline.webhooks")

CONNECTION_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
PROVIDER = "CodeStarSourceConnection"


class ConnectionHook:
    """Routes a connection's push and pull request deliveries through the TriggerRouter.

    ``connection_secret(id)`` returns the connection's webhook secret, or None
    when it has none (or there is no such connection).
    """

    def __init__(
        self, router: TriggerRouter, *, connection_secret: Callable[[str], str | None]
    ) -> None:
        self.router = router
        self.connection_secret = connection_secret

    def deliver(self, connection_id: str, delivery: Delivery) -> Outcome:
        if not CONNECTION_ID.fullmatch(connection_id):
            return Outcome(status=404, message="no connection has this id")
        try:
            self._authenticate(connection_id, delivery)
            document = payloads.load_document(delivery.body, delivery.content_type)
            changes = payloads.parse(delivery.headers, document)
        except auth.Refused as refused:
            return self._refuse(connection_id, refused.status, refused.reason, delivery)
        except PayloadError as exc:
            return self._refuse(connection_id, 400, str(exc), delivery)
        if not changes:
            event = payloads.event_of(delivery.headers)
            shown = f"{event[0]} event {event[1]!r}" if event else "this event"
            return Outcome(
                status=200, message=f"ignored: {shown} is no push or pull request change"
            )
        started: list[Started] = []
        for change in changes:
            started.extend(
                self.router.route(
                    change,
                    source_matches=_source_matches(connection_id, change),
                    default_trigger=TriggerType.WEBHOOK,
                )
            )
        if not started:
            return Outcome(
                status=200,
                message="no pipeline started: no source action on this connection and repository "
                "watches this change",
            )
        return Outcome(
            status=200,
            message="started " + ", ".join(f"{s.pipeline} ({s.trigger_type})" for s in started),
            execution_ids=tuple(s.execution_id for s in started),
        )

    def _authenticate(self, connection_id: str, delivery: Delivery) -> None:
        secret = self.connection_secret(connection_id)
        if secret:
            auth.verify_secret(secret, delivery.body, delivery.headers)
        elif not auth.is_loopback(delivery.client):
            raise auth.Refused(
                403,
                "this connection has no webhook secret, so only deliveries from the server's "
                "own machine are accepted; give the connection a webhook secret and configure "
                "the same secret in the git host",
            )

    def _refuse(self, connection_id: str, status: int, reason: str, delivery: Delivery) -> Outcome:
        log.warning(
            "connection %s: delivery from %s refused (%d): %s",
            connection_id,
            delivery.client,
            status,
            reason,
        )
        return Outcome(status=status, message=reason)


def _source_matches(
    connection_id: str, change: GitChange
) -> Callable[[str, Mapping[str, Any]], bool]:
    def matches(_pipeline: str, action: Mapping[str, Any]) -> bool:
        if (action.get("actionTypeId") or {}).get("provider") != PROVIDER:
            return False
        config = action.get("configuration") or {}
        arn = str(config.get("ConnectionArn", ""))
        return (
            arn.rsplit("/", 1)[-1] == connection_id
            and config.get("FullRepositoryId") == change.repository
        )

    return matches
