"""EventBridge event patterns: validated as EventBridge validates them, compiled to closures.

Rules on the bus (DESIGN.md §3 "Events") hold patterns written for AWS - the seed's
CodeCommit rule, ``aws events put-rule --event-pattern file://rule.json`` - so a pattern
must be refused where EventBridge refuses it and must match the events EventBridge would
deliver. Sources: the EventBridge User Guide (event patterns, content filtering, comparison
operators, arrays, null values) and, where it is silent, aws/event-ruler, the matcher AWS
publishes for EventBridge.

Semantics (the subtle ones):

- A pattern is a JSON object; every leaf is a non-empty array of alternatives (OR) and
  all fields must match (AND). Fields the pattern does not name are ignored.
- An event field's *leaf values*: a scalar is one; an array contributes its scalar elements
  (nested arrays flattened); an object, an empty array, or a missing field contribute none.
  A leaf matches when any alternative matches any leaf value.
- A nested pattern object applied to an array of objects must be satisfied by one element
  (event-ruler's array-consistent matching): ``{"a": {"x": [1], "y": [2]}}`` does not match
  ``{"a": [{"x": 1}, {"y": 2}]}``.
- Strings compare exactly. Numbers compare numerically (``300`` matches ``300.0``); a number
  never matches a string (``[5]`` vs ``"5"``) and booleans are not numbers. ``null`` matches
  only ``null``, ``""`` only ``""``. A pattern string that is an IP address matches the same
  address however the event spells it.
- ``numeric`` matches JSON numbers between -5e9 and 5e9 only; numeric strings never match.
  Its bounds must lie in that range with at most 6 decimals (event-ruler's ComparableNumber;
  older guide pages say 1e9 - not confirmed which one AWS enforces today).
- ``exists: true`` needs at least one leaf value (``null`` counts); ``exists: false`` matches
  a missing field, and also an object or empty array, which have no leaf values.
- ``anything-but`` matches any present leaf value its inner test rejects, values of other types
  included (a number passes ``{"anything-but": "x"}``); it never matches a missing field.
- ``prefix``, ``suffix``, ``equals-ignore-case``, ``wildcard`` apply to strings only; ignoring
  case compares ``str.lower()`` forms. Wildcard: ``*`` is any run of characters, ``\\*`` a
  literal asterisk, ``\\\\`` a backslash; ``**`` and any other escape are refused.
- ``cidr`` keeps event-ruler's rules: IPv4 masks below 32, IPv6 below 128, and the range runs
  from the address given up to it with the host bits set.
- ``$or`` (at any object level) is an array of at least two objects matched against the same
  event object; operator names cannot be field names inside it.
- Dots in field names are ordinary characters. (event-ruler joins paths with dots and so
  conflates ``{"a.b": ..}`` with ``{"a": {"b": ..}}``; its README says not to rely on that.)
- Duplicate keys: the last one wins, as the guide documents. Patterns are at most 4096
  characters (botocore's EventPattern shape).
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = [
    "REQUIRED_EVENT_FIELDS",
    "InvalidEventError",
    "Pattern",
    "PatternError",
    "compile_pattern",
    "test_event_pattern",
]

MAX_PATTERN_LENGTH = 4096
NUMERIC_LIMIT = 5e9
NUMERIC_DECIMALS = 6
_OPERATOR_WORDS = "prefix suffix equals-ignore-case wildcard anything-but numeric exists cidr"
OPERATORS = tuple(_OPERATOR_WORDS.split())
# event-ruler's RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP: none may name a field inside $or.
_RESERVED_WORDS = (
    "exactly html = < <= > >= regex not-wildcard not-equals-ignore-case date-after date-before "
    "date-on-or-after date-on-or-before in-date-range ip-address-in-range ip-address-not-in-range"
)
_RESERVED_IN_OR = frozenset(OPERATORS) | frozenset(_RESERVED_WORDS.split())
REQUIRED_EVENT_FIELDS = ("id", "account", "source", "time", "region", "resources", "detail-type")
_ANYTHING_BUT_INNER = ("prefix", "suffix", "equals-ignore-case", "wildcard")
_IPV4 = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_IPV6 = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*")
_MISSING = object()
_EMPTY: dict[str, Any] = {}

Test = Callable[[Any], bool]  # one leaf value of the event
Check = Callable[[Mapping[str, Any]], bool]  # one event object


class PatternError(ValueError):
    """A pattern EventBridge would refuse (``InvalidEventPatternException``), naming where and why."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path
        self.problem = problem


