"""The intrinsic functions that compute a value: Fn::Sub, Fn::Join, Fn::Select, ...

Each handler takes the resolver, the function's argument and the path of the
node that calls it, and returns the value with the path it came from (the
node itself, or for ``Fn::Select`` / ``Fn::FindInMap`` the element chosen,
which may still hold intrinsics for the resolver to evaluate). The rules and
error cases are CloudFormation's, from its intrinsic function reference.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stageline.ascode.model import (
    NO_VALUE,
    DefinitionError,
    child,
    describe,
    hint_for,
    item,
    suggest,
)
from stageline.ascode.parameters import scalar_text
from stageline.ascode.synthetic import hinted_value

if TYPE_CHECKING:
    from stageline.ascode.intrinsics import Resolver

MAX_STRING = 1_000_000
_VARIABLE = re.compile(r"\$\{([^}]*)\}")

Handler = Callable[["Resolver", Any, str], tuple[Any, str]]


def _args(arg: Any, path: str, fn: str, counts: tuple[int, ...], shape: str) -> list[Any]:
    if not isinstance(arg, list) or len(arg) not in counts:
        raise DefinitionError(path, f"{fn} takes {shape}, found {describe(arg)}")
    return arg


def _capped(text: str, path: str) -> str:
    if len(text) > MAX_STRING:
        raise DefinitionError(path, f"the value would be longer than {MAX_STRING:,} characters")
    return text


def _grow(r: Resolver, length: int, added: int, path: str) -> int:
    """Check a string being built before it is: its own cap and the resolver's budget."""
    if length + added > MAX_STRING:
        raise DefinitionError(path, f"the value would be longer than {MAX_STRING:,} characters")
    r.spend(added, path)
    return length + added


def _json_size(value: Any, path: str, limit: int) -> int:
    """A lower bound of the JSON text's length, computed without building it.

    Enough to refuse a value that repeats one long string many times before
    ``json.dumps`` materializes it; the exact length is checked afterwards.
    """
    total = 0
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            total += 2 + 4 * len(current) + sum(len(str(k)) for k in current)
            stack.extend(current.values())
        elif isinstance(current, list):
            total += 2 + len(current)
            stack.extend(current)
        else:
            total += len(current) + 2 if isinstance(current, str) else 1
        if total > limit:
            raise DefinitionError(path, f"the value would be longer than {limit:,} characters")
    return total


def _sub(r: Resolver, arg: Any, path: str) -> tuple[Any, str]:
    here = child(path, "Fn::Sub")
    variables: dict[str, str] = {}
    if isinstance(arg, str):
        template = arg
    else:
        pair = _args(arg, here, "Fn::Sub", (2,), "a string or [String, {Var: Value}]")
        template = r.string(pair[0], item(here, 0), "the string of Fn::Sub")
        mapping, map_path = r.shallow(pair[1], item(here, 1))
        if not isinstance(mapping, dict):
            raise DefinitionError(
                map_path, f"Fn::Sub variables must be a mapping, found {describe(mapping)}"
            )
        for key, value in mapping.items():
            variables[str(key)] = r.string(value, child(map_path, key), f"Fn::Sub variable '{key}'")

    length = _grow(r, 0, len(template), path)

    def replace(match: re.Match[str]) -> str:
        nonlocal length
        text = _variable(r, match.group(1), variables, path)
        length = _grow(r, length, len(text), path)
        return text

    return _VARIABLE.sub(replace, template), path


def _variable(r: Resolver, name: str, variables: dict[str, str], path: str) -> str:
    """The text for one ``${...}`` of Fn::Sub."""
    if name.startswith("!"):
        return "${" + name[1:] + "}"
    if name in variables:
        return variables[name]
    how = f"${{{name}}} in Fn::Sub"
    head, _, attribute = name.partition(".")
    if attribute and head not in r.parameters:
        return r.getatt(head, attribute, path, how, hint=None)
    value = r.ref(name, path, how)
    text = scalar_text(value)
    if text is None:
        raise DefinitionError(path, f"{how} is {describe(value)}, not a string")
    return text


def _join(r: Resolver, arg: Any, path: str) -> tuple[Any, str]:
    here = child(path, "Fn::Join")
    pair = _args(arg, here, "Fn::Join", (2,), "[Delimiter, [Values]]")
    delimiter = r.string(pair[0], item(here, 0), "the delimiter of Fn::Join")
    values, values_path = r.shallow(pair[1], item(here, 1))
    if not isinstance(values, list):
        raise DefinitionError(
            values_path, f"Fn::Join needs a list of values, found {describe(values)}"
        )
    parts: list[str] = []
    length = 0
    for index, value in enumerate(values):
        resolved = r.deep(value, item(values_path, index))
        if resolved is NO_VALUE:
            continue
        text = scalar_text(resolved)
        if text is None:
            raise DefinitionError(
                item(values_path, index),
                f"Fn::Join values must be strings, found {describe(resolved)}",
            )
        length = _grow(r, length, len(text) + (len(delimiter) if parts else 0), path)
        parts.append(text)
    return delimiter.join(parts), path


def _select(r: Resolver, arg: Any, path: str) -> tuple[Any, str]:
    here = child(path, "Fn::Select")
    pair = _args(arg, here, "Fn::Select", (2,), "[Index, [Values]]")
    index_text = r.string(pair[0], item(here, 0), "the index of Fn::Select")
    if not index_text.isdigit():
        raise DefinitionError(
            item(here, 0), f"Fn::Select index must be a whole number, found {index_text!r}"
        )
    index = int(index_text)
    values, values_path = r.shallow(pair[1], item(here, 1))
    if not isinstance(values, list):
        raise DefinitionError(values_path, f"Fn::Select needs a list, found {describe(values)}")
    if index >= len(values):
        raise DefinitionError(
            here, f"Fn::Select index {index} is out of range: the list has {len(values)} item(s)"
        )
    return values[index], item(values_path, index)


