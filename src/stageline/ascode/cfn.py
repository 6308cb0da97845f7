"""``AWS::CodePipeline::Pipeline`` resources → API pipeline declarations.

The resource's properties are the API's ``PipelineDeclaration`` in
PascalCase, so most of the conversion is :class:`ShapeWalker` changing the
case and checking names. What differs is handled here, per the
CloudFormation reference for the resource:

* ``ArtifactStores`` is a list of ``{Region, ArtifactStore}``; the API's
  ``artifactStores`` is a map from region to store;
* ``Tags`` (``[{Key, Value}]``) go beside the declaration as ``[{key, value}]``;
* ``DisableInboundStageTransitions`` and ``RestartExecutionOnUpdate`` drive
  CloudFormation itself and have no member in the declaration: the first is
  returned as ``disabled_transitions``, the second reported as a note;
* ``Name`` is optional; CloudFormation then generates ``<stack>-<id>-<suffix>``;
* a resource whose ``Condition`` is false is not created, so it is skipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from stageline.ascode.intrinsics import Resolver
from stageline.ascode.model import (
    NO_VALUE,
    DefinitionError,
    LoadedPipeline,
    child,
    describe,
    item,
    suggest,
)
from stageline.ascode.parameters import Parameters, scalar_text
from stageline.ascode.shapes import ShapeWalker, shape
from stageline.ascode.stack import StackContext

PIPELINE_TYPE = "AWS::CodePipeline::Pipeline"
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
_BUILT_IN_TRANSFORMS = (SAM_TRANSFORM, "AWS::LanguageExtensions")
_HANDLED_HERE = (
    "Name",
    "ArtifactStores",
    "Tags",
    "DisableInboundStageTransitions",
    "RestartExecutionOnUpdate",
)


def load_template(
    template: dict[str, Any], *, form: str, ctx: StackContext, parameters: Mapping[str, str]
) -> list[LoadedPipeline]:
    """Every pipeline a CloudFormation template creates, in template order."""
    resources = template.get("Resources")
    if not isinstance(resources, dict) or not resources:
        found = (
            "no Resources section" if resources is None else f"Resources is {describe(resources)}"
        )
        raise DefinitionError(
            "Resources" if resources is not None else "",
            f"this CloudFormation template has {found}; nothing to load",
        )
    loops = [key for key in resources if str(key).startswith("Fn::ForEach")]
    resources = {k: v for k, v in resources.items() if k not in loops}
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise DefinitionError(
                child("Resources", logical_id), "a resource must be a mapping with a string 'Type'"
            )
    params = Parameters(template.get("Parameters"), parameters)
    transforms = _transforms(template)
    shared_notes = [
        f"Transform: macro '{name}' runs inside CloudFormation and may change the template; "
        "the template was read as written"
        for name in transforms
        if name not in _BUILT_IN_TRANSFORMS
    ] + [
        f"Resources.{key}: Fn::ForEach loops (AWS::LanguageExtensions) are not expanded; "
        "the resources they create are not read"
        for key in loops
    ]
    implicit = _sam_implicit_resources(resources) if SAM_TRANSFORM in transforms else {}

    pipelines = [(lid, res) for lid, res in resources.items() if res["Type"] == PIPELINE_TYPE]
    if not pipelines:
        counts = Counter(res["Type"] for res in resources.values())
        listed = [f"{t} ({n})" if n > 1 else t for t, n in counts.most_common()]
        listed += [f"{key} (not expanded)" for key in loops]
        raise DefinitionError(
            "Resources", f"the template creates no {PIPELINE_TYPE}; it has {', '.join(listed)}"
        )
    loaded, skipped = [], []
    for logical_id, resource in pipelines:
        notes = list(shared_notes)
        resolver = Resolver(
            template, ctx=ctx, parameters=params, notes=notes, implicit_resources=implicit
        )
        condition = resource.get("Condition")
        if condition is not None:
            cond_path = child(child("Resources", logical_id), "Condition")
            if not isinstance(condition, str):
                raise DefinitionError(cond_path, "must be the name of a condition")
            if not resolver.condition(condition, cond_path):
                skipped.append(f"{logical_id} (Condition {condition})")
                continue
        with resolver.resolving(logical_id):
            loaded.append(_pipeline(logical_id, resource, resolver, form))
    if not loaded:
        raise DefinitionError(
            "Resources",
            "every pipeline in the template has a Condition that is false with these "
            "parameters, so CloudFormation would create none: " + ", ".join(skipped),
        )
    return loaded


def _pipeline(logical_id: str, resource: dict[str, Any], r: Resolver, form: str) -> LoadedPipeline:
    origin = child("Resources", logical_id)
    if "Properties" not in resource:
        raise DefinitionError(
            origin, "has no Properties; a pipeline needs at least RoleArn and Stages"
        )
    props, path = r.shallow(resource["Properties"], child(origin, "Properties"))
    if not isinstance(props, dict):
        raise DefinitionError(path, f"expected a mapping of properties, found {describe(props)}")
    walker = ShapeWalker(cfn=True, shallow=r.shallow)
    declaration_shape = shape("PipelineDeclaration")

    name = NO_VALUE
    if "Name" in props:
        name = walker.convert(props["Name"], child(path, "Name"), declaration_shape.members["name"])
    if name is NO_VALUE:
        name = r.ctx.generated_name(logical_id)
        r.note(
            child(path, "Name"),
            f"not set, so CloudFormation generates one from the stack "
            f"name ({r.ctx.stack_name}) and the logical id; used {name}",
        )

    declaration = walker.structure(props, path, declaration_shape, skip=_HANDLED_HERE)
    declaration["name"] = name
    if "ArtifactStores" in props:
        stores = _artifact_stores(props["ArtifactStores"], child(path, "ArtifactStores"), r, walker)
        if stores is not NO_VALUE:
            declaration["artifactStores"] = stores
    order = list(declaration_shape.members)
    declaration = dict(sorted(declaration.items(), key=lambda pair: order.index(pair[0])))

    if "RestartExecutionOnUpdate" in props:
        here = child(path, "RestartExecutionOnUpdate")
        restart = r.deep(props["RestartExecutionOnUpdate"], here)
        if restart is not NO_VALUE:
            r.note(
                here,
                f"is {scalar_text(restart)}: it tells CloudFormation whether to start an "
                "execution after a stack update changes the pipeline; it is not part of the "
                "declaration and is not applied",
            )
    return LoadedPipeline(
        pipeline=declaration,
        tags=_pairs(props.get("Tags"), child(path, "Tags"), r, {"Key": "key", "Value": "value"}),
        origin=origin,
        form=form,
        disabled_transitions=_pairs(
            props.get("DisableInboundStageTransitions"),
            child(path, "DisableInboundStageTransitions"),
            r,
            {"StageName": "stageName", "Reason": "reason"},
        ),
        notes=r.notes,
    )


def _artifact_stores(value: Any, path: str, r: Resolver, walker: ShapeWalker) -> Any:
    """CloudFormation's ``[{Region, ArtifactStore}]`` → the API's ``{region: ArtifactStore}``."""
    entries, path = r.shallow(value, path)
    if entries is NO_VALUE:
        return NO_VALUE
    if not isinstance(entries, list):
        raise DefinitionError(
            path, f"expected a list of ArtifactStoreMap, found {describe(entries)}"
        )
    stores: dict[str, Any] = {}
    for index, raw in enumerate(entries):
        entry, entry_path = r.shallow(raw, item(path, index))
        if entry is NO_VALUE:
            continue
        if not isinstance(entry, dict):
            raise DefinitionError(
                entry_path, f"expected an ArtifactStoreMap mapping, found {describe(entry)}"
            )
        for key in entry:
            if key not in ("Region", "ArtifactStore"):
                raise DefinitionError(
                    child(entry_path, key),
                    f"'{key}' is not a property of ArtifactStoreMap"
                    + suggest(str(key), ("Region", "ArtifactStore")),
                )
        for key in ("Region", "ArtifactStore"):
            if key not in entry:
                raise DefinitionError(
                    entry_path, f"ArtifactStoreMap is missing the required property '{key}'"
                )
        region = r.string(entry["Region"], child(entry_path, "Region"), "Region")
        if region in stores:
            raise DefinitionError(
                child(entry_path, "Region"), f"region {region} has more than one artifact store"
            )
        stores[region] = walker.convert(
            entry["ArtifactStore"], child(entry_path, "ArtifactStore"), shape("ArtifactStore")
        )
    return stores


def _pairs(value: Any, path: str, r: Resolver, fields: dict[str, str]) -> list[dict[str, str]]:
    """A list of small string records (Tags, StageTransition) with renamed members."""
    if value is None:
        return []
    entries, path = r.shallow(value, path)
    if entries is NO_VALUE:
        return []
    if not isinstance(entries, list):
        raise DefinitionError(path, f"expected a list, found {describe(entries)}")
    records = []
    for index, raw in enumerate(entries):
        entry, entry_path = r.shallow(raw, item(path, index))
        if entry is NO_VALUE:
            continue
        if not isinstance(entry, dict):
            raise DefinitionError(entry_path, f"expected a mapping, found {describe(entry)}")
        record = {}
        for key, member in entry.items():
            if key not in fields:
                raise DefinitionError(
                    child(entry_path, key),
                    f"'{key}' is not allowed here; "
                    f"expected {' and '.join(fields)}" + suggest(str(key), fields),
                )
            record[fields[key]] = r.string(member, child(entry_path, key), key)
        for key, api_name in fields.items():
            if api_name not in record:
                raise DefinitionError(entry_path, f"is missing the required property '{key}'")
        records.append(record)
    return records


def _transforms(template: dict[str, Any]) -> list[str]:
    value = template.get("Transform")
    if value is None:
        return []
    names = value if isinstance(value, list) else [value]
    # A transform with parameters is written {Name: ..., Parameters: ...}.
    return [str(n.get("Name")) if isinstance(n, dict) else str(n) for n in names]


def _sam_implicit_resources(resources: dict[str, Any]) -> dict[str, str]:
    """Resources SAM adds that templates refer to: ``<Function>Role`` for a function without Role."""
    implicit = {}
    for logical_id, resource in resources.items():
        props = resource.get("Properties")
        if resource["Type"] == "AWS::Serverless::Function" and not (
            isinstance(props, dict) and "Role" in props
        ):
            implicit[f"{logical_id}Role"] = "AWS::IAM::Role"
    return {k: v for k, v in implicit.items() if k not in resources}
