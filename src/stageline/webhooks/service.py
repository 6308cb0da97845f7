"""CodePipeline webhooks: PutWebhook, ListWebhooks, DeleteWebhook and the third-party calls.

AWS's rules, from the API reference:

- PutWebhook creates or replaces a webhook by name. The target pipeline must
  exist and the target action must be a source action of its first stage; at
  most 5 filter rules; GITHUB_HMAC needs only ``SecretToken``, IP only an
  ``AllowedIPRange`` CIDR, UNAUTHENTICATED neither. The URL is unguessable and
  stays while the webhook exists; deleting and re-creating one gives a new URL.
- A secret token is redacted in every response (PutWebhook's included). A
  definition read back and put again carries the redacted value; it keeps the
  stored secret rather than becoming the secret "****".
- DeleteWebhook succeeds for a webhook that does not exist.
- Register/DeregisterWebhookWithThirdParty ask AWS to configure the webhook in
  GitHub. No third party is reachable from stageline: they record whether the
  webhook counts as registered, and the URL and secret are entered in the git
  host by hand (docs/triggers.md).
"""

from __future__ import annotations

import copy
import ipaddress
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from stageline.errors import error
from stageline.services import paging
from stageline.services.context import ServiceContext
from stageline.services.pipelines import not_found as pipeline_not_found
from stageline.services.tags import check_new_tags
from stageline.store import pipelines as pipeline_store
from stageline.store import tags as tag_store
from stageline.webhooks import jsonfilters
from stageline.webhooks import store as webhook_store
from stageline.webhooks.delivery import Delivery, Outcome, WebhookDeliveries
from stageline.webhooks.store import WebhookRow

MAX_WEBHOOKS = 300
MAX_FILTERS = 5
DEFAULT_PAGE_SIZE = 100
SECRET_MASK = "****"
AUTH_PARAMS = "InvalidWebhookAuthenticationParametersException"
FILTER_PATTERN = "InvalidWebhookFilterPatternException"


@dataclass(frozen=True, kw_only=True)
class WebhookView:
    """A webhook as a client sees it: the definition with its secret redacted, and metadata."""

    definition: dict[str, Any]
    url: str
    arn: str
    last_triggered_ms: int | None
    error_code: str | None
    error_message: str | None
    tags: list[tuple[str, str]]


class WebhookService:
    """The webhook operations of the codepipeline API, and deliveries to webhook URLs."""

    def __init__(
        self,
        ctx: ServiceContext,
        *,
        start: Callable[..., str],
        server_url: Callable[[], str],
    ) -> None:
        self.ctx = ctx
        self.server_url = server_url
        self.deliveries = WebhookDeliveries(ctx, start=start)

    def url(self, token: str) -> str:
        return f"{self.server_url().rstrip('/')}/webhooks/{token}"

    def put(self, definition: dict[str, Any], tags: list[dict[str, str]]) -> WebhookView:
        definition = copy.deepcopy(definition)
        _check_authentication(definition)
        name = definition["name"]
        try:
            with self.ctx.db.write() as conn:
                existing = webhook_store.get(conn, name)
                _keep_masked_secret(definition, existing)
                self._check_target(conn, definition)
                arn = self.ctx.arns.webhook(name)
                check_new_tags(tags, existing=tag_store.list_tags(conn, arn))
                if existing is None:
                    if webhook_store.count(conn) >= MAX_WEBHOOKS:
                        raise error(
                            "LimitExceededException",
                            f"this deployment already has {MAX_WEBHOOKS} webhooks, the limit; "
                            "delete one first",
                        )
                    webhook_store.insert_webhook(conn, self._new_row(name, arn, definition))
                else:
                    webhook_store.replace_definition(conn, name, definition)
                tag_store.put_tags(conn, arn, [(t["key"], t.get("value", "")) for t in tags])
                row = webhook_store.get(conn, name)
                assert row is not None
                return self._view(conn, row)
        except IntegrityError as exc:  # a concurrent PutWebhook created the same name
            raise error(
                "ConcurrentModificationException",
                f"webhook '{name}' was created by another request at the same time; retry",
            ) from exc

    def _new_row(self, name: str, arn: str, definition: dict[str, Any]) -> WebhookRow:
        return WebhookRow(
            name=name,
            arn=arn,
            token=secrets.token_urlsafe(32),
            definition=definition,
            registered=False,
            last_triggered_ms=None,
            error_code=None,
            error_message=None,
            created_ms=self.ctx.clock.now_ms(),
        )

    def _check_target(self, conn: Connection, definition: dict[str, Any]) -> None:
        """The target pipeline exists, the action is one of its source actions, filters read."""
        pipeline, action_name = definition["targetPipeline"], definition["targetAction"]
        stored = pipeline_store.get_version(conn, pipeline)
        if stored is None:
            raise pipeline_not_found(self.ctx, pipeline)
        stages = stored.declaration.get("stages") or []
        sources = {
            a["name"]: a.get("configuration") or {}
            for a in (stages[0].get("actions") or [] if stages else [])
            if a["actionTypeId"]["category"] == "Source"
        }
        if action_name not in sources:
            raise error(
                "ValidationException",
                f"targetAction '{action_name}' is not a source action of pipeline '{pipeline}'; "
                f"its source actions: {', '.join(sorted(sources)) or 'none'}",
            )
        _check_filters(definition.get("filters") or [], sources[action_name])

    def list(
        self, *, next_token: str | None, max_results: int | None
    ) -> tuple[list[WebhookView], str | None]:
        after = paging.decode("webhooks", next_token)
        if after is not None and not isinstance(after, str):
            raise error(
                "InvalidNextTokenException",
                "The nextToken is not valid: pass the NextToken of the previous response unchanged",
            )
        limit = max_results or DEFAULT_PAGE_SIZE
        with self.ctx.db.read() as conn:
            rows = webhook_store.list_page(conn, after=after, limit=limit)
            page = rows[:limit]
            views = [self._view(conn, r) for r in page]
        token = paging.encode("webhooks", page[-1].name) if len(rows) > limit else None
        return views, token

    def delete(self, name: str) -> None:
        with self.ctx.db.write() as conn:
            webhook_store.delete_webhook(conn, name)
            tag_store.remove_all(conn, self.ctx.arns.webhook(name))

    def set_registered(self, name: str | None, registered: bool) -> None:
        """Register/DeregisterWebhookWithThirdParty: recorded, no third party contacted."""
        if not name:
            raise error(
                "ValidationException", "webhookName is required: the name given to PutWebhook"
            )
        with self.ctx.db.write() as conn:
            if webhook_store.get(conn, name) is None:
                raise error(
                    "WebhookNotFoundException",
                    f"no webhook named '{name}' exists; create it with PutWebhook",
                )
            webhook_store.set_registered(conn, name, registered)

    def deliver(self, token: str, delivery: Delivery) -> Outcome:
        return self.deliveries.deliver(token, delivery)

    def _view(self, conn: Connection, row: WebhookRow) -> WebhookView:
        return WebhookView(
            definition=redacted(row.definition),
            url=self.url(row.token),
            arn=row.arn,
            last_triggered_ms=row.last_triggered_ms,
            error_code=row.error_code,
            error_message=row.error_message,
            tags=tag_store.list_tags(conn, row.arn),
        )


