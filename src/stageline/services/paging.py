"""Opaque pagination tokens: clients get back exactly what they must send next."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any, TypeVar

from stageline.errors import ApiError, error

T = TypeVar("T")


def encode(kind: str, position: Any) -> str:
    raw = json.dumps({"k": kind, "p": position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(kind: str, token: str | None) -> Any:
    """The position stored in ``token``; InvalidNextTokenException if it is not one of ours."""
    if token is None:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(data, dict) or data.get("k") != kind:
            raise ValueError(kind)
        return data["p"]
    except (ValueError, KeyError, binascii.Error, UnicodeDecodeError) as exc:
        raise error(
            "InvalidNextTokenException",
            "The nextToken is not valid: pass the nextToken of the previous response unchanged, "
            "or omit it to start from the beginning",
        ) from exc


def offset_page(
    kind: str, items: Sequence[T], token: str | None, size: int, *, bad_token: str | None = None
) -> tuple[list[T], str | None]:
    """One page of ``items`` from ``token``'s position, and the token for the next page.

    A token that is not one of ours is InvalidNextTokenException, or the error
    name a service uses for it (``bad_token``: CodeCommit's
    InvalidContinuationTokenException, SSM's InvalidNextToken...).
    """
    try:
        start = int(decode(kind, token) or 0)
    except ApiError as exc:
        if bad_token is None:
            raise
        raise error(bad_token, exc.message) from None
    end = start + size
    return list(items[start:end]), encode(kind, end) if end < len(items) else None
