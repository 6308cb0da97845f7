"""The AWS JSON 1.1 protocol: ``POST /`` with ``X-Amz-Target: <prefix>.<Operation>``.

One dispatcher serves every AWS service stageline speaks (CodePipeline now;
CodeBuild and EventBridge later) by target prefix. Each operation is a plain
function ``(params) -> response``; the dispatcher validates ``params`` against
the service model first and shapes the response to the output shape after.
"""

from __future__ import annotations

import contextvars
import inspect
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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
        request_id = str(uuid.uuid4())
        try:
            body = await self._read_body(request)
            endpoint, operation = self._resolve(request.headers.get("x-amz-target", ""))
            params = _parse_json(body)
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
            payload = shapes.shape_output(model.output_shape, result or {})
            response = _json_response(payload, 200, request_id)
            response.headers.update(extra_headers)
            return response
        except ApiError as exc:
            return _error_response(exc, request_id)
        except Exception:
            log.exception("request %s failed", request_id)
            return _error_response(
                InternalError(
                    f"internal error; the server log has the details (request {request_id})"
                ),
                request_id,
            )

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
        prefix, _, operation = target.partition(".")
        endpoint = self.endpoints.get(prefix)
        if endpoint is None or not operation:
            known = ", ".join(sorted(self.endpoints))
            raise UnknownOperation(
                f"X-Amz-Target '{target}' names no service here; expected '<prefix>.<Operation>' "
                f"with prefix one of: {known}"
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


def _json_response(payload: Any, status: int, request_id: str) -> Response:
    return Response(
        json.dumps(payload, separators=(",", ":")),
        status_code=status,
        media_type=CONTENT_TYPE,
        headers={"x-amzn-RequestId": request_id},
    )


def _error_response(exc: ApiError, request_id: str) -> Response:
    response = _json_response({"__type": exc.code, "message": exc.message}, exc.status, request_id)
    response.headers["x-amzn-ErrorType"] = exc.code
    return response
