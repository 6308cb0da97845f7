"""The console's guard: cross-site posts, rebinding names and the security headers."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from stageline.console.security import CSP, ConsoleGuard, hosts_of, refusal


def scope(method: str = "POST", **headers: str) -> dict[str, object]:
    return {
        "type": "http",
        "method": method,
        "scheme": "http",
        "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()],
    }


def no_hosts() -> set[str]:
    return set()


@pytest.mark.parametrize(
    "headers",
    [
        {"host": "127.0.0.1:8787", "origin": "http://127.0.0.1:8787"},
        {"host": "127.0.0.1:8787", "sec_fetch_site": "same-origin"},
        {
            "host": "localhost:8787",
            "origin": "http://localhost:8787",
            "sec_fetch_site": "same-origin",
        },
        {"host": "[::1]:8787", "origin": "http://[::1]:8787"},
        {"host": "127.0.0.1:8787", "sec_fetch_site": "none"},
    ],
)
def test_same_origin_posts_pass(headers: dict[str, str]) -> None:
    assert refusal(scope(**headers), no_hosts) is None


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"host": "127.0.0.1:8787", "origin": "http://evil.example"}, "Origin"),
        ({"host": "127.0.0.1:8787", "origin": "null"}, "Origin"),
        ({"host": "127.0.0.1:8787", "sec_fetch_site": "cross-site"}, "Sec-Fetch-Site"),
        ({"host": "127.0.0.1:8787", "sec_fetch_site": "same-site"}, "Sec-Fetch-Site"),
        ({"host": "127.0.0.1:8787"}, "neither Origin nor Sec-Fetch-Site"),
        ({"host": "127.0.0.1:8787", "origin": "http://127.0.0.1:9999"}, "Origin"),
        (
            {"host": "rebound.evil.example:8787", "origin": "http://rebound.evil.example:8787"},
            "name",
        ),
    ],
)
def test_cross_site_and_rebinding_requests_are_refused(
    headers: dict[str, str], reason: str
) -> None:
    found = refusal(scope(**headers), no_hosts)
    assert found is not None and reason in found


def test_reads_need_only_a_known_host() -> None:
    assert refusal(scope("GET", host="127.0.0.1:8787"), no_hosts) is None
    assert refusal(scope("GET", host="pipelines.internal:8787"), no_hosts) is not None
    known = hosts_of("http://pipelines.internal:8787", None)
    assert refusal(scope("GET", host="pipelines.internal:8787"), lambda: known) is None


def test_the_guard_refuses_and_adds_headers() -> None:
    async def ok(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    inner = Starlette(routes=[Route("/x", ok, methods=["GET", "POST"])])
    app = Starlette(routes=[Mount("/console", app=ConsoleGuard(inner, server_hosts=no_hosts))])

    async def requests() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8787") as c:
            return [
                await c.get("/console/x"),
                await c.post("/console/x", headers={"Origin": "http://evil.example"}),
                await c.post("/console/x", headers={"Origin": "http://127.0.0.1:8787"}),
                await c.get("/console/x", headers={"Host": "attacker.example"}),
            ]

    page, forged, same, rebound = asyncio.run(requests())
    assert page.text == "ok"
    assert page.headers["content-security-policy"] == CSP
    assert page.headers["x-frame-options"] == "DENY"
    assert forged.status_code == 403 and "cross-site" in forged.text
    assert forged.headers["x-content-type-options"] == "nosniff"
    assert same.text == "ok"
    assert rebound.status_code == 403
