"""Small builders for pipeline declarations in the API's wire form."""

from __future__ import annotations

from typing import Any

ROLE = "arn:aws:iam::123456789012:role/pipeline-role"


def action(
    name: str,
    category: str,
    provider: str,
    *,
    owner: str = "AWS",
    config: dict[str, str] | None = None,
    inputs: tuple[str, ...] = (),
    outputs: tuple[str, ...] = (),
    run_order: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name,
        "actionTypeId": {
            "category": category,
            "owner": owner,
            "provider": provider,
            "version": "1",
        },
        "configuration": config or {},
        "inputArtifacts": [{"name": n} for n in inputs],
        "outputArtifacts": [{"name": n} for n in outputs],
    }
    if run_order is not None:
        out["runOrder"] = run_order
    out.update(extra)
    return out


def codecommit(name: str = "Source", output: str = "SourceOut", **extra: Any) -> dict[str, Any]:
    return action(
        name,
        "Source",
        "CodeCommit",
        config={"RepositoryName": "app", "BranchName": "main"},
        outputs=(output,),
        **extra,
    )


def codebuild(
    name: str = "Build",
    inputs: tuple[str, ...] = ("SourceOut",),
    outputs: tuple[str, ...] = (),
    **extra: Any,
) -> dict[str, Any]:
    return action(
        name,
        "Build",
        "CodeBuild",
        config={"ProjectName": "proj"},
        inputs=inputs,
        outputs=outputs,
        **extra,
    )


def approval(name: str = "Approve", **extra: Any) -> dict[str, Any]:
    return action(name, "Approval", "Manual", **extra)


def pipeline(name: str, *stages: tuple[str, list[dict[str, Any]]], **extra: Any) -> dict[str, Any]:
    if not stages:
        stages = (("Source", [codecommit()]), ("Build", [codebuild()]))
    out: dict[str, Any] = {
        "name": name,
        "roleArn": ROLE,
        "artifactStore": {"type": "S3", "location": "artifact-bucket"},
        "stages": [{"name": n, "actions": a} for n, a in stages],
    }
    out.update(extra)
    return out
