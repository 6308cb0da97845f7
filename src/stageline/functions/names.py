"""What Lambda accepts as a function's name, handler, runtime, timeout and environment.

The rules are Lambda's own (CreateFunction's request syntax and quotas), so a
function set up here would be accepted by Lambda too, and a name that reaches
the file system can never be a path: 1 to 64 characters of ``[A-Za-z0-9_-]``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
# A pipeline's FunctionName may be a name, a name with a version or alias, a partial ARN
# (ACCOUNT:function:NAME) or a full ARN, each optionally with a qualifier, as Lambda's Invoke.
_REFERENCE_RE = re.compile(
    r"(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:|\d{12}:function:)?"
    r"(?P<name>[A-Za-z0-9_-]{1,64})"
    r"(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]{1,128}))?"
)
# Python's handler: a module path (dots or slashes) and the function in it.
HANDLER_RE = re.compile(r"[A-Za-z_]\w*(?:[./][A-Za-z_]\w*)*\.[A-Za-z_]\w*")
HANDLER_MAX = 128
RUNTIME_RE = re.compile(r"python3(?:\.\d{1,2})?")
ENV_NAME_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9_]+")
#: Lambda's quota on a function's environment variables: 4 KB in all.
ENV_MAX_BYTES = 4096
DEFAULT_TIMEOUT_S = 3
MAX_TIMEOUT_S = 900
DEFAULT_RUNTIME = "python3"
#: Variables Lambda sets itself and refuses in a function's configuration.
RESERVED_ENV = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        # stageline points the function's codepipeline client back at the server.
        "AWS_ENDPOINT_URL_CODEPIPELINE",
    }
)


class InvalidFunctionError(ValueError):
    """A value Lambda would refuse (InvalidParameterValueException); the message says the fix."""


@dataclass(frozen=True, kw_only=True)
class FunctionReference:
    """A pipeline's ``FunctionName`` taken apart."""

    name: str
    qualifier: str | None = None


def check_name(name: object) -> str:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        shown = repr(name)[:80]
        raise InvalidFunctionError(
            f"function name {shown} is not valid: use 1 to 64 letters, digits, '-' or '_'"
        )
    return name


def parse_reference(value: str) -> FunctionReference:
    """``name``, ``name:qualifier``, ``ACCOUNT:function:name`` or a function ARN -> its parts.

    The qualifier (a version or alias) is kept only to be reported: stageline
    keeps one version of each function, the one Lambda calls ``$LATEST``.
    """
    m = _REFERENCE_RE.fullmatch(value.strip())
    if not m:
        raise InvalidFunctionError(
            f"FunctionName {value[:140]!r} is neither a function name (1 to 64 letters, digits, "
            "'-' or '_') nor a function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)"
        )
    return FunctionReference(name=m.group("name"), qualifier=m.group("qualifier"))


def check_handler(handler: object) -> str:
    if (
        not isinstance(handler, str)
        or len(handler) > HANDLER_MAX
        or not HANDLER_RE.fullmatch(handler)
    ):
        raise InvalidFunctionError(
            f"handler {str(handler)[:140]!r} must be MODULE.FUNCTION (at most {HANDLER_MAX} "
            "characters), e.g. lambda_function.lambda_handler for lambda_handler() in "
            "lambda_function.py"
        )
    return handler


def check_runtime(runtime: object) -> str:
    if not isinstance(runtime, str) or not RUNTIME_RE.fullmatch(runtime):
        raise InvalidFunctionError(
            f"runtime {str(runtime)[:40]!r} is not supported: stageline runs Python functions "
            "(python3 or python3.N); they run on the server's own Python"
        )
    return runtime


def check_timeout(timeout: object) -> int:
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int)
        or not 1 <= timeout <= MAX_TIMEOUT_S
    ):
        raise InvalidFunctionError(
            f"timeout {timeout!r} must be a whole number of seconds from 1 to {MAX_TIMEOUT_S}, "
            "as Lambda's"
        )
    return timeout


def check_environment(environment: object) -> dict[str, str]:
    if environment is None:
        return {}
    if not isinstance(environment, Mapping):
        raise InvalidFunctionError("environment must be an object of NAME: value strings")
    result: dict[str, str] = {}
    for name, value in environment.items():
        if not isinstance(name, str) or not ENV_NAME_RE.fullmatch(name):
            raise InvalidFunctionError(
                f"environment variable name {str(name)[:80]!r} is not valid: start with a letter, "
                "then at least one letter, digit or '_'"
            )
        if not isinstance(value, str):
            raise InvalidFunctionError(f"environment variable {name} must be a string")
        result[name] = value
    reserved = sorted(set(result) & RESERVED_ENV)
    if reserved:
        raise InvalidFunctionError(
            "the environment holds reserved keys that Lambda sets itself: "
            f"{', '.join(reserved)}; remove them"
        )
    size = sum(len(k.encode()) + len(v.encode()) for k, v in result.items())
    if size > ENV_MAX_BYTES:
        raise InvalidFunctionError(
            f"environment variables take {size} bytes, more than Lambda's {ENV_MAX_BYTES}-byte quota"
        )
    return result
