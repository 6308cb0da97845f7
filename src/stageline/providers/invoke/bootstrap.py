"""The runtime shim that runs inside a function's process: import the handler, call it once.

It plays the part of Lambda's Python runtime interface client. The provider
runs this file's source with ``python -c`` (so nothing of stageline is
imported into the function's process and no stageline module can shadow the
function's own) in the function's code directory, with arguments::

    HANDLER EVENT_FILE CONTROL_FD TIMEOUT_S REQUEST_ID FUNCTION_ARN

It reads the event (then deletes the file: it holds the job's credentials),
imports the handler's module, and reports on the control pipe, one JSON
object a line: ``{"phase": "invoke"}`` just before the call (the function's
timeout counts from here, as Lambda's does; module import is the init phase),
then ``{"phase": "returned"}`` or ``{"phase": "error", "errorType",
"errorMessage", "stackTrace"}`` with Lambda's error names
(``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound``, the exception's
class for an uncaught exception). The function's own output goes to stdout
and stderr untouched; errors are also printed there as Lambda prints them
(``[ERROR] Type: message`` and the traceback).

Only the standard library may be used here.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any, TextIO


class LambdaContext:
    """The handler's ``context``: the attributes and method Lambda's Python context has."""

    def __init__(self, *, request_id: str, function_arn: str, deadline: float) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = function_arn
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"function_name={self.function_name},function_version={self.function_version}])"
        )


def _send(control: TextIO, message: dict[str, Any]) -> None:
    control.write(json.dumps(message) + "\n")
    control.flush()


def _report(control: TextIO, error_type: str, message: str, frames: list[str]) -> int:
    sys.stdout.flush()
    print(f"[ERROR] {error_type}: {message}", file=sys.stderr)
    if frames:
        print("Traceback (most recent call last):", file=sys.stderr)
        for frame in frames:
            print(frame.rstrip("\n"), file=sys.stderr)
    sys.stderr.flush()
    _send(
        control,
        {"phase": "error", "errorType": error_type, "errorMessage": message, "stackTrace": frames},
    )
    return 1


def _frames(exc: BaseException, skip: int) -> list[str]:
    return traceback.format_list(traceback.extract_tb(exc.__traceback__)[skip:])


def main(argv: list[str]) -> int:
    handler, event_path, control_fd, timeout_s, request_id, function_arn = argv
    fd = int(control_fd)
    os.set_inheritable(fd, False)  # programs the function starts must not hold it open
    control = os.fdopen(fd, "w", encoding="utf-8")
    with open(event_path, encoding="utf-8") as f:
        event = json.load(f)
    os.unlink(event_path)
    module_path, _, function_name = handler.rpartition(".")
    module_name = module_path.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        return _report(
            control,
            "Runtime.ImportModuleError",
            f"Unable to import module '{module_name}': {exc}",
            _frames(exc, 1),
        )
    function = getattr(module, function_name, None)
    if not callable(function):
        return _report(
            control,
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
            [],
        )
    deadline = time.monotonic() + float(timeout_s)
    context = LambdaContext(request_id=request_id, function_arn=function_arn, deadline=deadline)
    _send(control, {"phase": "invoke"})
    try:
        function(event, context)
    except SystemExit as exc:
        return _report(
            control,
            "Runtime.ExitError",
            f"the handler called sys.exit({exc.code!r}) instead of returning",
            _frames(exc, 1),
        )
    except Exception as exc:
        return _report(control, type(exc).__name__, str(exc), _frames(exc, 1))
    sys.stdout.flush()
    sys.stderr.flush()
    _send(control, {"phase": "returned"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
