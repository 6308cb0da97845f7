"""The event a Lambda invoke action hands its function, in exactly AWS's layout.

From AWS's "AWS Lambda invoke action reference" and "Invoke an AWS Lambda
function in a pipeline" (the example JSON event)::

    {"CodePipeline.job": {
        "id": JOB_ID,
        "accountId": ACCOUNT,
        "data": {
            "actionConfiguration": {"configuration": {"FunctionName": ..., "UserParameters": ...}},
            "inputArtifacts": [{"location": {"s3Location": {"bucketName", "objectKey"},
                                             "type": "S3"},
                                "revision": REVISION_OR_NULL, "name": NAME}],
            "outputArtifacts": [... the same shape ...],
            "artifactCredentials": {"secretAccessKey", "sessionToken", "accessKeyId"},
            "continuationToken": ...,   # only when the job continues an earlier one
            "encryptionKey": {"id", "type": "KMS"}   # only when the artifact store has one
        }}}

Unlike the JobData that PollForJobs hands a job worker, the Lambda event
carries no ``actionTypeId`` and no ``pipelineContext``; ``configuration``
holds only the keys the action declares (so no ``UserParameters`` when it has
none), with variables already resolved.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from stageline.arns import parse as parse_arn
from stageline.providers.base import JobContext


def _artifact(raw: Mapping[str, Any]) -> dict[str, Any]:
    location = raw.get("location") or {}
    s3 = location.get("s3Location") or {}
    return {
        "location": {
            "s3Location": {
                "bucketName": s3.get("bucketName", ""),
                "objectKey": s3.get("objectKey", ""),
            },
            "type": location.get("type", "S3"),
        },
        "revision": raw.get("revision"),
        "name": raw["name"],
    }


def _fallback_artifact(name: str) -> dict[str, Any]:
    # Without the job's data the location is unknown: keep the shape, with empty strings.
    return _artifact({"name": name})


def account_of(job: JobContext, default: str) -> str:
    """The account the pipeline belongs to: from its ARN, else the context, else ``default``."""
    raw = job.raw_job_data or {}
    arn = (raw.get("pipelineContext") or {}).get("pipelineArn") or job.pipeline.pipeline_arn
    parsed = parse_arn(arn) if arn else None
    if parsed is not None:
        return parsed.account_id
    return job.pipeline.account_id or default


def credentials_of(job: JobContext) -> dict[str, str]:
    """The job's artifactCredentials; a fresh throw-away set when the job data has none."""
    raw = (job.raw_job_data or {}).get("artifactCredentials")
    if isinstance(raw, Mapping) and raw.get("accessKeyId"):
        return {
            "secretAccessKey": str(raw.get("secretAccessKey", "")),
            "sessionToken": str(raw.get("sessionToken", "")),
            "accessKeyId": str(raw["accessKeyId"]),
        }
    return {
        "secretAccessKey": secrets.token_urlsafe(30),
        "sessionToken": secrets.token_urlsafe(30),
        "accessKeyId": "STAGELINE" + secrets.token_hex(6).upper(),
    }


def build_event(
    job: JobContext, *, account_id: str, credentials: Mapping[str, str]
) -> dict[str, Any]:
    """The ``{"CodePipeline.job": ...}`` event for ``job``; see the module docstring."""
    raw = job.raw_job_data
    if raw is not None:
        inputs = [_artifact(a) for a in raw.get("inputArtifacts", [])]
        outputs = [_artifact(a) for a in raw.get("outputArtifacts", [])]
    else:
        inputs = [_fallback_artifact(n) for n in job.inputs]
        outputs = [_fallback_artifact(n) for n in job.outputs]
    data: dict[str, Any] = {
        "actionConfiguration": {"configuration": dict(job.configuration)},
        "inputArtifacts": inputs,
        "outputArtifacts": outputs,
        "artifactCredentials": dict(credentials),
    }
    token = job.continuation_token or (raw or {}).get("continuationToken")
    if token:
        data["continuationToken"] = token
    encryption = (raw or {}).get("encryptionKey")
    if encryption:
        data["encryptionKey"] = dict(encryption)
    return {"CodePipeline.job": {"id": job.job_id, "accountId": account_id, "data": data}}
