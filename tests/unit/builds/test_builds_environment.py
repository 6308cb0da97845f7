"""What the commands see: precedence of variables, built-ins, secrets, exported variables."""

from __future__ import annotations

import re
import time
from pathlib import Path

from stageline.builds import BuildInfo, PhaseType, caller_variables
from tests.unit.builds.conftest import RunSpec


def test_exported_variables_are_read_after_post_build(run_spec: RunSpec) -> None:
    ran = run_spec(
        """
        version: 0.2
        env:
          exported-variables: [IMAGE_TAG, LATE, NEVER_SET]
        phases:
          build:
            commands:
              - export IMAGE_TAG=v1
              - export LATE=early
          post_build:
            commands:
              - export LATE=late
              - IMAGE_TAG="$IMAGE_TAG-final"
        """
    )
    assert dict(ran.result.exported_variables) == {"IMAGE_TAG": "v1-final", "LATE": "late"}


def test_environment_precedence_start_build_over_project_over_buildspec(
    run_spec: RunSpec,
) -> None:
    caller = caller_variables(
        {"FROM_PROJECT": "project", "BOTH": "project", "CODEBUILD_BUILD_ID": "forged"},
        {"BOTH": "override"},
    )
    ran = run_spec(
        """
        version: 0.2
        env:
          variables:
            ONLY_SPEC: spec
            FROM_PROJECT: spec
            BOTH: spec
            LITERAL: $PATH
        phases:
          build:
            commands:
              - echo "$ONLY_SPEC $FROM_PROJECT $BOTH $LITERAL"
              - echo "$CODEBUILD_BUILD_ID"
        """,
        env=caller,
        info=BuildInfo(project="demo", build_id="demo:1234"),
    )
    assert ran.output == ["spec project override $PATH", "demo:1234"]


def test_built_in_variables_describe_the_build(
    run_spec: RunSpec, source: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other-src"
    other.mkdir()
    info = BuildInfo(
        project="my-project",
        build_number=42,
        initiator="codepipeline/my-pipeline",
        resolved_source_version="0123abcd",
        region="eu-west-1",
        account_id="111122223333",
    )
    names = [
        "CODEBUILD_BUILD_ID",
        "CODEBUILD_BUILD_NUMBER",
        "CODEBUILD_BUILD_ARN",
        "CODEBUILD_SRC_DIR",
        "CODEBUILD_SRC_DIR_tools",
        "CODEBUILD_RESOLVED_SOURCE_VERSION",
        "CODEBUILD_INITIATOR",
        "CODEBUILD_BUILD_SUCCEEDING",
        "CODEBUILD_START_TIME",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ]
    commands = "\n".join(f'              - echo "{n}=${n}"' for n in names)
    ran = run_spec(
        f"""
        version: 0.2
        phases:
          build:
            commands:
{commands}
        """,
        info=info,
        secondary_sources={"tools": other},
    )
    seen = dict(line.split("=", 1) for line in ran.output)
    assert re.fullmatch(r"my-project:[0-9a-f-]{36}", seen["CODEBUILD_BUILD_ID"])
    assert seen["CODEBUILD_BUILD_ARN"] == (
        f"arn:aws:codebuild:eu-west-1:111122223333:build/{seen['CODEBUILD_BUILD_ID']}"
    )
    assert seen["CODEBUILD_BUILD_NUMBER"] == "42"
    assert seen["CODEBUILD_SRC_DIR"] == str(source)
    assert seen["CODEBUILD_SRC_DIR_tools"] == str(other)
    assert seen["CODEBUILD_RESOLVED_SOURCE_VERSION"] == "0123abcd"
    assert seen["CODEBUILD_INITIATOR"] == "codepipeline/my-pipeline"
    assert seen["CODEBUILD_BUILD_SUCCEEDING"] == "1"
    assert abs(int(seen["CODEBUILD_START_TIME"]) - time.time() * 1000) < 60_000
    assert seen["AWS_REGION"] == seen["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert ran.result.build_id == seen["CODEBUILD_BUILD_ID"]


def test_secrets_are_resolved_by_the_callback_and_masked_in_the_log(run_spec: RunSpec) -> None:
    asked: list[tuple[str, str]] = []

    def resolver(source: str, reference: str) -> str:
        asked.append((source, reference))
        return {"/app/db": "hunter2-password", "app:token": "tok-3f9a1c"}[reference]

    ran = run_spec(
        """
        version: 0.2
        env:
          parameter-store:
            DB_PASSWORD: /app/db
          secrets-manager:
            TOKEN: app:token
        phases:
          build:
            commands:
              - echo "db=$DB_PASSWORD token=$TOKEN"
        """,
        secret_resolver=resolver,
    )
    assert asked == [("parameter-store", "/app/db"), ("secrets-manager", "app:token")]
    assert ran.output == ["db=*** token=***"]
    assert not any("hunter2" in line for line in ran.lines)


def test_an_unresolvable_secret_fails_provisioning(run_spec: RunSpec) -> None:
    def resolver(source: str, reference: str) -> str:
        raise KeyError(reference)

    ran = run_spec(
        """
        version: 0.2
        env:
          parameter-store: {DB: /missing}
        phases:
          build:
            commands: [echo never]
        """,
        secret_resolver=resolver,
    )
    assert ran.status(PhaseType.PROVISIONING) == "FAILED"
    assert "env.parameter-store.DB: cannot read '/missing'" in str(ran.result.failure)
    assert ran.output == []