class InvalidEventError(ValueError):
    """An event TestEventPattern refuses: not a JSON object, or without the envelope fields."""


@dataclass(frozen=True, eq=False)
class Pattern:
    """A validated event pattern; ``matches`` runs closures built once, never re-parsing."""

    definition: dict[str, Any]
    _check: Check = field(repr=False)

    def matches(self, event: Mapping[str, Any]) -> bool:
        return isinstance(event, dict) and self._check(event)


def compile_pattern(pattern: str | Mapping[str, Any]) -> Pattern:
    """Validate ``pattern`` (JSON text or parsed) and compile it; raise PatternError if invalid."""
    if isinstance(pattern, str):
        text = pattern
        try:
            parsed = json.loads(pattern, parse_constant=_refuse_constant)
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno} column {exc.colno}"
            raise PatternError(
                "", f"the event pattern is not valid JSON: {exc.msg} ({where})"
            ) from None
    else:
        parsed = pattern
        text = json.dumps(pattern, separators=(",", ":"), ensure_ascii=False, default=str)
    if len(text) > MAX_PATTERN_LENGTH:
        limit = f"EventBridge accepts at most {MAX_PATTERN_LENGTH}"
        raise PatternError("", f"the event pattern is {len(text)} characters; {limit}")
    if not isinstance(parsed, dict):
        raise PatternError(
            "", 'a pattern must be a JSON object, as in {"source": ["aws.codecommit"]}'
        )
    return Pattern(dict(parsed), _object(parsed, "", in_or=False))


def test_event_pattern(event_json: str, pattern_json: str) -> bool:
    """TestEventPattern: whether the event matches, after checking the event's envelope fields."""
    pattern = compile_pattern(pattern_json)
    try:
        event = json.loads(event_json)
    except json.JSONDecodeError as exc:
        raise InvalidEventError(
            f"the event is not valid JSON: {exc.msg} (line {exc.lineno})"
        ) from None
    if not isinstance(event, dict):
        raise InvalidEventError("the event must be a JSON object")
    missing = [name for name in REQUIRED_EVENT_FIELDS if name not in event]
    if missing:
        raise InvalidEventError(
            "the event lacks the field(s) TestEventPattern requires: "
            + ", ".join(missing)
            + f" (every event needs {', '.join(REQUIRED_EVENT_FIELDS)})"
        )
    if not isinstance(event["resources"], list):
        raise InvalidEventError('the event\'s "resources" must be an array, as in "resources": []')
    return pattern.matches(event)


