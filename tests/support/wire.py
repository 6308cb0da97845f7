"""Checking every raw response a boto3 client receives against botocore's output shape."""

from __future__ import annotations

import json
from typing import Any

from stageline.api import shapes


class ResponseRecorder:
    """Hooks a boto3 client and records each raw JSON response and its shape violations."""

    def __init__(self, client: Any) -> None:
        self.calls: list[tuple[str, int, Any]] = []
        self.violations: list[str] = []
        client.meta.events.register("after-call", self._after_call)
        client.meta.events.register("after-call-error", self._after_error)

    def _after_call(self, http_response: Any, parsed: Any, model: Any, **_kw: Any) -> None:
        body = http_response.content
        payload = json.loads(body) if body else {}
        self.calls.append((model.name, http_response.status_code, payload))
        if http_response.status_code == 200 and model.output_shape is not None:
            for v in shapes.violations_of(model.output_shape, payload):
                self.violations.append(f"{model.name}: {v.render()}")
        elif http_response.status_code >= 400 and (
            set(payload) - {"__type", "message"} or "__type" not in payload
        ):
            self.violations.append(f"{model.name}: malformed error body {payload}")

    def _after_error(self, **_kw: Any) -> None:  # connection errors: nothing to check
        return None

    def operations(self) -> set[str]:
        return {name for name, _status, _payload in self.calls}
