"""AWS's wire protocols: JSON 1.1 and Smithy RPC v2 CBOR, one set of handlers behind both.

JSON 1.1 (and 1.0) is ``POST /`` with ``X-Amz-Target: <prefix>.<Operation>``;
the prefix may itself hold dots (CodeStar Connections'
``com.amazonaws.codestar.connections.CodeStar_connections_20191201``), so the
operation is what follows the last one. A JSON 1.0 request gets its answer as
``application/x-amz-json-1.0``, as botocore expects. RPC v2 CBOR is
``POST /service/<prefix>/operation/<Operation>`` with
``smithy-protocol: rpc-v2-cbor`` and CBOR bodies; botocore speaks it to the
services whose model lists it first (CodeBuild and CodeConnections, in recent
releases), with the model's ``targetPrefix`` as ``<prefix>``. One
dispatcher serves every AWS service stageline speaks by target prefix. Each
operation is a plain function ``(params) -> response``; the dispatcher
validates ``params`` against the service model first and shapes the response
to the output shape after. A CBOR request is turned into the JSON form first
(timestamps as epoch seconds, blobs as base64), so handlers see one form.
"""

from __future__ import annotations

import base64
import contextvars
import datetime as dt
import inspect
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cbor2
from botocore.model import OperationModel
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from stageline.api import shapes
from stageline.errors import (
    ApiError,
    InternalError,
    RequestTooLarge,
    SerializationError,
    UnknownOperation,
)

log = logging.getLogger("stageline.api")

CONTENT_TYPE = "application/x-amz-json-1.1"
JSON_10_CONTENT_TYPE = "application/x-amz-json-1.0"
CBOR_CONTENT_TYPE = "application/cbor"
Handler = Callable[[dict[str, Any]], Any]

# The request being handled, for handlers that read stageline's extension headers
# (long polling, an agent's region), and headers a handler adds to its response.
REQUEST: contextvars.ContextVar[Request] = contextvars.ContextVar("stageline_request")
RESPONSE_HEADERS: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar(
    "stageline_response_headers"
)


def request_header(name: str) -> str | None:
    try:
        return REQUEST.get().headers.get(name)
    except LookupError:
        return None


@dataclass
class ServiceEndpoint:
    """The operations of one AWS service, keyed by operation name."""

    service_name: str  # botocore's name, e.g. "codepipeline"
    target_prefix: str  # e.g. "CodePipeline_20150709"
    handlers: dict[str, Handler] = field(default_factory=dict)

    def operation_model(self, name: str) -> OperationModel:
        return shapes.service_model(self.service_name).operation_model(name)


class Dispatcher:
    def __init__(self, *, max_body_bytes: int) -> None:
        self.max_body_bytes = max_body_bytes
        self.endpoints: dict[str, ServiceEndpoint] = {}

    def add(self, endpoint: ServiceEndpoint) -> None:
        self.endpoints[endpoint.target_prefix] = endpoint

    async def handle(self, request: Request) -> Response:
        """JSON 1.1 or 1.0: ``POST /`` with ``X-Amz-Target``."""
        request_id = str(uuid.uuid4())
        content_type = _json_content_type(request)
        try:
            body = await self._read_body(request)
            endpoint, operation = self._resolve(request.headers.get("x-amz-target", ""))
            params = _parse_json(body)
            payload, extra_headers = await self._call(request, endpoint, operation, params)
            response = _json_response(payload, 200, request_id, content_type)
            response.headers.update(extra_headers)
            return response
        except ApiError as exc:
            return _error_response(exc, request_id, content_type)
        except Exception:
            log.exception("request %s failed", request_id)
            return _error_response(_internal(request_id), request_id, content_type)

    async def handle_cbor(self, request: Request) -> Response:
        """Smithy RPC v2 CBOR: ``POST /service/<prefix>/operation/<Operation>``."""
        request_id = str(uuid.uuid4())
        try:
            body = await self._read_body(request)
            endpoint, operation = self._lookup(
                request.path_params["service"], request.path_params["operation"]
            )
            params = _parse_cbor(body)
            payload, extra_headers = await self._call(request, endpoint, operation, params)
            model = endpoint.operation_model(operation)
            response = _cbor_response(_to_cbor(model.output_shape, payload), 200, request_id)
            response.headers.update(extra_headers)
            return response
        except ApiError as exc:
            return _cbor_error_response(exc, request_id)
        except Exception:
            log.exception("request %s failed", request_id)
            return _cbor_error_response(_internal(request_id), request_id)

    async def _call(
        self, request: Request, endpoint: ServiceEndpoint, operation: str, params: Any
    ) -> tuple[Any, dict[str, str]]:
        model = endpoint.operation_model(operation)
        shapes.check_input(model, params)
        handler = endpoint.handlers[operation]
        REQUEST.set(request)
        extra_headers: dict[str, str] = {}
        RESPONSE_HEADERS.set(extra_headers)
        if inspect.iscoroutinefunction(handler):
            result = await handler(params)
        else:
            result = await run_in_threadpool(handler, params)
        return shapes.shape_output(model.output_shape, result or {}), extra_headers

    async def _read_body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise self._too_large(int(declared))
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body_bytes:
                raise self._too_large(size)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, size: int) -> RequestTooLarge:
        return RequestTooLarge(
            f"request body of {size} bytes or more is over the limit of {self.max_body_bytes} "
            "bytes; send a smaller request"
        )

    def _resolve(self, target: str) -> tuple[ServiceEndpoint, str]:
        """An ``X-Amz-Target``'s endpoint and operation; prefixes may hold dots, operations not."""
        prefix, _, operation = target.rpartition(".")
        if prefix not in self.endpoints or not operation:
            known = ", ".join(sorted(self.endpoints))
            raise UnknownOperation(
                f"X-Amz-Target '{target}' names no service here; expected '<prefix>.<Operation>' "
                f"with prefix one of: {known}"
            )
        return self._lookup(prefix, operation)

    def _lookup(self, prefix: str, operation: str) -> tuple[ServiceEndpoint, str]:
        endpoint = self.endpoints.get(prefix)
        if endpoint is None:
            known = ", ".join(sorted(self.endpoints))
            raise UnknownOperation(
                f"service '{prefix}' is not served here; it must be one of: {known}"
            )
        if operation not in endpoint.handlers:
            raise UnknownOperation(
                f"operation '{operation}' is not supported by {endpoint.target_prefix}"
            )
        return endpoint, operation


