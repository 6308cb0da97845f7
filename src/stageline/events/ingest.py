"""PutEvents: custom events written to the outbox, where the bus publishes them from.

Each entry stands alone, as on AWS: a bad one gets an ``ErrorCode`` in its place of the
answer and the others go through. Sources that start with ``aws.`` are AWS's own; an entry
that uses one is refused (``NotAuthorizedForSourceException``), so a rule matching
``aws.codecommit`` only ever sees real pushes. ``Detail`` must be a JSON object
(``MalformedDetail``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stageline.engine import events as outbox_events
from stageline.errors import error
from stageline.services.context import ServiceContext

MAX_REQUEST_BYTES = 256 * 1024


@dataclass(frozen=True)
class EntryResult:
    event_id: str | None = None
    code: str | None = None
    message: str | None = None


class _Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _size(entry: Mapping[str, Any]) -> int:
    """EventBridge's entry size: Time 14 bytes, and the UTF-8 length of the text members."""
    size = 14 if entry.get("Time") is not None else 0
    for member in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(member) or "").encode())
    size += sum(len(str(r).encode()) for r in entry.get("Resources") or [])
    return size


def _time_ms(value: Any, now_ms: int) -> int:
    if value is None:
        return now_ms
    if isinstance(value, int | float):
        return int(value * 1000)
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise _Refused(
            "InvalidArgument",
            f"Parameter Time is not valid: {value!r}; pass an RFC 3339 time or epoch seconds",
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp() * 1000)


def _event(ctx: ServiceContext, entry: Mapping[str, Any], bus: str, now_ms: int) -> dict[str, Any]:
    for member in ("Source", "DetailType", "Detail"):
        if not entry.get(member):
            raise _Refused(
                "InvalidArgument",
                f"Parameter {member} is not valid. Reason: {member} is a required argument.",
            )
    if entry.get("EventBusName") not in (None, "default", bus):
        raise _Refused(
            "InvalidArgument",
            f"Event bus {entry['EventBusName']} does not exist; stageline has one event bus, "
            "default: omit EventBusName",
        )
    source = str(entry["Source"])
    if source.lower().startswith("aws."):
        raise _Refused(
            "NotAuthorizedForSourceException",
            f"Not authorized for the source {source}: sources starting with aws. are reserved "
            "for AWS services; use your own, such as com.example.orders",
        )
    try:
        detail = json.loads(entry["Detail"])
    except ValueError:
        detail = None
    if not isinstance(detail, dict):
        raise _Refused(
            "MalformedDetail", 'Detail is malformed: it must be a JSON object, such as {"a": 1}'
        )
    return outbox_events.envelope(
        detail_type=str(entry["DetailType"]),
        source=source,
        account=ctx.account_id,
        region=ctx.region,
        resources=[str(r) for r in entry.get("Resources") or []],
        detail=detail,
        at_ms=_time_ms(entry.get("Time"), now_ms),
    )


def put_events(
    ctx: ServiceContext, entries: Sequence[Mapping[str, Any]], *, bus_arn: str
) -> list[EntryResult]:
    """Write the good entries to the outbox in one transaction; a result per entry, in order."""
    total = sum(_size(e) for e in entries)
    if total > MAX_REQUEST_BYTES:
        raise error(
            "ValidationException",
            f"Total size of the entries in the request is over the limit: {total} bytes of "
            f"{MAX_REQUEST_BYTES}; send fewer or smaller entries per PutEvents call",
        )
    now = ctx.clock.now_ms()
    results: list[EntryResult] = []
    accepted: list[dict[str, Any]] = []
    for entry in entries:
        try:
            event = _event(ctx, entry, bus_arn, now)
        except _Refused as exc:
            results.append(EntryResult(code=exc.code, message=exc.message))
            continue
        accepted.append(event)
        results.append(EntryResult(event_id=event["id"]))
    if accepted:
        with ctx.db.write() as conn:
            for event in accepted:
                outbox_events.write(conn, event, now)
    return results
