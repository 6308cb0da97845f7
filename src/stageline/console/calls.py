"""The console's writes: the API's own operations, validated exactly as ``POST /`` validates them.

A button in the console is a CodePipeline request made for the user. Going
through the same handlers (and the botocore model check in front of them)
means the console can refuse nothing the API accepts and accept nothing it
refuses, and its error messages are the API's, word for word.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stageline.api import codepipeline, executions
from stageline.api import shapes as api_shapes
from stageline.errors import ApiError

if TYPE_CHECKING:
    from stageline.api.app import Services


class ApiCalls:
    """Call a CodePipeline operation by name with wire-form parameters."""

    def __init__(self, services: Services) -> None:
        endpoint = codepipeline.build_endpoint(
            services.pipelines, services.tags, services.action_types
        )
        executions.register(endpoint, services.runtime)
        self._endpoint = endpoint

    def check(self, operation: str, params: dict[str, Any]) -> None:
        """Raise the API's ValidationException if ``params`` do not fit the operation's model."""
        api_shapes.check_input(self._endpoint.operation_model(operation), params)

    def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.check(operation, params)
        result = self._endpoint.handlers[operation](params)
        return dict(result or {})


def message_of(exc: ApiError) -> str:
    """How the console shows an API error: its AWS name, then its message."""
    return f"{exc.code}: {exc.message}"
