"""The pieces of a job that provider unit tests build by hand."""

from __future__ import annotations

from typing import Any

from stageline.providers.base import PipelineContext


def source_context(**overrides: Any) -> PipelineContext:
    """A source action's place in pipeline ``p`` (eu-west-1, account 111122223333)."""
    values: dict[str, Any] = {
        "pipeline_name": "p",
        "pipeline_arn": "arn:aws:codepipeline:eu-west-1:111122223333:p",
        "execution_id": "e-1",
        "stage_name": "Source",
        "action_name": "Source",
        "action_execution_id": "a-1",
        "region": "eu-west-1",
        "account_id": "111122223333",
    }
    return PipelineContext(**{**values, **overrides})
