"""A safe YAML loader that reads CloudFormation templates as CloudFormation does.

CloudFormation YAML has short-form tags (``!Ref``, ``!Sub``, ``!GetAtt A.B``, ...)
that plain YAML loaders reject; each becomes the long form (``{"Ref": ...}``,
``{"Fn::Sub": ...}``) so the rest of the package sees one shape, as
CloudFormation itself does when it converts YAML to JSON. Three more
differences from ``yaml.safe_load``:

* dates stay strings: ``Version: 2012-10-17`` is the text CloudFormation keeps,
  not a ``datetime.date``;
* a key given twice in one mapping is an error (CloudFormation refuses the
  template; a silent "last one wins" would hide a mistake);
* input is hostile: nesting deeper than :data:`MAX_NESTING` is refused while
  scanning, and before constructing objects the loader counts the nodes the
  document would have with every alias expanded, refusing past
  :data:`MAX_EXPANDED_NODES` (the "billion laughs" attack) or an alias that
  contains itself.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner, ScannerError

from stageline.ascode.model import DefinitionError

MAX_EXPANDED_NODES = 1_000_000
MAX_NESTING = 100
_FAST_MAX_BRACKETS = 500
_FAST_MAX_INDICATORS = 5_000
_BLOCK_INDICATOR = re.compile(r"[-?](?=[ \t\r\n])")

#: Short-form tags and the long-form key each stands for.
SHORT_TAGS: dict[str, str] = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    "!GetAtt": "Fn::GetAtt",
    "!Sub": "Fn::Sub",
    "!If": "Fn::If",
    "!Join": "Fn::Join",
    "!Select": "Fn::Select",
    "!Split": "Fn::Split",
    "!FindInMap": "Fn::FindInMap",
    "!Equals": "Fn::Equals",
    "!Not": "Fn::Not",
    "!And": "Fn::And",
    "!Or": "Fn::Or",
    "!ImportValue": "Fn::ImportValue",
    "!Base64": "Fn::Base64",
    "!GetAZs": "Fn::GetAZs",
    "!Cidr": "Fn::Cidr",
    "!Transform": "Fn::Transform",
    # AWS::LanguageExtensions functions that are also written in short form.
    "!ToJsonString": "Fn::ToJsonString",
    "!Length": "Fn::Length",
}

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"


class _CfnConstructor(SafeConstructor):
    """SafeConstructor that checks the node graph first and refuses duplicate keys."""

    #: Where the document repeats content by alias or "<<" merge (CloudFormation refuses both).
    alias_note: str | None = None

    def construct_document(self, node: Node) -> Any:
        self.alias_note = _check_expanded_size(node)
        return super().construct_document(node)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            # Checked before merge keys ("<<") are flattened in: a key that
            # overrides a merged one is not a duplicate.
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == _MERGE:
                    continue
                key = self.construct_object(key_node, deep=deep)
                try:
                    duplicate = key in seen
                except TypeError:  # an unhashable key: the base class reports it
                    break
                if duplicate:
                    raise ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {key!r}",
                        key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _CfnResolver(Resolver):
    """YAML 1.1 scalars as CloudFormation reads them, except that dates stay text."""


_CfnResolver.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in Resolver.yaml_implicit_resolvers.items()
}


class _GuardedScanner(Reader, Scanner):
    """PyYAML's scanner, refusing nesting deeper than :data:`MAX_NESTING`.

    Both YAML scanners keep state per open flow collection and revisit all of
    it for every token, so ``[[[[...`` a million deep takes hours, and the
    composers recurse per level; the depth is capped while scanning, before
    either can happen.
    """

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        if self.flow_level >= MAX_NESTING:
            raise ScannerError(
                None, None, f"nested more than {MAX_NESTING} levels deep", self.get_mark()
            )
        super().fetch_flow_collection_start(TokenClass)

    def add_indent(self, column: int) -> bool:
        if len(self.indents) >= MAX_NESTING:
            raise ScannerError(
                None, None, f"nested more than {MAX_NESTING} levels deep", self.get_mark()
            )
        return super().add_indent(column)


class CfnYamlLoader(_GuardedScanner, Parser, Composer, _CfnConstructor, _CfnResolver):
    """``SafeLoader`` plus CloudFormation's tags and the guards in the module docstring."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _CfnConstructor.__init__(self)
        _CfnResolver.__init__(self)


try:
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _CLoader: type[Any] | None = None
else:

    class _CfnCLoader(CParser, _CfnConstructor, _CfnResolver):
        """The same loader on libyaml's parser, for documents that cannot nest deeply."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _CfnConstructor.__init__(self)
            _CfnResolver.__init__(self)

    _CLoader = _CfnCLoader


def _loader_for(text: str) -> type[Any]:
    """libyaml (several times faster) when the text cannot nest deeply, else the guarded one.

    libyaml cannot be stopped mid-scan. Nesting comes from flow brackets,
    block indicators ("- ", "? ") or indentation, and indentation alone costs
    the square of the depth in characters, so counting the first two bounds
    the depth (and libyaml's per-token work) from above.
    """
    if _CLoader is None:
        return CfnYamlLoader
    brackets = text.count("[") + text.count("{")
    indicators = len(_BLOCK_INDICATOR.findall(text))
    if brackets <= _FAST_MAX_BRACKETS and indicators <= _FAST_MAX_INDICATORS:
        return _CLoader
    return CfnYamlLoader


# Constructors take ``Any`` for the loader: the stubs only admit PyYAML's own loader classes.
def _construct_value(loader: Any, node: Node) -> Any:
    if isinstance(node, ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise ConstructorError(None, None, f"unexpected node {node.tag}", node.start_mark)


def _long_form(key: str) -> Any:
    def construct(loader: Any, node: Node) -> dict[str, Any]:
        return {key: _construct_value(loader, node)}

    return construct


def _construct_getatt(loader: Any, node: Node) -> dict[str, Any]:
    """``!GetAtt Res.Attr`` splits at the first dot (``Stack.Outputs.X`` keeps the rest)."""
    value = _construct_value(loader, node)
    if isinstance(value, str) and "." in value:
        resource, attribute = value.split(".", 1)
        return {"Fn::GetAtt": [resource, attribute]}
    return {"Fn::GetAtt": value}


for _tag, _key in SHORT_TAGS.items():
    _CfnConstructor.add_constructor(_tag, _long_form(_key))
_CfnConstructor.add_constructor("!GetAtt", _construct_getatt)


def _check_expanded_size(root: Node) -> str | None:
    """Count nodes as if every alias were expanded; refuse huge or self-containing ones.

    Returns where the document first repeats content by alias or merge key.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()
    repeats: list[str] = []

    def size(node: Node) -> int:
        key = id(node)
        if key in sizes:
            repeats.append(f"the anchor at line {node.start_mark.line + 1} is repeated by an alias")
            return sizes[key]
        if key in active:
            raise DefinitionError(
                "",
                f"YAML alias at line {node.start_mark.line + 1} contains itself; "
                "recursive documents are not accepted",
            )
        active.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            for child_node in node.value:
                total += size(child_node)
        elif isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE:
                    repeats.append(f"the merge key '<<' at line {key_node.start_mark.line + 1}")
                total += size(key_node) + size(value_node)
        active.discard(key)
        if total > MAX_EXPANDED_NODES:
            raise DefinitionError(
                "",
                f"the YAML document would expand to more than {MAX_EXPANDED_NODES:,} nodes "
                "(aliases repeat their anchor's contents); refusing to load it",
            )
        sizes[key] = total
        return total

    size(root)
    return repeats[0] if repeats else None


def load_yaml(text: str) -> Any:
    """Parse one YAML document; syntax errors become :class:`DefinitionError` with line/column."""
    return parse_yaml(text)[0]


def parse_yaml(text: str) -> tuple[Any, str | None]:
    """The document, and where it repeats content by alias or merge key, if it does.

    Aliases are fine in create-pipeline YAML (the AWS CLI reads them) but
    CloudFormation refuses them, so the caller decides once it knows the form.
    """
    loader = _loader_for(text)(text)
    try:
        return loader.get_single_data(), loader.alias_note
    except yaml.MarkedYAMLError as exc:
        raise DefinitionError("", _yaml_message(exc)) from None
    except yaml.YAMLError as exc:
        raise DefinitionError("", f"YAML error: {exc}") from None
    except RecursionError:
        raise DefinitionError("", "the YAML document is nested too deeply") from None
    finally:
        loader.dispose()


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = exc.problem or "invalid YAML"
    if problem.startswith("could not determine a constructor for the tag"):
        tag = problem.rsplit(" ", 1)[-1].strip("'")
        problem = f"unknown tag {tag}; CloudFormation short forms are " + ", ".join(SHORT_TAGS)
    context = f" ({exc.context})" if exc.context and exc.context_mark is not mark else ""
    return f"YAML error{where}: {problem}{context}"
