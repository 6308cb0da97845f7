"""S3 and ECR source actions in real pipelines: a real server reading a real S3-compatible
endpoint (moto_server) and a real container registry (docker-registry), driven with boto3."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.moto import CREDENTIALS, MotoServer, moto_server
from tests.support.pipelines import Watcher, commands, declaration, wait_until
from tests.support.registry import (
    RegistryServer,
    push_image,
    registry_available,
    registry_server,
)
from tests.support.server import ServerProcess, start_server

BUCKET = "pipeline-sources"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with moto_server() as server:
        server.versioned_bucket(BUCKET)
        yield server


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    if not registry_available():
        pytest.fail("docker-registry is not installed; scripts/test installs it (apt-get)")
    with registry_server(tmp_path_factory.mktemp("registry")) as server:
        yield server


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, moto: MotoServer, registry: RegistryServer
) -> Iterator[ServerProcess]:
    """A stageline server whose S3 sources read moto and whose ECR sources read the registry."""
    proc = start_server(
        tmp_path_factory.mktemp("server"),
        "--s3-endpoint-url",
        moto.url,
        "--registry-url",
        registry.url,
        env=CREDENTIALS,
    )
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def cp(server: ServerProcess) -> Any:
    return server.client("codepipeline")


def zip_bytes(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def s3_source(key: str, **configuration: str) -> dict[str, Any]:
    return {
        "name": "Source",
        "namespace": "SourceVariables",
        "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
        "configuration": {
            "S3Bucket": BUCKET,
            "S3ObjectKey": key,
            "PollForSourceChanges": "false",
            **configuration,
        },
        "outputArtifacts": [{"name": "Src"}],
    }


def ecr_source(repository: str, tag: str) -> dict[str, Any]:
    return {
        "name": "Image",
        "namespace": "Image",
        "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "ECR", "version": "1"},
        "configuration": {"RepositoryName": repository, "ImageTag": tag},
        "outputArtifacts": [{"name": "Src"}],
    }


def test_an_s3_source_feeds_its_files_and_variables_to_the_next_action(
    cp: Any, moto: MotoServer, unique: str
) -> None:
    s3 = moto.client()
    key = f"apps/{unique}/app.zip"
    put = s3.put_object(
        Bucket=BUCKET,
        Key=key,
        Body=zip_bytes({"app.py": "print('hello from s3')\n", "VERSION": "1.0\n"}),
        Metadata={"codepipeline-artifact-revision-summary": "First upload"},
    )
    version, etag = put["VersionId"], put["ETag"].strip('"')
    name = f"s3-{unique}"
    cp.create_pipeline(
        pipeline=declaration(
            name,
            ("Source", [s3_source(key)]),
            (
                "Build",
                [
                    commands(
                        "Check",
                        [
                            "python3 app.py",
                            'export SEEN="#{SourceVariables.VersionId}|#{SourceVariables.ObjectKey}'
                            '|#{SourceVariables.ETag}|$(cat VERSION)"',
                        ],
                        outputVariables=["SEEN"],
                    )
                ],
            ),
        )
    )
    w = Watcher(cp, name)
    ex = w.latest()
    assert w.finished(ex) == "Succeeded", w.state()
    acts = w.actions(ex)
    assert acts["Check"]["output"]["outputVariables"] == {"SEEN": f"{version}|{key}|{etag}|1.0"}
    assert acts["Source"]["output"]["outputVariables"] == {
        "ObjectKey": key,
        "ETag": etag,
        "VersionId": version,
    }
    revision = cp.get_pipeline_execution(pipelineName=name, pipelineExecutionId=ex)[
        "pipelineExecution"
    ]["artifactRevisions"][0]
    assert revision["revisionId"] == version
    assert revision["revisionSummary"] == "First upload"


def test_start_with_an_older_s3_object_version(cp: Any, moto: MotoServer, unique: str) -> None:
    s3 = moto.client()
    key = f"pinned/{unique}.zip"
    first = s3.put_object(Bucket=BUCKET, Key=key, Body=zip_bytes({"VERSION": "1"}))["VersionId"]
    name = f"s3-pin-{unique}"
    cp.create_pipeline(
        pipeline=declaration(
            name,
            ("Source", [s3_source(key)]),
            ("Build", [commands("Show", ["export OUT=$(cat VERSION)"], outputVariables=["OUT"])]),
        )
    )
    w = Watcher(cp, name)
    assert w.finished(w.latest()) == "Succeeded"
    s3.put_object(Bucket=BUCKET, Key=key, Body=zip_bytes({"VERSION": "2"}))

    latest = cp.start_pipeline_execution(name=name)["pipelineExecutionId"]
    assert w.finished(latest) == "Succeeded"
    assert w.actions(latest)["Show"]["output"]["outputVariables"] == {"OUT": "2"}

    pinned = cp.start_pipeline_execution(
        name=name,
        sourceRevisions=[
            {"actionName": "Source", "revisionType": "S3_OBJECT_VERSION_ID", "revisionValue": first}
        ],
    )["pipelineExecutionId"]
    assert w.finished(pinned) == "Succeeded"
    acts = w.actions(pinned)
    assert acts["Show"]["output"]["outputVariables"] == {"OUT": "1"}
    assert acts["Source"]["output"]["outputVariables"]["VersionId"] == first


def test_an_s3_source_on_an_unversioned_bucket_fails_with_the_fix(
    cp: Any, moto: MotoServer, unique: str
) -> None:
    s3 = moto.client()
    bucket = f"plain-{unique}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="app.zip", Body=zip_bytes({"a": "a"}))
    name = f"s3-plain-{unique}"
    action = s3_source("app.zip", S3Bucket=bucket)
    cp.create_pipeline(
        pipeline=declaration(name, ("Source", [action]), ("Build", [commands("Never", ["true"])]))
    )
    w = Watcher(cp, name)
    assert w.finished(w.latest()) == "Failed"
    error = w.action_state("Source", "Source")["latestExecution"]["errorDetails"]
    assert error["code"] == "ConfigurationError"
    assert f"aws s3api put-bucket-versioning --bucket {bucket}" in error["message"]


def test_an_ecr_source_outputs_image_detail_json(
    cp: Any, server: ServerProcess, registry: RegistryServer, unique: str, tmp_path: Path
) -> None:
    repository = f"team/api-{unique}"
    image = push_image(registry.url, repository, "stable")
    name = f"ecr-{unique}"
    read = "import json; d = json.load(open('imageDetail.json')); print(d['ImageURI'], d['RegistryId'])"
    cp.create_pipeline(
        pipeline=declaration(
            name,
            ("Source", [ecr_source(repository, "stable")]),
            (
                "Deploy",
                [
                    commands(
                        "Read",
                        [
                            f'export DETAIL="$(python3 -c "{read}")"',
                            'export VARS="#{Image.ImageDigest}|#{Image.ImageTag}"',
                            'export ACCOUNT="$(echo "$CODEBUILD_BUILD_ARN" | cut -d: -f5)"',
                        ],
                        outputVariables=["DETAIL", "VARS", "ACCOUNT"],
                    )
                ],
            ),
        )
    )
    w = Watcher(cp, name)
    ex = w.latest()
    assert w.finished(ex) == "Succeeded", w.state()
    account = cp.get_pipeline(name=name)["metadata"]["pipelineArn"].split(":")[4]
    uri = f"{registry.host}/{repository}@{image.digest}"
    outputs = w.actions(ex)["Read"]["output"]["outputVariables"]
    assert outputs == {
        "DETAIL": f"{uri} {account}",
        "VARS": f"{image.digest}|stable",
        "ACCOUNT": account,  # the build ARN names the pipeline's account
    }
    variables = w.actions(ex)["Image"]["output"]["outputVariables"]
    assert variables == {
        "RegistryId": account,
        "RepositoryName": repository,
        "ImageTag": "stable",
        "ImageDigest": image.digest,
        "ImageURI": uri,
    }
    assert w.action_state("Source", "Image")["currentRevision"]["revisionId"] == image.digest


def test_polling_starts_s3_and_ecr_pipelines_once_per_new_revision(
    moto: MotoServer, registry: RegistryServer, tmp_path: Path, unique: str
) -> None:
    """A new object version and a moved tag each start exactly one execution, pinned to it."""
    polling = start_server(
        tmp_path / "polling",
        "--s3-endpoint-url",
        moto.url,
        "--registry-url",
        registry.url,
        "--poll-interval",
        "0.3",
        env=CREDENTIALS,
    )
    try:
        cp = polling.client("codepipeline")
        s3 = moto.client()
        key = f"polled/{unique}/app.zip"
        s3.put_object(Bucket=BUCKET, Key=key, Body=zip_bytes({"app.py": "print(1)\n"}))
        repository = f"team/polled-{unique}"
        push_image(registry.url, repository, "stable")
        polled_s3 = s3_source(key)
        del polled_s3["configuration"]["PollForSourceChanges"]  # AWS's default: polling
        cp.create_pipeline(
            pipeline=declaration(
                f"s3-polled-{unique}",
                ("Source", [polled_s3]),
                ("Build", [commands("Check", ["python3 app.py"])]),
            )
        )
        cp.create_pipeline(
            pipeline=declaration(
                f"ecr-polled-{unique}",
                ("Source", [ecr_source(repository, "stable")]),
                ("Deploy", [commands("Read", ["test -f imageDetail.json"])]),
            )
        )
        s3_runs = Watcher(cp, f"s3-polled-{unique}")
        ecr_runs = Watcher(cp, f"ecr-polled-{unique}")
        for w in (s3_runs, ecr_runs):
            assert w.finished(w.latest()) == "Succeeded", w.state()
        time.sleep(1.0)  # several polls of unchanged sources start nothing
        assert len(s3_runs.executions()) == len(ecr_runs.executions()) == 1

        version = s3.put_object(Bucket=BUCKET, Key=key, Body=zip_bytes({"app.py": "print(2)\n"}))
        image = push_image(
            registry.url, repository, "stable", files={"hello.txt": b"second build\n"}
        )
        for w, revision in ((s3_runs, version["VersionId"]), (ecr_runs, image.digest)):
            latest = wait_until(lambda w=w: len(w.executions()) == 2 and w.executions()[0])
            assert latest["trigger"]["triggerType"] == "PollForSourceChanges"
            assert w.finished(latest["pipelineExecutionId"]) == "Succeeded", w.state()
            detail = cp.get_pipeline_execution(
                pipelineName=w.name, pipelineExecutionId=latest["pipelineExecutionId"]
            )["pipelineExecution"]
            assert detail["artifactRevisions"][0]["revisionId"] == revision
        time.sleep(1.0)
        assert len(s3_runs.executions()) == len(ecr_runs.executions()) == 2, "never twice"
    finally:
        polling.stop()
