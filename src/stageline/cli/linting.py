"""Offline checks of a pipeline declaration: the API's shape rules, then the declaration rules."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from stageline.api import shapes
from stageline.definitions.catalog import ActionTypeSpec
from stageline.definitions.model import pipeline_from_wire
from stageline.definitions.validation import check
from stageline.services.catalog import Catalog


def problems_of(
    declaration: dict[str, Any], custom_types: Iterable[ActionTypeSpec] = ()
) -> list[str]:
    """Everything CreatePipeline would refuse in ``declaration``, as readable lines."""
    shape = shapes.service_model("codepipeline").shape_for("PipelineDeclaration")
    violations = shapes.violations_of(shape, declaration, "pipeline")
    if violations:
        return [v.render() for v in violations]
    model = pipeline_from_wire(declaration)
    return [f"{p.code}: {p}" for p in check(model, Catalog(custom_types))]
