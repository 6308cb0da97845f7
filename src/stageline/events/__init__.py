"""The event bus's pure parts: EventBridge pattern matching and target input transformation.

A library with no I/O, so the bus, the API (``TestEventPattern``, ``PutRule`` and
``PutTargets`` validation) and the CLI share one implementation of EventBridge's rules.
"""

from stageline.events.patterns import (
    InvalidEventError,
    Pattern,
    PatternError,
    compile_pattern,
    test_event_pattern,
)
from stageline.events.transform import (
    ConstantInput,
    InputPath,
    InputTransformer,
    RuleContext,
    TargetInput,
    TransformError,
    WholeEvent,
    target_input,
)

__all__ = [
    "ConstantInput",
    "InputPath",
    "InputTransformer",
    "InvalidEventError",
    "Pattern",
    "PatternError",
    "RuleContext",
    "TargetInput",
    "TransformError",
    "WholeEvent",
    "compile_pattern",
    "target_input",
    "test_event_pattern",
]
