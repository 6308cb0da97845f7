"""The webhook URLs over HTTP: bounded bodies, the caller's address, status codes and replies."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from stageline.api.webhooks import webhook_routes
from stageline.arns import Arns
from stageline.clock import ManualClock
from stageline.services.context import ServiceContext
from stageline.services.pipelines import PipelineService
from stageline.store import migrate
from stageline.store.db import Database
from stageline.triggers.router import TriggerRouter
from stageline.webhooks.auth import sign
from stageline.webhooks.service import WebhookService
from tests.support.declarations import pipeline
from tests.unit.triggers import samples

SECRET = "route-secret"


class Site:
    def __init__(self, tmp: Path) -> None:
        self.db = Database(f"sqlite:///{tmp / 'routes.db'}")
        migrate.upgrade(self.db)
        ctx = ServiceContext(
            db=self.db,
            clock=ManualClock(),
            arns=Arns(region="us-east-1", account_id="123456789012"),
        )
        PipelineService(ctx).create(pipeline("app"), [])
        self.starts: list[str] = []

        def start(name: str, **_kw: Any) -> str:
            self.starts.append(name)
            return "exec-1"

        self.webhooks = WebhookService(ctx, start=start, server_url=lambda: "http://testserver")
        router = TriggerRouter(
            list_pipelines=lambda: [], start=start, changed_files=lambda *_: None
        )
        self.app = Starlette(routes=webhook_routes(self.webhooks, router, max_body_bytes=4096))

    def post(
        self, path: str, body: bytes, headers: dict[str, str], client: str = "192.0.2.5"
    ) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, client=(client, 4321))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                return await c.post(path, content=body, headers=headers)

        return asyncio.run(go())


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = Site(tmp_path)
    yield s
    s.db.dispose()


def test_a_signed_push_over_http(site: Site) -> None:
    view = site.webhooks.put(
        {
            "name": "hook",
            "targetPipeline": "app",
            "targetAction": "Source",
            "filters": [{"jsonPath": "$.ref", "matchEquals": "refs/heads/{BranchName}"}],
            "authentication": "GITHUB_HMAC",
            "authenticationConfiguration": {"SecretToken": SECRET},
        },
        [],
    )
    path = view.url.removeprefix("http://testserver")
    body = json.dumps(samples.github_push(files={"modified": ["a"]})).encode()
    headers = {"X-GitHub-Event": "push", "Content-Type": "application/json"}
    ok = site.post(path, body, {**headers, "X-Hub-Signature-256": sign(SECRET, body)})
    assert ok.status_code == 200
    assert ok.json() == {"message": "started pipeline app", "pipelineExecutionIds": ["exec-1"]}
    bad = site.post(path, body, {**headers, "X-Hub-Signature-256": sign("nope", body)})
    assert bad.status_code == 401 and "does not match" in bad.json()["message"]
    assert site.starts == ["app"]


def test_bodies_past_the_limit_are_refused_before_they_are_read(site: Site) -> None:
    big = b"{" + b" " * 5000 + b"}"
    response = site.post("/webhooks/anything", big, {"X-GitHub-Event": "push"})
    assert response.status_code == 413
    assert "larger than 4096 bytes" in response.json()["message"]


def test_unknown_webhook_urls_are_404(site: Site) -> None:
    assert site.post("/webhooks/nope", b"{}", {}).status_code == 404


def test_the_connection_url_sees_the_callers_address(site: Site) -> None:
    body = json.dumps(samples.github_push()).encode()
    path = "/webhooks/connections/abc-123"
    remote = site.post(path, body, {"X-GitHub-Event": "push"}, client="192.0.2.9")
    assert remote.status_code == 403
    local = site.post(path, body, {"X-GitHub-Event": "push"}, client="127.0.0.1")
    assert local.status_code == 200 and local.json()["message"].startswith("no pipeline started")
