"""XML parsing that refuses what makes untrusted XML dangerous.

``defusedxml`` is not a stageline dependency, so this module does its job on
top of expat directly: entity declarations (billion laughs, XXE) and DTD
internal subsets are refused, parameter entities and external DTDs are never
read, and element count and depth are capped. A bare ``<!DOCTYPE ...>`` naming
an external DTD is allowed, because JaCoCo writes one in every report; the DTD
itself is never fetched.

Namespaces are dropped from tag and attribute names: every format read here
uses at most one default namespace (TRX), and local names keep the parsers
simple.
"""

from __future__ import annotations

from collections.abc import Collection
from xml.etree.ElementTree import Element, TreeBuilder
from xml.parsers import expat

from stageline.reports.errors import MalformedReport, ReportTooLarge, UnsafeReport
from stageline.reports.model import Limits

_SNIFF_BYTES = 64 * 1024


def _local(name: str) -> str:
    return name.rsplit(" ", 1)[-1]


def _hardened_parser(label: str) -> expat.XMLParserType:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def doctype(name: str, system_id: str | None, public_id: str | None, internal: int) -> None:
        if internal:
            raise UnsafeReport(
                label,
                f"has a <!DOCTYPE {name} [...]> internal subset, where XML entities are"
                " declared; refused as unsafe (XXE, entity expansion)",
            )

    def entity(name: str, is_parameter: int, *_rest: object) -> None:
        raise UnsafeReport(
            label, f"declares the XML entity {name!r}; entity declarations are refused as unsafe"
        )

    def unparsed(name: str, *_rest: object) -> None:
        raise UnsafeReport(label, f"declares the unparsed entity {name!r}; refused as unsafe")

    def external(
        _context: str, _base: str | None, system_id: str | None, _public: str | None
    ) -> int:
        raise UnsafeReport(label, f"refers to the external entity {system_id!r}; refused as unsafe")

    def skipped(name: str, is_parameter: int) -> None:
        raise UnsafeReport(label, f"refers to the undeclared entity {name!r}; refused as unsafe")

    parser.StartDoctypeDeclHandler = doctype
    parser.SkippedEntityHandler = skipped
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = unparsed
    parser.ExternalEntityRefHandler = external
    return parser


def parse_xml(
    label: str, data: bytes, limits: Limits, *, skip_text: Collection[str] = ()
) -> Element:
    """The document's root element, namespaces stripped.

    Text inside elements named in ``skip_text`` (captured stdout, for example)
    is dropped while parsing, since no parser reads it and it can be most of
    the file.
    """
    parser = _hardened_parser(label)
    builder = TreeBuilder()
    depth = 0
    elements = 0
    skipping = 0

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal depth, elements, skipping
        depth += 1
        elements += 1
        if depth > limits.max_depth:
            raise ReportTooLarge(label, f"nests elements deeper than {limits.max_depth} levels")
        if elements > limits.max_elements:
            raise ReportTooLarge(label, f"has more than {limits.max_elements} XML elements")
        local = _local(tag)
        if skipping or local in skip_text:
            skipping += 1
        builder.start(local, {_local(key): value for key, value in attrs.items()})

    def end(tag: str) -> None:
        nonlocal depth, skipping
        depth -= 1
        if skipping:
            skipping -= 1
        builder.end(_local(tag))

    def text(content: str) -> None:
        if not skipping:
            builder.data(content)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        reason = expat.ErrorString(exc.code) if exc.code else str(exc)
        raise MalformedReport(
            label, f"is not well-formed XML ({reason} at line {exc.lineno}, column {exc.offset})"
        ) from None
    return builder.close()


class _Found(Exception):
    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        super().__init__(tag)
        self.tag = tag
        self.attrs = attrs


def sniff_root(data: bytes) -> tuple[str, dict[str, str]] | None:
    """The root element's local name and attributes, reading no further than it; None if not XML."""
    parser = _hardened_parser("<sniff>")

    def start(tag: str, attrs: dict[str, str]) -> None:
        raise _Found(_local(tag), {_local(key): value for key, value in attrs.items()})

    parser.StartElementHandler = start
    try:
        parser.Parse(data[:_SNIFF_BYTES], len(data) <= _SNIFF_BYTES)
    except _Found as found:
        return found.tag, found.attrs
    except (expat.ExpatError, UnsafeReport):
        return None
    return None


def text_of(element: Element | None) -> str:
    """All the text inside ``element`` (CDATA included), stripped; "" when absent."""
    if element is None:
        return ""
    return "".join(element.itertext()).strip()
