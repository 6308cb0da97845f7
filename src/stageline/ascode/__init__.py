"""Pipelines as code: turn files users already have into CodePipeline declarations.

Accepted: create-pipeline / get-pipeline JSON or YAML, and CloudFormation
templates (YAML with short-form tags or JSON; hand-written, SAM or CDK
output) holding ``AWS::CodePipeline::Pipeline`` resources. Each pipeline
comes back as the API's ``PipelineDeclaration`` wire form, with its tags, the
stage transitions the template disables, and notes on every value that had to
stand in for something only AWS knows.

Modules: :mod:`~stageline.ascode.loader` (forms and parsing),
:mod:`~stageline.ascode.yaml_tags` (the CloudFormation YAML loader),
:mod:`~stageline.ascode.intrinsics` and :mod:`~stageline.ascode.functions`
(intrinsic functions), :mod:`~stageline.ascode.parameters` and
:mod:`~stageline.ascode.stack` (parameters and pseudo parameters),
:mod:`~stageline.ascode.synthetic` (stand-ins for what only AWS knows),
:mod:`~stageline.ascode.cfn` (resource → declaration),
:mod:`~stageline.ascode.shapes` (checking against botocore's model),
:mod:`~stageline.ascode.model` (the result, the error, template paths).
"""

from stageline.ascode.loader import MAX_INPUT_BYTES, load_pipeline_file, load_pipelines
from stageline.ascode.model import DefinitionError, LoadedPipeline

__all__ = [
    "MAX_INPUT_BYTES",
    "DefinitionError",
    "LoadedPipeline",
    "load_pipeline_file",
    "load_pipelines",
]
