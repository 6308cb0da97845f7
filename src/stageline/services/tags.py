"""Tags on pipelines, custom action types and webhooks (TagResource and friends)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from stageline import arns
from stageline.definitions.catalog import ActionTypeKey
from stageline.errors import error
from stageline.services import paging
from stageline.services.context import ServiceContext
from stageline.store import action_types as action_type_store
from stageline.store import pipelines as pipeline_store
from stageline.store import tags as store
from stageline.webhooks import store as webhook_store

MAX_TAGS = 50
RESERVED_PREFIX = "aws:"


def check_new_tags(tags: Sequence[dict[str, Any]], existing: Sequence[tuple[str, str]]) -> None:
    """AWS's tag rules: no reserved ``aws:`` keys, no duplicates, at most 50 in all."""
    keys = [t["key"] for t in tags]
    for key in keys:
        if key.lower().startswith(RESERVED_PREFIX):
            raise error(
                "InvalidTagsException",
                f"tag key '{key}' uses the reserved prefix 'aws:'; choose a key without it",
            )
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise error(
            "InvalidTagsException",
            f"tag keys must be unique in one request; repeated: {', '.join(duplicates)}",
        )
    total = len({k for k, _ in existing} | set(keys))
    if total > MAX_TAGS:
        raise error(
            "TooManyTagsException",
            f"a resource can have at most {MAX_TAGS} tags; this request would leave {total}",
        )


class TagService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def _check_resource(self, conn: Connection, arn: str) -> None:
        parsed = arns.parse(arn)
        if parsed is None:
            raise error(
                "InvalidArnException",
                f"'{arn}' is not a CodePipeline ARN; expected "
                f"{self.ctx.arns.prefix}<pipeline-name>",
            )
        missing = error("ResourceNotFoundException", f"no resource with ARN '{arn}' exists")
        if parsed.region != self.ctx.region or parsed.account_id != self.ctx.account_id:
            raise missing
        if parsed.kind == "pipeline":
            if pipeline_store.get(conn, parsed.name) is None:
                raise missing
        elif parsed.kind == "actiontype":
            parts = parsed.name.split("/")
            if len(parts) != 4:
                raise error(
                    "InvalidArnException",
                    f"'{arn}' is not a valid action type ARN; expected "
                    f"{self.ctx.arns.prefix}actiontype:Custom/<category>/<provider>/<version>",
                )
            owner, category, provider, version = parts
            found = action_type_store.get(
                conn,
                ActionTypeKey(category=category, owner=owner, provider=provider, version=version),
            )
            if found is None or found.deleted:
                raise missing
        elif parsed.kind == "webhook":
            if webhook_store.get(conn, parsed.name) is None:
                raise missing
        else:
            raise missing

    def tag(self, arn: str, tags: list[dict[str, str]]) -> None:
        with self.ctx.db.write() as conn:
            self._check_resource(conn, arn)
            check_new_tags(tags, existing=store.list_tags(conn, arn))
            store.put_tags(conn, arn, [(t["key"], t.get("value", "")) for t in tags])

    def untag(self, arn: str, keys: list[str]) -> None:
        with self.ctx.db.write() as conn:
            self._check_resource(conn, arn)
            store.remove_tags(conn, arn, keys)

    def list(
        self, arn: str, *, next_token: str | None, max_results: int | None
    ) -> tuple[list[tuple[str, str]], str | None]:
        start = paging.decode("tags", next_token) or 0
        limit = max_results or MAX_TAGS
        with self.ctx.db.read() as conn:
            self._check_resource(conn, arn)
            items = store.list_tags(conn, arn)
        page = items[start : start + limit]
        token = paging.encode("tags", start + limit) if start + limit < len(items) else None
        return page, token
