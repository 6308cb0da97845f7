"""Loading a buildspec's YAML as hostile input.

A buildspec comes from the repository being built, so anyone who can push can
write one. We load it with PyYAML's safe loader (no Python objects), refuse
text over a size cap before parsing, refuse duplicate keys (YAML silently
keeps the last one, which hides mistakes), and count the nodes while turning
the document into plain dicts and lists, because aliases let a few hundred
bytes describe billions of nodes ("billion laughs").

Every scalar is loaded as a string: ``discard-paths: yes``, ``version: 0.2``
and a command ``- true`` must reach the validator as the text the user wrote,
not as YAML 1.1's booleans and floats, so each key decides how to read its
own value. Only ``~``/``null``/empty stay None.
"""

from __future__ import annotations

from typing import Any

import yaml

from stageline.builds.errors import BuildspecError

#: A buildspec larger than this is refused before it is parsed (real ones are a few KiB).
MAX_BUILDSPEC_BYTES = 512 * 1024
#: Nodes (scalars, list items, mapping entries) allowed after aliases are expanded.
MAX_NODES = 100_000

_NULL_TAG = "tag:yaml.org,2002:null"


class _Loader(yaml.SafeLoader):
    """SafeLoader that resolves no implicit types but null and refuses duplicate keys."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag == _NULL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> Any:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:  # an unhashable key (a list): let the validator name it
            continue
        if duplicate:
            mark = key_node.start_mark
            raise BuildspecError(
                [
                    f"line {mark.line + 1}: key {key!r} appears twice in the same mapping; "
                    "YAML would silently keep only the last one, so merge them"
                ]
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_document(text: str | bytes) -> Any:
    """Parse one YAML document into plain dicts, lists, strings and None.

    Raises :class:`BuildspecError` for text over the size cap, invalid YAML
    (with the line), several documents, duplicate keys, or a document that
    expands past :data:`MAX_NODES`.
    """
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if len(raw) > MAX_BUILDSPEC_BYTES:
        raise BuildspecError(
            [
                f"the buildspec is {len(raw)} bytes; the limit is {MAX_BUILDSPEC_BYTES} bytes "
                "(move long scripts into files in the source and call them from commands)"
            ]
        )
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BuildspecError(
            [f"the buildspec is not valid UTF-8 (byte {exc.start}); save it as UTF-8"]
        ) from None
    try:
        documents = list(yaml.load_all(decoded, Loader=_Loader))
    except BuildspecError:
        raise
    except yaml.MarkedYAMLError as exc:
        where = f"line {exc.problem_mark.line + 1}: " if exc.problem_mark else ""
        raise BuildspecError(
            [f"{where}the buildspec is not valid YAML ({exc.problem}); check the indentation"]
        ) from None
    except yaml.YAMLError as exc:
        raise BuildspecError([f"the buildspec is not valid YAML ({exc})"]) from None
    except RecursionError:
        raise BuildspecError(["the buildspec nests too deeply to be read"]) from None
    if len(documents) != 1:
        raise BuildspecError(
            [f"the buildspec holds {len(documents)} YAML documents; it must hold exactly one"]
        )
    budget = [MAX_NODES]
    try:
        return _plain(documents[0], budget)
    except RecursionError:
        raise BuildspecError(["the buildspec nests too deeply to be read"]) from None


def _plain(value: Any, budget: list[int]) -> Any:
    """Copy ``value`` into fresh containers, counting every node (aliases count each time)."""
    budget[0] -= 1
    if budget[0] < 0:
        raise BuildspecError(
            [
                f"the buildspec expands to more than {MAX_NODES} values (through YAML "
                "aliases?); write it out plainly"
            ]
        )
    if isinstance(value, dict):
        return {key: _plain(item, budget) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item, budget) for item in value]
    return value
