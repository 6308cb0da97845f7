"""Opaque pagination tokens: clients get back exactly what they must send next."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from stageline.errors import error


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
