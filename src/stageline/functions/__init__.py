"""Functions for Lambda invoke actions: registered locally, run as subprocesses by the agent.

A function is a directory of Python code plus a handler (``module.function``),
kept by :class:`FunctionStore` under the data directory and managed through
``/_stageline/functions`` (:mod:`stageline.functions.routes`) or
``stageline function``. The provider that runs them is
:mod:`stageline.providers.invoke.lambda_invoke`.
"""

from __future__ import annotations

from stageline.functions.code import MAX_CODE_BYTES, UnsafeCodeError
from stageline.functions.names import FunctionReference, InvalidFunctionError, parse_reference
from stageline.functions.store import (
    Function,
    FunctionExistsError,
    FunctionNotFoundError,
    FunctionStore,
)

__all__ = [
    "MAX_CODE_BYTES",
    "Function",
    "FunctionExistsError",
    "FunctionNotFoundError",
    "FunctionReference",
    "FunctionStore",
    "InvalidFunctionError",
    "UnsafeCodeError",
    "parse_reference",
]
