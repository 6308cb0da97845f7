"""Rendering console pages: one Jinja environment, autoescaping everything, and its filters.

Every string a page shows may come from a user — pipeline and action names,
commit messages, summaries, approval comments, log lines — so autoescaping is
on for every template and no view marks user text as safe. Links built from
user data go through :func:`safe_url`, because escaping does not stop a
``javascript:`` URL in an ``href``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.responses import HTMLResponse

from stageline import __version__

# Status words as CSS classes: the colour and the icon of a badge.
_STATUS_CLASSES = {
    "InProgress": "running",
    "Stopping": "running",
    "Succeeded": "ok",
    "Failed": "failed",
    "Stopped": "stopped",
    "Abandoned": "stopped",
    "Cancelled": "stopped",
    "Superseded": "superseded",
    "Skipped": "superseded",
}


def status_class(status: str | None) -> str:
    return _STATUS_CLASSES.get(status or "", "idle")


def duration(ms: int | float | None) -> str:
    """``850 ms``, ``12 s``, ``3 min 4 s``, ``2 h 5 min``: how long something took."""
    if ms is None:
        return "—"
    ms = max(0, int(ms))
    if ms < 1000:
        return f"{ms} ms"
    seconds = ms // 1000
    if seconds < 60:
        return f"{ms / 1000:.1f} s" if seconds < 10 else f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} d {hours % 24} h"


def age(ms: int | None, now_ms: int | None = None) -> str:
    """``just now``, ``5 min ago``: how long ago an epoch-millisecond time was."""
    if ms is None:
        return "never"
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    gap = max(0, now_ms - ms) // 1000
    if gap < 5:
        return "just now"
    if gap < 60:
        return f"{gap} s ago"
    if gap < 3600:
        return f"{gap // 60} min ago"
    if gap < 86400:
        return f"{gap // 3600} h ago"
    return f"{gap // 86400} d ago"


def when(ms: int | None) -> str:
    """An epoch-millisecond time as ISO 8601 UTC, for ``<time datetime=...>`` and titles."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def clock(ms: int | None) -> str:
    """``2024-05-01 12:00:03 UTC``: a time for people."""
    if ms is None:
        return "—"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def safe_url(url: object) -> str | None:
    """``url`` if it is an absolute http(s) URL or a path on this server, else None.

    Revision URLs, ``ExternalEntityLink`` and execution URLs come from users and
    providers; anything else (``javascript:``, ``data:``) is shown as text instead.
    """
    if not isinstance(url, str) or not url or any(c in url for c in "\r\n\t"):
        return None
    if url.startswith("/") and not url.startswith("//"):
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url
    return None


def short(revision: str | None, length: int = 10) -> str:
    return (revision or "")[:length]


def first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


def segment(value: str) -> str:
    """One path segment of a console URL (names may hold ``@`` and ``.``)."""
    return quote(value, safe="@-_.~")


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("stageline.console", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(
        status_class=status_class,
        duration=duration,
        age=age,
        when=when,
        clock=clock,
        safe_url=safe_url,
        short=short,
        first_line=first_line,
        seg=segment,
    )
    env.globals.update(version=__version__)
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def page(template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(render(template, **context), status_code=status_code)
