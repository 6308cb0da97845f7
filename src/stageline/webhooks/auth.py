"""Who may call a webhook URL: a shared secret's signature, an address range, or anyone.

A secret is proved the way each git host proves it: GitHub signs the raw body
with HMAC-SHA256 in ``X-Hub-Signature-256: sha256=<hex>`` (and HMAC-SHA1 in
the older ``X-Hub-Signature: sha1=<hex>``), Bitbucket Cloud signs in
``X-Hub-Signature: sha256=<hex>``, and GitLab sends the secret itself in
``X-Gitlab-Token``. Every comparison is constant-time (``hmac.compare_digest``),
and no message here ever contains the secret or a signature, since refusals
are logged and recorded on the webhook.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Mapping

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
_DIGESTS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1}


class Refused(Exception):
    """A delivery that is not let in: ``status`` (401 or 403) and a short reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def verify_secret(secret: str, body: bytes, headers: Mapping[str, str]) -> str:
    """Check the delivery proves ``secret``; returns the header that did, raises Refused."""
    for name in ("X-Hub-Signature-256", "X-Hub-Signature"):
        given = _header(headers, name)
        if given is not None:
            _check_signature(secret, body, name, given)
            return name
    token = _header(headers, "X-Gitlab-Token")
    if token is not None:
        if not hmac.compare_digest(token.encode("utf-8"), secret.encode("utf-8")):
            raise Refused(401, "X-Gitlab-Token does not match the webhook's secret token")
        return "X-Gitlab-Token"
    raise Refused(
        401,
        "the delivery is not signed: configure the webhook's secret in the git host, which "
        "then sends X-Hub-Signature-256 (GitHub), X-Hub-Signature (Bitbucket) or "
        "X-Gitlab-Token (GitLab)",
    )


def _check_signature(secret: str, body: bytes, header: str, given: str) -> None:
    algorithm, _, digest = given.strip().partition("=")
    hasher = _DIGESTS.get(algorithm.lower())
    if hasher is None or not digest:
        raise Refused(401, f"{header} must read sha256=<hex digest> (or sha1= in X-Hub-Signature)")
    if header == "X-Hub-Signature-256" and hasher is not hashlib.sha256:
        raise Refused(401, f"{header} must be a sha256= digest")
    expected = hmac.new(secret.encode("utf-8"), body, hasher).hexdigest()
    if not hmac.compare_digest(expected.encode("ascii"), digest.strip().lower().encode("utf-8")):
        raise Refused(401, f"{header} does not match the webhook's secret token")


def sign(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub would send for ``body`` (tests and docs)."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def check_address(client: str | None, allowed: str) -> None:
    """Refuse (403) a caller whose address is not within the CIDR range ``allowed``."""
    try:
        network = ipaddress.ip_network(allowed, strict=False)
        address = ipaddress.ip_address(client or "")
    except ValueError:
        raise Refused(
            403, "the caller's address is not within the webhook's AllowedIPRange"
        ) from None
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    if mapped is not None and network.version == 4:
        address = mapped  # an IPv4 client on a dual-stack socket
    if address.version != network.version or address not in network:
        raise Refused(403, "the caller's address is not within the webhook's AllowedIPRange")


def is_loopback(client: str | None) -> bool:
    try:
        address = ipaddress.ip_address(client or "")
    except ValueError:
        return False
    return any(address.version == net.version and address in net for net in LOOPBACK)
