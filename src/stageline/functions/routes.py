"""``/_stageline/functions``: manage functions over HTTP, without the CLI.

stageline's own routes, beside the AWS protocol at ``POST /``: the CodePipeline
API has no operation for this, and Lambda's API is not ours to imitate
whole. Code travels as a base64 zip in the JSON body, as Lambda's
CreateFunction ``ZipFile`` does, with Lambda's quotas: 50 MB zipped, 250 MB
unzipped. The zip is unpacked with the artifact extractor, which refuses
paths and links that leave the directory.

* ``POST /_stageline/functions`` ``{name, handler, code, runtime?, environment?, timeout?}``
  -> 201 and the function
* ``GET /_stageline/functions`` -> ``{"functions": [...]}``
* ``GET /_stageline/functions/{name}`` -> the function
* ``PUT /_stageline/functions/{name}/code`` ``{code}`` -> the function, with its new code
* ``DELETE /_stageline/functions/{name}`` -> 204

Errors are ``{"error": <Lambda's exception name>, "message": ...}`` with 400,
404, 409 or 413.
"""

from __future__ import annotations

import base64
import binascii
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from stageline.artifacts import UnsafeArchiveError, extract_zip
from stageline.functions.code import MAX_CODE_BYTES, UnsafeCodeError
from stageline.functions.names import InvalidFunctionError
from stageline.functions.store import (
    Function,
    FunctionExistsError,
    FunctionNotFoundError,
    FunctionStore,
)

PREFIX = "/_stageline/functions"
#: Lambda's quota on a zip uploaded directly with the request (50 MB).
MAX_ZIP_BYTES = 50 * 1024 * 1024
# base64 grows the zip by a third; the other members are small.
MAX_BODY_BYTES = MAX_ZIP_BYTES * 4 // 3 + 64 * 1024
_CREATE_MEMBERS = frozenset({"name", "handler", "code", "runtime", "environment", "timeout"})


class _HttpError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def _guarded(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
    """Turn the store's exceptions into JSON errors with the status Lambda would use."""

    async def endpoint(request: Request) -> Response:
        try:
            result: Response = await handler(request)
            return result
        except _HttpError as exc:
            return _error(exc.status, exc.code, exc.message)
        except FunctionNotFoundError as exc:
            return _error(404, "ResourceNotFoundException", str(exc))
        except FunctionExistsError as exc:
            return _error(409, "ResourceConflictException", str(exc))
        except (InvalidFunctionError, UnsafeCodeError) as exc:
            return _error(400, "InvalidParameterValueException", str(exc))

    return endpoint


async def _json_body(request: Request) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _HttpError(413, "RequestTooLargeException", _too_large())
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise _HttpError(413, "RequestTooLargeException", _too_large())
    try:
        doc = json.loads(bytes(body))
    except ValueError as exc:
        raise _HttpError(
            400, "InvalidRequestContentException", f"the body is not JSON: {exc}"
        ) from None
    if not isinstance(doc, dict):
        raise _HttpError(400, "InvalidRequestContentException", "the body must be a JSON object")
    return doc


def _too_large() -> str:
    return (
        f"the request is larger than the {MAX_ZIP_BYTES // (1024 * 1024)} MiB a function's "
        "zipped code may take"
    )


def _decode_zip(value: object) -> bytes:
    if not isinstance(value, str) or not value:
        raise _HttpError(
            400, "InvalidParameterValueException", "'code' must be the function's zip, base64"
        )
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _HttpError(
            400, "InvalidParameterValueException", "'code' is not valid base64"
        ) from None
    if len(data) > MAX_ZIP_BYTES:
        raise _HttpError(413, "RequestTooLargeException", _too_large())
    return data


def _with_code(data: bytes, use: Callable[[Path], Function]) -> Function:
    """Unpack the zip into a private temporary directory and hand that to ``use``."""
    with tempfile.TemporaryDirectory(prefix="stageline-fn-") as tmp:
        archive = Path(tmp) / "code.zip"
        archive.write_bytes(data)
        code = Path(tmp) / "code"
        try:
            extract_zip(archive, code, max_total_bytes=MAX_CODE_BYTES)
        except UnsafeArchiveError as exc:
            raise _HttpError(400, "InvalidParameterValueException", f"code refused: {exc}") from exc
        archive.unlink()
        return use(code)


def function_routes(store: FunctionStore) -> list[BaseRoute]:
    """The routes to mount in the server's Starlette app."""

    async def create(request: Request) -> Response:
        doc = await _json_body(request)
        unknown = sorted(set(doc) - _CREATE_MEMBERS)
        if unknown:
            raise _HttpError(
                400,
                "InvalidParameterValueException",
                f"unknown member(s) {', '.join(unknown)}; "
                f"expected {', '.join(sorted(_CREATE_MEMBERS))}",
            )
        for member in ("name", "handler", "code"):
            if member not in doc:
                raise _HttpError(400, "InvalidParameterValueException", f"'{member}' is required")
        data = _decode_zip(doc["code"])
        kwargs: dict[str, Any] = {"handler": doc["handler"]}
        for member, parameter in (
            ("runtime", "runtime"),
            ("environment", "environment"),
            ("timeout", "timeout_s"),
        ):
            if doc.get(member) is not None:
                kwargs[parameter] = doc[member]
        name = doc["name"]
        if not isinstance(name, str):
            raise InvalidFunctionError(f"function name {name!r} must be a string")
        function = await run_in_threadpool(
            _with_code, data, lambda code: store.create(name, code_dir=code, **kwargs)
        )
        return JSONResponse(function.to_json(), status_code=201)

    async def list_functions(_request: Request) -> Response:
        functions = await run_in_threadpool(store.list)
        return JSONResponse({"functions": [f.to_json() for f in functions]})

    async def get(request: Request) -> Response:
        function = store.get(request.path_params["name"])
        return JSONResponse(function.to_json())

    async def update_code(request: Request) -> Response:
        name = request.path_params["name"]
        store.get(name)  # 404 before reading a large body
        doc = await _json_body(request)
        data = _decode_zip(doc.get("code"))
        function = await run_in_threadpool(
            _with_code, data, lambda code: store.update_code(name, code)
        )
        return JSONResponse(function.to_json())

    async def delete(request: Request) -> Response:
        await run_in_threadpool(store.delete, request.path_params["name"])
        return Response(status_code=204)

    return [
        Route(PREFIX, _guarded(create), methods=["POST"]),
        Route(PREFIX, _guarded(list_functions), methods=["GET"]),
        Route(PREFIX + "/{name}", _guarded(get), methods=["GET"]),
        Route(PREFIX + "/{name}", _guarded(delete), methods=["DELETE"]),
        Route(PREFIX + "/{name}/code", _guarded(update_code), methods=["PUT"]),
    ]
