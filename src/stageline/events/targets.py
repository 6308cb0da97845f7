"""Where a rule's events go: a ``Deliverer`` per kind of target Arn.

stageline delivers to what a machine without AWS has: an HTTP endpoint (the Arn is an
``http://`` or ``https://`` URL, a stageline extension), a local program (``command:...``)
and, added by the server, a pipeline (``arn:aws:codepipeline:...``). A deliverer reports a
failure by raising :class:`DeliveryFailed`, saying whether trying again could help; the bus
owns retries and the dead-letter queue.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

import httpx

log = logging.getLogger("stageline.events")

HTTP_TIMEOUT_S = 5.0
COMMAND_TIMEOUT_S = 60.0
STDERR_LINES = 5
COMMAND_PREFIX = "command:"


class DeliveryFailed(Exception):
    """A delivery that did not happen; ``retryable`` False sends it straight to the DLQ."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """One event for one target, as a deliverer sees it."""

    id: int
    event_id: str
    rule_name: str
    rule_arn: str
    target_id: str
    target_arn: str
    input: str  # the text the target receives (the event, or its Input/InputTransformer)
    attempts: int  # this attempt included
    # The PutTargets Target as given (HttpParameters, RetryPolicy...); empty once removed.
    target: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Deliverer(Protocol):
    """Delivers to the target Arns it ``handles``; raises DeliveryFailed when it cannot.

    An optional ``kind`` attribute (e.g. ``"command:PROGRAM ARGS"``) is how error messages
    name the Arns it takes.
    """

    def handles(self, arn: str) -> bool: ...

    def deliver(self, delivery: Delivery) -> None: ...


def kind_of(deliverer: Deliverer) -> str:
    return str(getattr(deliverer, "kind", type(deliverer).__name__))


def find(deliverers: Sequence[Deliverer], arn: str) -> Deliverer | None:
    return next((d for d in deliverers if d.handles(arn)), None)


def unsupported(deliverers: Sequence[Deliverer], arn: str) -> str:
    """Why ``arn`` cannot be a target here, naming the kinds that can."""
    kinds = ", ".join(kind_of(d) for d in deliverers)
    return f"stageline cannot deliver to target Arn {arn!r}; use one of: {kinds}"


def _safe_url(url: str) -> str:
    """The URL without its query string or user info, which may hold tokens."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class HttpDeliverer:
    """POSTs the input as JSON to the target's URL (``HttpParameters`` headers and query
    strings added). 2xx is delivered; connection errors, timeouts, 429 and 5xx are worth
    retrying; any other answer is final. Header values are never logged or reported."""

    kind = "http(s)://HOST/PATH"

    def __init__(
        self, *, timeout_s: float = HTTP_TIMEOUT_S, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._client = httpx.Client(timeout=timeout_s, transport=transport, follow_redirects=False)

    def handles(self, arn: str) -> bool:
        if not arn.startswith(("http://", "https://")):
            return False
        try:
            url = httpx.URL(arn)
        except (httpx.InvalidURL, ValueError):
            return False
        return bool(url.host) and (url.port is None or 0 < url.port < 65536)

    def deliver(self, delivery: Delivery) -> None:
        params = delivery.target.get("HttpParameters") or {}
        headers = {"content-type": "application/json"}
        headers.update({str(k): str(v) for k, v in (params.get("HeaderParameters") or {}).items()})
        query = {str(k): str(v) for k, v in (params.get("QueryStringParameters") or {}).items()}
        where = _safe_url(delivery.target_arn)
        try:
            url = httpx.URL(delivery.target_arn)  # the Arn's own query string is kept
            response = self._client.post(
                url.copy_merge_params(query) if query else url,
                content=delivery.input.encode(),
                headers=headers,
            )
        except httpx.TimeoutException:
            raise DeliveryFailed(f"POST {where} timed out", retryable=True) from None
        except httpx.InvalidURL as exc:
            raise DeliveryFailed(f"{where} is not a usable URL: {exc}", retryable=False) from None
        except httpx.HTTPError as exc:
            reason = type(exc).__name__
            raise DeliveryFailed(f"POST {where} failed: {reason}: {exc}", retryable=True) from None
        status = response.status_code
        if 200 <= status < 300:
            return
        body = response.text[:200].strip()
        retryable = status == 429 or status >= 500
        raise DeliveryFailed(
            f"POST {where} answered HTTP {status}" + (f": {body}" if body else ""),
            retryable=retryable,
        )

    def close(self) -> None:
        self._client.close()


class CommandDeliverer:
    """Runs ``command:PROGRAM ARGS`` (split as a shell would, but run without one) with the
    input on stdin. Exit status 0 is delivered; anything else is retried, with the end of
    stderr as the error."""

    kind = "command:PROGRAM ARGS"

    def __init__(self, *, timeout_s: float = COMMAND_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s

    @staticmethod
    def argv(arn: str) -> list[str] | None:
        """The program and its arguments, or None if the Arn is not a usable command."""
        if not arn.startswith(COMMAND_PREFIX):
            return None
        try:
            words = shlex.split(arn[len(COMMAND_PREFIX) :])
        except ValueError:
            return None
        return words or None

    def handles(self, arn: str) -> bool:
        return self.argv(arn) is not None

    def deliver(self, delivery: Delivery) -> None:
        argv = self.argv(delivery.target_arn)
        if argv is None:
            raise DeliveryFailed(
                f"{delivery.target_arn!r} names no program; write command:PROGRAM ARGS",
                retryable=False,
            )
        try:
            done = subprocess.run(
                argv,
                input=delivery.input.encode(),
                capture_output=True,
                timeout=self.timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise DeliveryFailed(
                f"{argv[0]} did not finish within {self.timeout_s:g} s", retryable=True
            ) from None
        except OSError as exc:
            raise DeliveryFailed(f"cannot run {argv[0]}: {exc.strerror}", retryable=True) from None
        if done.returncode == 0:
            return
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-STDERR_LINES:]
        said = "; stderr: " + " | ".join(tail) if tail else ""
        raise DeliveryFailed(
            f"{argv[0]} exited with status {done.returncode}{said}", retryable=True
        )
