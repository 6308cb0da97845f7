"""stageline's EventBridge-compatible event bus.

``patterns`` and ``transform`` are the pure parts, EventBridge's pattern matching and
target input transformation, with no I/O, so the bus, the API (``TestEventPattern``,
``PutRule`` and ``PutTargets`` validation) and the CLI share one implementation; they
are what this package exports. The bus itself: ``store`` (rules and targets),
``rules`` (the API's rule operations), ``publish`` (the outbox to deliveries),
``deliveries`` and ``courier`` (at-least-once delivery, retries, the dead-letter
queue), ``targets`` (HTTP and command targets), ``schedules`` and ``bus``, which
runs them in one background thread.
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
