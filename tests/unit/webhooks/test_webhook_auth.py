"""Signatures, tokens and address ranges: what lets a delivery in, and the reason when not."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from stageline.webhooks.auth import Refused, check_address, is_loopback, sign, verify_secret

SECRET = "s3cret-token"
BODY = b'{"ref":"refs/heads/main"}'


def hmac_hex(secret: str, body: bytes, algorithm: str) -> str:
    return hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()


@pytest.mark.parametrize(
    ("headers", "proved_by"),
    [
        ({"X-Hub-Signature-256": sign(SECRET, BODY)}, "X-Hub-Signature-256"),
        ({"x-hub-signature-256": sign(SECRET, BODY)}, "X-Hub-Signature-256"),
        ({"X-Hub-Signature": "sha1=" + hmac_hex(SECRET, BODY, "sha1")}, "X-Hub-Signature"),
        # Bitbucket Cloud signs with SHA-256 in X-Hub-Signature
        ({"X-Hub-Signature": "sha256=" + hmac_hex(SECRET, BODY, "sha256")}, "X-Hub-Signature"),
        ({"X-Gitlab-Token": SECRET}, "X-Gitlab-Token"),
    ],
)
def test_a_delivery_proving_the_secret_is_let_in(headers: dict[str, str], proved_by: str) -> None:
    assert verify_secret(SECRET, BODY, headers) == proved_by


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "the delivery is not signed"),
        ({"X-Hub-Signature-256": sign("other", BODY)}, "does not match"),
        ({"X-Hub-Signature-256": sign(SECRET, BODY + b" ")}, "does not match"),
        ({"X-Hub-Signature-256": "sha1=" + hmac_hex(SECRET, BODY, "sha1")}, "must be a sha256"),
        ({"X-Hub-Signature-256": "md5=abc"}, "must read sha256="),
        ({"X-Hub-Signature-256": "sha256="}, "must read sha256="),
        ({"X-Hub-Signature-256": "sha256=ünïcode"}, "does not match"),
        ({"X-Hub-Signature": "sha1=" + "0" * 40}, "does not match"),
        ({"X-Gitlab-Token": "guess"}, "X-Gitlab-Token does not match"),
        # a wrong GitHub signature is not rescued by a right GitLab token
        ({"X-Hub-Signature-256": sign("x", BODY), "X-Gitlab-Token": SECRET}, "does not match"),
    ],
)
def test_a_delivery_that_does_not_prove_it_is_refused_with_401(
    headers: dict[str, str], reason: str
) -> None:
    with pytest.raises(Refused) as refused:
        verify_secret(SECRET, BODY, headers)
    assert refused.value.status == 401
    assert reason in refused.value.reason
    assert SECRET not in refused.value.reason


@pytest.mark.parametrize(
    ("client", "allowed", "ok"),
    [
        ("192.0.2.10", "192.0.2.0/24", True),
        ("192.0.2.10", "192.0.2.10/32", True),
        ("198.51.100.1", "192.0.2.0/24", False),
        ("::ffff:192.0.2.10", "192.0.2.0/24", True),  # IPv4 client on a dual-stack socket
        ("2001:db8::1", "2001:db8::/32", True),
        ("2001:db9::1", "2001:db8::/32", False),
        ("2001:db8::1", "192.0.2.0/24", False),
        (None, "0.0.0.0/0", False),
        ("not-an-address", "0.0.0.0/0", False),
    ],
)
def test_address_ranges(client: str | None, allowed: str, ok: bool) -> None:
    if ok:
        check_address(client, allowed)
        return
    with pytest.raises(Refused) as refused:
        check_address(client, allowed)
    assert refused.value.status == 403


def test_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1")
    assert not is_loopback("10.0.0.1") and not is_loopback(None) and not is_loopback("x")
