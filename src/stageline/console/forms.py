"""Reading the console's form posts (``application/x-www-form-urlencoded``), bounded in size.

The console's forms and its script both post URL-encoded bodies, so no
multipart parser is needed; a body over the limit is refused before parsing.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.datastructures import MultiDict
from starlette.requests import Request

MAX_FORM_BYTES = 6 * 1024 * 1024  # the API's own request limit: a whole pipeline fits


class FormError(ValueError):
    """A form body that cannot be read; the message says why."""


async def read_form(request: Request, limit: int = MAX_FORM_BYTES) -> MultiDict:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("", "application/x-www-form-urlencoded"):
        raise FormError(f"expected a URL-encoded form, got {kind!r}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise FormError(f"the form is larger than {limit} bytes")
        chunks.append(chunk)
    try:
        text = b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormError("the form is not UTF-8") from exc
    try:
        return MultiDict(parse_qsl(text, keep_blank_values=True, max_num_fields=20_000))
    except ValueError as exc:  # too many fields
        raise FormError(str(exc)) from exc
