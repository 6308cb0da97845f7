"""Putting webhooks and the trigger router together for a server process.

One place that says what each collaborator is: the router reads every
pipeline's current declaration from the database, starts executions through
``start`` (the server passes ``changes.starts.start_recorded``, which also records
the commit for polling) and asks ``changed_files`` (the source
providers') for the files of a commit range a payload did not list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from stageline.services.context import ServiceContext
from stageline.store import pipelines as pipeline_store
from stageline.triggers.router import ChangedFiles, TriggerRouter
from stageline.webhooks.service import WebhookService


def _unknown_files(*_args: Any) -> None:
    return None


@dataclass(frozen=True, kw_only=True)
class Webhooks:
    service: WebhookService
    router: TriggerRouter


def build(
    ctx: ServiceContext,
    *,
    start: Callable[..., str],
    server_url: Callable[[], str],
    changed_files: ChangedFiles = _unknown_files,
) -> Webhooks:
    """The webhook service and the trigger router of one server process."""

    def pipelines() -> list[tuple[str, Mapping[str, Any]]]:
        with ctx.db.read() as conn:
            return list(pipeline_store.current_declarations(conn))

    return Webhooks(
        service=WebhookService(ctx, start=start, server_url=server_url),
        router=TriggerRouter(list_pipelines=pipelines, start=start, changed_files=changed_files),
    )