def redacted(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition with its SecretToken replaced by ``****`` (AWS redacts it too)."""
    out = copy.deepcopy(definition)
    config = out.get("authenticationConfiguration")
    if isinstance(config, dict) and config.get("SecretToken"):
        config["SecretToken"] = SECRET_MASK
    return out


def _keep_masked_secret(definition: dict[str, Any], existing: WebhookRow | None) -> None:
    config = definition.get("authenticationConfiguration") or {}
    if config.get("SecretToken") != SECRET_MASK:
        return
    stored = (existing.definition.get("authenticationConfiguration") or {}) if existing else {}
    if not stored.get("SecretToken"):
        raise error(
            AUTH_PARAMS,
            f"SecretToken '{SECRET_MASK}' is the redacted value ListWebhooks shows; give the "
            "secret itself",
        )
    config["SecretToken"] = stored["SecretToken"]


def _check_authentication(definition: dict[str, Any]) -> None:
    """Each authentication type takes exactly its own property (WebhookDefinition)."""
    kind = definition["authentication"]
    config = definition.get("authenticationConfiguration") or {}
    given = sorted(k for k, v in config.items() if v)
    wanted = {"GITHUB_HMAC": ["SecretToken"], "IP": ["AllowedIPRange"], "UNAUTHENTICATED": []}
    if kind not in wanted:
        raise error(
            AUTH_PARAMS, f"authentication {kind!r} is not GITHUB_HMAC, IP or UNAUTHENTICATED"
        )
    if given != wanted[kind]:
        needs = " and ".join(wanted[kind]) or "no properties"
        raise error(
            AUTH_PARAMS,
            f"authentication {kind} takes {needs} in authenticationConfiguration; this one has "
            f"{', '.join(given) or 'none'}",
        )
    if kind == "IP":
        try:
            ipaddress.ip_network(config["AllowedIPRange"], strict=False)
        except ValueError:
            raise error(
                AUTH_PARAMS,
                f"AllowedIPRange {config['AllowedIPRange']!r} is not a CIDR range; write it like "
                "192.0.2.0/24 or 2001:db8::/32",
            ) from None


def _check_filters(rules: list[dict[str, Any]], configuration: dict[str, str]) -> None:
    if len(rules) > MAX_FILTERS:
        raise error(
            "LimitExceededException",
            f"a webhook can have at most {MAX_FILTERS} filters, this one has {len(rules)}",
        )
    for index, rule in enumerate(rules, start=1):
        try:
            jsonfilters.compile_path(rule["jsonPath"])
            if rule.get("matchEquals") is not None:
                jsonfilters.resolve(rule["matchEquals"], configuration)
        except jsonfilters.FilterError as exc:
            raise error(FILTER_PATTERN, f"filters[{index}]: {exc}") from None