def _split(r: Resolver, arg: Any, path: str) -> tuple[Any, str]:
    here = child(path, "Fn::Split")
    pair = _args(arg, here, "Fn::Split", (2,), "[Delimiter, String]")
    delimiter = r.string(pair[0], item(here, 0), "the delimiter of Fn::Split")
    if not delimiter:
        raise DefinitionError(item(here, 0), "the delimiter of Fn::Split must not be empty")
    source = r.string(pair[1], item(here, 1), "the string of Fn::Split")
    return source.split(delimiter), path


def _find_in_map(r: Resolver, arg: Any, path: str) -> tuple[Any, str]:
    here = child(path, "Fn::FindInMap")
    args = _args(
        arg,
        here,
        "Fn::FindInMap",
        (3, 4),
        "[MapName, TopLevelKey, SecondLevelKey] and optionally {DefaultValue: Value}",
    )
    keys = [r.string(a, item(here, i), "a key of Fn::FindInMap") for i, a in enumerate(args[:3])]
    default: tuple[Any, str] | None = None
    if len(args) == 4:
        option, option_path = r.shallow(args[3], item(here, 3))
        if not (isinstance(option, dict) and set(option) == {"DefaultValue"}):
            raise DefinitionError(
                option_path, "the fourth element of Fn::FindInMap must be {DefaultValue: Value}"
            )
        default = option["DefaultValue"], child(option_path, "DefaultValue")
    node: Any = r.mappings
    where = "Mappings"
    for depth, key in enumerate(keys):
        table = {str(k): v for k, v in node.items()} if isinstance(node, dict) else {}
        if key not in table:
            if default is not None:
                return default
            what = ("mapping", "top-level key", "second-level key")[depth]
            raise DefinitionError(
                here, f"Fn::FindInMap: {where} has no {what} '{key}'" + suggest(key, table)
            )
        node, where = table[key], child(where, key)
    return node, where


def _base64(r: Resolver, arg: Any, path: str) -> tuple[Any, str]:
    text = r.string(arg, child(path, "Fn::Base64"), "the argument of Fn::Base64")
    data = text.encode()
    _grow(r, 0, 4 * ((len(data) + 2) // 3), path)
    return base64.b64encode(data).decode("ascii"), path


def _get_azs(r: Resolver, arg: Any, path: str) -> tuple[Any, str]:
    region = r.string(arg, child(path, "Fn::GetAZs"), "the region of Fn::GetAZs") or r.ctx.region
    zones = [f"{region}{letter}" for letter in "abc"]
    r.note(
        path,
        f"Fn::GetAZs lists the Availability Zones of {region} as AWS sees them; "
        f"used {', '.join(zones)}",
    )
    return zones, path


def _import_value(r: Resolver, arg: Any, path: str) -> tuple[Any, str]:
    name = r.string(arg, child(path, "Fn::ImportValue"), "the export name of Fn::ImportValue")
    value = hinted_value(name, hint_for(path), r.ctx)
    r.note(
        path,
        f"Fn::ImportValue '{name}' is an export of another stack, which cannot be "
        f"read here; used {value}",
    )
    return value, path


def _cidr(r: Resolver, arg: Any, path: str) -> tuple[Any, str]:
    here = child(path, "Fn::Cidr")
    args = _args(arg, here, "Fn::Cidr", (3,), "[IpBlock, Count, CidrBits]")
    block = r.string(args[0], item(here, 0), "the IP block of Fn::Cidr")
    count = r.string(args[1], item(here, 1), "the count of Fn::Cidr")
    bits = r.string(args[2], item(here, 2), "the cidrBits of Fn::Cidr")
    try:
        network = ipaddress.ip_network(block, strict=False)
        count_n, bits_n = int(count), int(bits)
        prefix = network.max_prefixlen - bits_n
        if not 1 <= count_n <= 256 or prefix < network.prefixlen:
            raise ValueError("count must be 1-256 and the subnets must fit the block")
        subnets = []
        for subnet in network.subnets(new_prefix=prefix):
            subnets.append(str(subnet))
            if len(subnets) == count_n:
                break
    except ValueError as exc:
        raise DefinitionError(here, f"Fn::Cidr: {exc}") from None
    if len(subnets) < count_n:
        raise DefinitionError(
            here, f"Fn::Cidr: {block} holds only {len(subnets)} /{prefix} subnets"
        )
    return subnets, path


def _to_json_string(r: Resolver, arg: Any, path: str) -> tuple[Any, str]:
    value = r.deep(arg, child(path, "Fn::ToJsonString"))
    if not isinstance(value, dict | list):
        raise DefinitionError(
            path, f"Fn::ToJsonString takes a mapping or a list, found {describe(value)}"
        )
    _grow(r, 0, _json_size(value, path, MAX_STRING), path)
    return _capped(json.dumps(value, separators=(",", ":")), path), path


def _length(r: Resolver, arg: Any, path: str) -> tuple[Any, str]:
    value, value_path = r.shallow(arg, child(path, "Fn::Length"))
    if not isinstance(value, list):
        raise DefinitionError(value_path, f"Fn::Length takes a list, found {describe(value)}")
    return len(value), path


FUNCTIONS: dict[str, Handler] = {
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::FindInMap": _find_in_map,
    "Fn::Base64": _base64,
    "Fn::GetAZs": _get_azs,
    "Fn::ImportValue": _import_value,
    "Fn::Cidr": _cidr,
    "Fn::ToJsonString": _to_json_string,
    "Fn::Length": _length,
}