def _refuse_constant(name: str) -> Any:
    raise PatternError("", f"{name} is not a JSON number; use a finite number")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _j(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# -- objects, fields, $or ------------------------------------------------------------------


def _object(obj: Mapping[str, Any], path: str, *, in_or: bool) -> Check:
    if not obj:
        raise PatternError(path, "an empty object is not allowed; name at least one field in it")
    checks: list[Check] = []
    for key, value in obj.items():
        if key == "$or":
            checks.append(_or(value, _join(path, key), in_or=in_or))
            continue
        if in_or and key in _RESERVED_IN_OR:
            problem = f"{_j(key)} is an operator name and cannot be a field name inside $or"
            raise PatternError(_join(path, key), problem)
        if isinstance(value, dict):
            checks.append(_nested(key, _object(value, _join(path, key), in_or=in_or)))
        elif isinstance(value, list):
            checks.append(_leaf(key, value, _join(path, key)))
        else:
            raise PatternError(
                _join(path, key),
                f"a pattern's values must be arrays, as in {{{_j(key)}: [{_j(value)}]}}",
            )
    return _all(checks)


def _all(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]
    frozen = tuple(checks)

    def check(obj: Mapping[str, Any]) -> bool:
        for one in frozen:  # noqa: SIM110 - a plain loop beats all() over a generator here
            if not one(obj):
                return False
        return True

    return check


def _or(branches: Any, path: str, *, in_or: bool) -> Check:
    example = '"$or": [{"source": ["a"]}, {"detail-type": ["b"]}]'
    if not isinstance(branches, list) or len(branches) < 2:
        raise PatternError(path, f"$or takes an array of at least two objects, as in {example}")
    checks = []
    for i, branch in enumerate(branches):
        if not isinstance(branch, dict):
            raise PatternError(f"{path}[{i}]", f"each item of $or is an object, as in {example}")
        checks.append(_object(branch, f"{path}[{i}]", in_or=True))
    frozen = tuple(checks)
    return lambda obj: any(one(obj) for one in frozen)


def _nested(key: str, sub: Check) -> Check:
    """A nested pattern object: the event's object, or one element of an array of objects."""

    def check(obj: Mapping[str, Any]) -> bool:
        value = obj.get(key)
        if type(value) is dict:
            return sub(value)
        if type(value) is list:
            objects = [item for item in _flatten(value) if type(item) is dict]
            if objects:
                return any(sub(item) for item in objects)
        return sub(_EMPTY)

    return check


def _flatten(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in values:
        if type(item) is list:
            out.extend(_flatten(item))
        else:
            out.append(item)
    return out


def _leaf(key: str, alternatives: list[Any], path: str) -> Check:
    if not alternatives:
        raise PatternError(
            path, f'an empty array is not allowed; list a value: {{{_j(key)}: ["x"]}}'
        )
    tests, want_present, want_absent = _alternatives(alternatives, path)
    only = tests[0] if len(tests) == 1 else None

    def check(obj: Mapping[str, Any]) -> bool:
        value = obj.get(key, _MISSING)
        kind = type(value)
        if kind is list:
            leaves = [item for item in _flatten(value) if type(item) is not dict]
            if not leaves:
                return want_absent
            return want_present or any(test(item) for item in leaves for test in tests)
        if value is _MISSING or kind is dict:
            return want_absent
        if want_present:
            return True
        if only is not None:
            return only(value)
        return any(test(value) for test in tests)

    return check


# -- the values of one leaf array ---------------------------------------------------------


def _alternatives(alternatives: list[Any], path: str) -> tuple[tuple[Test, ...], bool, bool]:
    strings: set[str] = set()
    numbers: set[float] = set()
    literals: set[Any] = set()  # True, False, None
    ips: set[tuple[int, int]] = set()
    tests: list[Test] = []
    want_present = want_absent = False
    for i, item in enumerate(alternatives):
        where = f"{path}[{i}]"
        if isinstance(item, str):
            strings.add(item)
            address = _ip(item) if _IPV4.fullmatch(item) or _IPV6.fullmatch(item) else None
            if address is not None:
                ips.add(address)
        elif item is None or isinstance(item, bool):
            literals.add(item)
        elif isinstance(item, int | float):
            numbers.add(item)
        elif isinstance(item, dict):
            if item.keys() == {"exists"}:
                if not isinstance(item["exists"], bool):
                    raise PatternError(where, 'exists takes true or false, as in {"exists": true}')
                want_present |= item["exists"]
                want_absent |= not item["exists"]
            else:
                tests.append(_operator(item, where))
        else:
            problem = "an array in a pattern holds strings, numbers, true, false, null or operators"
            raise PatternError(where, f'{problem} such as {{"prefix": "us-"}}, not arrays')
    if strings or numbers or literals:
        tests.insert(
            0, _exact(frozenset(strings), frozenset(numbers), frozenset(literals), frozenset(ips))
        )
    return tuple(tests), want_present, want_absent


def _exact(
    strings: frozenset[str],
    numbers: frozenset[float],
    literals: frozenset[Any],
    ips: frozenset[tuple[int, int]],
) -> Test:
    def test(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            if value in strings:
                return True
            return bool(ips) and _ip(value) in ips
        if kind is int or kind is float:
            return value in numbers  # hashing makes 300 == 300.0 a set hit
        return (kind is bool or value is None) and value in literals

    return test


@functools.lru_cache(maxsize=4096)
def _ip(text: str) -> tuple[int, int] | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return address.version, int(address)


def _operator(expr: dict[str, Any], path: str) -> Test:
    if len(expr) != 1:
        keys = ", ".join(map(_j, expr)) or "none"
        problem = f'an operator object holds one operator, as in {{"prefix": "us-"}}, not {keys}'
        raise PatternError(path, f"{problem}; give each operator its own array item")
    [(name, arg)] = expr.items()
    if name in ("prefix", "suffix"):
        return _affix(name, arg, path)
    if name == "equals-ignore-case":
        lowered = _string(name, arg, path).lower()
        return lambda v: type(v) is str and v.lower() == lowered
    if name == "wildcard":
        regex = _wildcard(_string(name, arg, path), path)
        return lambda v: type(v) is str and regex.fullmatch(v) is not None
    if name == "numeric":
        return _numeric(arg, path)
    if name == "cidr":
        return _cidr(arg, path)
    if name == "anything-but":
        return _anything_but(arg, path)
    hint = difflib.get_close_matches(name, OPERATORS, n=1)
    suggestion = f"; did you mean {_j(hint[0])}?" if hint else ""
    raise PatternError(path, f"unknown operator {_j(name)}{suggestion} ({', '.join(OPERATORS)})")


def _string(name: str, arg: Any, path: str) -> str:
    if not isinstance(arg, str):
        raise PatternError(path, f'{name} takes a string, as in {{"{name}": "x"}}, not {_j(arg)}')
    return arg


def _affix(name: str, arg: Any, path: str) -> Test:
    ignore_case = isinstance(arg, dict)
    if ignore_case and arg.keys() != {"equals-ignore-case"}:
        raise PatternError(path, f'{name} accepts only {{"equals-ignore-case": "..."}} inside it')
    text = _string(name, arg["equals-ignore-case"] if ignore_case else arg, path)
    if ignore_case:
        low = text.lower()
        if name == "prefix":
            return lambda v: type(v) is str and v.lower().startswith(low)
        return lambda v: type(v) is str and v.lower().endswith(low)
    if name == "prefix":
        return lambda v: type(v) is str and v.startswith(text)
    return lambda v: type(v) is str and v.endswith(text)


def _wildcard(text: str, path: str) -> re.Pattern[str]:
    pieces: list[str] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "*":
            if text.startswith("**", i):
                problem = f"wildcard {_j(text)} has consecutive * at position {i}"
                raise PatternError(path, f"{problem}; one * already matches any run")
            pieces += [re.escape("".join(literal)), ".*"]
            literal = []
        elif char == "\\":
            if text[i + 1 : i + 2] not in ("*", "\\"):
                problem = f"wildcard {_j(text)} has an invalid escape at position {i}"
                raise PatternError(path, f"{problem}; only \\* and \\\\ are escapes")
            literal.append(text[i + 1])
            i += 1
        else:
            literal.append(char)
        i += 1
    pieces.append(re.escape("".join(literal)))
    return re.compile("".join(pieces), re.DOTALL)


def _number(arg: Any, path: str, what: str) -> float:
    if isinstance(arg, bool) or not isinstance(arg, int | float) or not math.isfinite(arg):
        raise PatternError(path, f"{what} must be a number, not {_j(arg)}")
    if not -NUMERIC_LIMIT <= arg <= NUMERIC_LIMIT:
        raise PatternError(path, f"{what} {arg} is outside -5e9..5e9, the range EventBridge allows")
    exponent = Decimal(repr(arg)).normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -NUMERIC_DECIMALS:
        raise PatternError(path, f"{what} {arg} has more than {NUMERIC_DECIMALS} decimals")
    return float(arg)


def _numeric(arg: Any, path: str) -> Test:
    example = '{"numeric": [">", 0, "<=", 5]}'
    if not isinstance(arg, list) or len(arg) not in (2, 4) or not isinstance(arg[0], str):
        raise PatternError(path, f"numeric takes an operator and a number, or a range: {example}")
    op = arg[0]
    if op not in ("=", "<", "<=", ">", ">="):
        raise PatternError(path, f"unknown numeric operator {_j(op)}; use =, <, <=, > or >=")
    value = _number(arg[1], path, f"the value after {op!r}")
    if len(arg) == 4 and op not in (">", ">="):
        raise PatternError(path, f"a numeric range goes from > or >= to < or <=, as in {example}")
    if op == "=":
        return lambda v: (type(v) is int or type(v) is float) and v == value
    low, low_open, high, high_open = -math.inf, False, math.inf, False
    if op[0] == "<":
        high, high_open = value, op == "<"
    else:
        low, low_open = value, op == ">"
    if len(arg) == 4:
        if arg[2] not in ("<", "<="):
            raise PatternError(
                path, f"a numeric range ends with < or <=, not {_j(arg[2])}: {example}"
            )
        high, high_open = _number(arg[3], path, f"the value after {arg[2]!r}"), arg[2] == "<"
        if low >= high:
            raise PatternError(
                path, f"numeric range {_j(arg)} is empty: its lower bound is not lower"
            )

    def test(v: Any) -> bool:
        if (
            type(v) is not int and type(v) is not float
        ) or not -NUMERIC_LIMIT <= v <= NUMERIC_LIMIT:
            return False
        above = v > low if low_open else v >= low
        return above and (v < high if high_open else v <= high)

    return test


def _cidr(arg: Any, path: str) -> Test:
    text = _string("cidr", arg, path)
    base, _, bits = text.partition("/")
    if not bits or "/" in bits:
        raise PatternError(
            path, f'cidr {_j(text)} needs one "/" and a mask: {{"cidr": "10.0.0.0/24"}}'
        )
    address = _ip(base)
    if address is None or not bits.isdigit():
        raise PatternError(path, f"cidr {_j(text)} is not an IP address followed by /mask bits")
    version, number = address
    width = 32 if version == 4 else 128
    if int(bits) >= width:
        exactly = f"for one address, match it exactly: [{_j(base)}]"
        raise PatternError(path, f"IPv{version} mask bits must be < {width}; {exactly}")
    low, high = number, number | ((1 << (width - int(bits))) - 1)

    def test(v: Any) -> bool:
        found = _ip(v) if type(v) is str else None
        return found is not None and found[0] == version and low <= found[1] <= high

    return test


def _anything_but(arg: Any, path: str) -> Test:
    if isinstance(arg, dict):
        if len(arg) != 1 or next(iter(arg)) not in _ANYTHING_BUT_INNER:
            inner = ", ".join(_ANYTHING_BUT_INNER)
            raise PatternError(
                path, f"anything-but takes a value, a list, or one of {inner} inside"
            )
        [(name, inner)] = arg.items()
        values = inner if isinstance(inner, list) and inner else [inner]
        if not all(isinstance(value, str) for value in values):
            raise PatternError(path, f"anything-but {name} takes a string or a list of strings")
        if name in ("prefix", "suffix") and "" in values:
            raise PatternError(path, f"anything-but {name} cannot be empty")
        tests = [_operator({name: value}, path) for value in values]
        return lambda v: not any(test(v) for test in tests)
    values = arg if isinstance(arg, list) else [arg]
    if values and all(isinstance(value, str) for value in values):
        strings = frozenset(values)
        return lambda v: not (type(v) is str and v in strings)
    if values and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        numbers = frozenset(_number(value, path, "an anything-but number") for value in values)
        return lambda v: not ((type(v) is int or type(v) is float) and v in numbers)
    problem = "anything-but takes a string, a number, or a list of only strings or only numbers"
    raise PatternError(path, f'{problem}, as in {{"anything-but": ["stopped", "overloaded"]}}')
