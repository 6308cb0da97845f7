"""Errors a client sees, named as AWS names them (``__type``) with their HTTP status.

They are raised anywhere below the API (services, engine) because the AWS error
names are part of the domain vocabulary; only the API layer renders them.
"""

from __future__ import annotations


class ApiError(Exception):
    """An error a client sees: ``{"__type": code, "message": message}`` with ``status``."""

    code: str = "InternalFailure"
    status: int = 400

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}: {self.message})"


def error(code: str, message: str, status: int = 400) -> ApiError:
    """An ApiError with the given AWS error name (most errors need no class of their own)."""
    return ApiError(message, code=code, status=status)


class ValidationError(ApiError):
    code = "ValidationException"


class NotFound(ApiError):
    code = "ResourceNotFoundException"


class UnknownOperation(ApiError):
    code = "UnknownOperationException"


class SerializationError(ApiError):
    code = "SerializationException"


class RequestTooLarge(ApiError):
    code = "RequestEntityTooLargeException"
    status = 413


class InternalError(ApiError):
    code = "InternalFailure"
    status = 500