def _parse_json(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SerializationError(f"the request body is not valid JSON: {exc}") from exc


def _internal(request_id: str) -> InternalError:
    return InternalError(f"internal error; the server log has the details (request {request_id})")


def _parse_cbor(body: bytes) -> Any:
    if not body:
        return {}
    try:
        return _cbor_to_json_form(cbor2.loads(body))
    except (cbor2.CBORDecodeError, ValueError, TypeError) as exc:
        raise SerializationError(f"the request body is not valid CBOR: {exc}") from exc


def _cbor_to_json_form(value: Any) -> Any:
    """CBOR's native values in the form the JSON protocol gives handlers."""
    if isinstance(value, dict):
        return {str(k): _cbor_to_json_form(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cbor_to_json_form(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _to_cbor(shape: Any, value: Any) -> Any:
    """A shaped (JSON-form) response with timestamps tagged and blobs as bytes, for CBOR."""
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        return {k: _to_cbor(shape.members.get(k), v) for k, v in value.items()}
    if kind == "list":
        return [_to_cbor(shape.member, v) for v in value]
    if kind == "map":
        return {k: _to_cbor(shape.value, v) for k, v in value.items()}
    if kind == "timestamp" and isinstance(value, int | float):
        return cbor2.CBORTag(1, float(value))
    if kind == "blob" and isinstance(value, str):
        return base64.b64decode(value)
    return value


def _cbor_response(payload: Any, status: int, request_id: str) -> Response:
    return Response(
        cbor2.dumps(payload),
        status_code=status,
        media_type=CBOR_CONTENT_TYPE,
        headers={"x-amzn-RequestId": request_id, "smithy-protocol": "rpc-v2-cbor"},
    )


def _cbor_error_response(exc: ApiError, request_id: str) -> Response:
    return _cbor_response({"__type": exc.code, "message": exc.message}, exc.status, request_id)


def _json_content_type(request: Request) -> str:
    """JSON 1.0 for a client that spoke it (its model says jsonVersion 1.0), else 1.1."""
    sent = request.headers.get("content-type", "")
    return JSON_10_CONTENT_TYPE if sent.startswith(JSON_10_CONTENT_TYPE) else CONTENT_TYPE


def _json_response(
    payload: Any, status: int, request_id: str, content_type: str = CONTENT_TYPE
) -> Response:
    return Response(
        json.dumps(payload, separators=(",", ":")),
        status_code=status,
        media_type=content_type,
        headers={"x-amzn-RequestId": request_id},
    )


def _error_response(exc: ApiError, request_id: str, content_type: str = CONTENT_TYPE) -> Response:
    response = _json_response(
        {"__type": exc.code, "message": exc.message}, exc.status, request_id, content_type
    )
    response.headers["x-amzn-ErrorType"] = exc.code
    return response
