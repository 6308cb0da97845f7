"""What keeps a browser that visits other sites from using the console against its user.

stageline has no authentication yet and listens on loopback only, so the
threats come through the user's own browser:

* **Cross-site requests.** Any page can post a form to ``127.0.0.1``. Every
  request that is not GET/HEAD must come from the console itself: the
  browser's ``Sec-Fetch-Site`` must say ``same-origin`` (or ``none``, typed by
  the user), and ``Origin`` must be this server's. A request with neither
  header is refused too: every browser the console supports sends ``Origin``
  on a POST.
* **DNS rebinding.** A hostile name can be re-pointed at 127.0.0.1, making
  its pages same-origin with the console. The ``Host`` header still carries
  the hostile name, so only loopback names and the server's own address are
  served.
* **Injection and framing.** Responses carry a Content-Security-Policy that
  allows only the console's own scripts and styles (no inline script), and
  refuse to be framed.

When the server gains authentication, the console sits behind it like every
other route; nothing here replaces it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


def is_loopback_host(hostname: str) -> bool:
    name = hostname.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _hostname(host_header: str) -> str:
    """``example.com`` from ``example.com:8787``, ``::1`` from ``[::1]:8787``."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def refusal(scope: Scope, server_hosts: Callable[[], set[str]]) -> str | None:
    """Why this request must not reach the console, or None when it may."""
    headers = Headers(scope=scope)
    host = headers.get("host", "")
    name = _hostname(host)
    if not (is_loopback_host(name) or name in server_hosts()):
        return (
            f"the console is not served under the name {name or '(none)'!r}; open it at the "
            "server's own address (e.g. http://127.0.0.1:8787/console/)"
        )
    if scope.get("method", "GET") in SAFE_METHODS:
        return None
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return f"cross-site request refused (Sec-Fetch-Site: {site}); use the console's own pages"
    origin = headers.get("origin")
    if origin is None:
        if site is None:
            return (
                "request refused: it carries neither Origin nor Sec-Fetch-Site, so it cannot be "
                "told apart from a cross-site request; use the console's own pages"
            )
        return None
    expected = f"{scope.get('scheme', 'http')}://{host}".lower()
    if origin.lower() != expected:
        return f"cross-site request refused (Origin {origin[:100]!r} is not {expected!r})"
    return None


class ConsoleGuard:
    """An ASGI app around the console's routes: refuses what :func:`refusal` names and adds
    the security headers to every response."""

    def __init__(self, app: ASGIApp, *, server_hosts: Callable[[], set[str]]) -> None:
        self.app = app
        self.server_hosts = server_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        reason = refusal(scope, self.server_hosts)
        if reason is not None:
            response = PlainTextResponse(reason + "\n", status_code=403)
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


def hosts_of(*urls: str | None) -> set[str]:
    """The hostnames of the given base URLs (the server's public address)."""
    out = set()
    for url in urls:
        if url:
            host = urlsplit(url).hostname
            if host:
                out.add(host.lower())
    return out
