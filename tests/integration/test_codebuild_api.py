"""The CodeBuild API with boto3's ``codebuild`` client against a real server.

Projects (create, read, update, list, delete and their errors), builds started
directly (StartBuild of an inline buildspec and of a hosted repository,
StopBuild, RetryBuild, BatchGetBuilds, ListBuilds*), and both wire protocols
botocore speaks to CodeBuild: JSON 1.1 and Smithy RPC v2 CBOR. Every response
is checked against botocore's output shapes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import httpx
import pytest
from botocore.exceptions import ClientError
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from tests.support.declarations import ROLE
from tests.support.git import GitClient
from tests.support.logs import read_log
from tests.support.pipelines import wait_until
from tests.support.server import ServerProcess
from tests.support.wire import ResponseRecorder

ENVIRONMENT = {
    "type": "LINUX_CONTAINER",
    "image": "aws/codebuild/standard:7.0",
    "computeType": "BUILD_GENERAL1_SMALL",
}
INLINE = """\
version: 0.2
env:
  exported-variables: [GREETING_SEEN]
phases:
  build:
    commands:
      - echo "hello $GREETING"
      - export GREETING_SEEN="$GREETING"
"""


@pytest.fixture
def cb(server: ServerProcess) -> Iterator[Any]:
    client = server.client("codebuild")
    recorder = ResponseRecorder(client)
    yield client
    assert recorder.violations == []


def create(cb: Any, name: str, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "name": name,
        "source": {"type": "NO_SOURCE", "buildspec": INLINE},
        "artifacts": {"type": "NO_ARTIFACTS"},
        "environment": {
            **ENVIRONMENT,
            "environmentVariables": [{"name": "GREETING", "value": "world"}],
        },
        "serviceRole": ROLE,
    }
    params.update(extra)
    return dict(cb.create_project(**params)["project"])


def finished(cb: Any, build_id: str, timeout: float = 30.0) -> dict[str, Any]:
    return wait_until(
        lambda: (b := cb.batch_get_builds(ids=[build_id])["builds"][0])["buildComplete"] and b,
        timeout,
    )


def test_project_lifecycle(cb: Any, unique: str) -> None:
    name = f"p-{unique}"
    project = create(cb, name, description="first", tags=[{"key": "team", "value": "a"}])
    assert project["arn"] == f"arn:aws:codebuild:us-east-1:123456789012:project/{name}"
    assert project["timeoutInMinutes"] == 60 and project["queuedTimeoutInMinutes"] == 480
    assert project["tags"] == [{"key": "team", "value": "a"}]

    with pytest.raises(ClientError) as exc:
        create(cb, name)
    assert exc.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"

    updated = cb.update_project(name=name, description="second", timeoutInMinutes=15)["project"]
    assert updated["description"] == "second" and updated["timeoutInMinutes"] == 15
    assert updated["source"]["type"] == "NO_SOURCE"  # members not given are kept
    assert updated["lastModified"] >= project["created"]

    got = cb.batch_get_projects(names=[name, project["arn"], "missing-one"])
    assert [p["name"] for p in got["projects"]] == [name, name]
    assert got["projectsNotFound"] == ["missing-one"]
    assert name in cb.list_projects(sortBy="NAME")["projects"]

    cb.delete_project(name=name)
    assert cb.batch_get_projects(names=[name])["projectsNotFound"] == [name]
    with pytest.raises(ClientError) as exc:
        cb.update_project(name=name, description="gone")
    assert exc.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_project_rules_name_the_member_and_the_fix(cb: Any, unique: str) -> None:
    cases = [
        (
            {"source": {"type": "NO_SOURCE"}},
            "source.buildspec is required when source.type is NO_SOURCE",
        ),
        (
            {"source": {"type": "CODEPIPELINE"}},
            "artifacts.type must be CODEPIPELINE when source.type is CODEPIPELINE",
        ),
        (
            {
                "environment": {
                    **ENVIRONMENT,
                    "environmentVariables": [{"name": "CODEBUILD_X", "value": "1"}],
                }
            },
            "names starting with CODEBUILD_ are reserved",
        ),
    ]
    for extra, message in cases:
        with pytest.raises(ClientError) as exc:
            create(cb, f"bad-{unique}", **extra)
        assert exc.value.response["Error"]["Code"] == "InvalidInputException"
        assert message in exc.value.response["Error"]["Message"]
    assert cb.batch_get_projects(names=[f"bad-{unique}"])["projectsNotFound"]


def test_start_build_of_an_inline_buildspec(cb: Any, server: ServerProcess, unique: str) -> None:
    name = f"inline-{unique}"
    create(cb, name)
    started = cb.start_build(
        projectName=name,
        environmentVariablesOverride=[
            {"name": "GREETING", "value": "override", "type": "PLAINTEXT"}
        ],
    )["build"]
    assert started["buildStatus"] == "IN_PROGRESS" and started["buildNumber"] == 1
    assert started["id"].startswith(f"{name}:")
    build = finished(cb, started["id"])
    assert build["buildStatus"] == "SUCCEEDED"
    assert build["exportedEnvironmentVariables"] == [{"name": "GREETING_SEEN", "value": "override"}]
    assert [p["phaseType"] for p in build["phases"]] == [
        "SUBMITTED", "QUEUED", "PROVISIONING", "DOWNLOAD_SOURCE", "INSTALL", "PRE_BUILD",
        "BUILD", "POST_BUILD", "UPLOAD_ARTIFACTS", "FINALIZING", "COMPLETED",
    ]  # fmt: skip
    assert build["initiator"] == "stageline"
    log = read_log(server, build["logs"]["streamName"])
    assert "hello override" in log

    retried = cb.retry_build(id=build["id"])["build"]
    assert retried["buildNumber"] == 2
    again = finished(cb, retried["id"])
    assert again["exportedEnvironmentVariables"] == [{"name": "GREETING_SEEN", "value": "override"}]
    ids = cb.list_builds_for_project(projectName=name)["ids"]
    assert ids == [retried["id"], build["id"]]  # newest first
    assert cb.list_builds_for_project(projectName=name, sortOrder="ASCENDING")["ids"] == ids[::-1]
    assert retried["id"] in cb.list_builds()["ids"]


def test_start_build_of_a_hosted_repository(
    cb: Any, server: ServerProcess, tmp_path: Path, unique: str
) -> None:
    name = f"repo-{unique}"
    server.client("codecommit").create_repository(repositoryName=name)
    git = GitClient(tmp_path / "home")
    url = f"{server.url}/git/{name}"
    first = git.push_tree(
        url,
        tmp_path / "work",
        {
            "buildspec.yml": "version: 0.2\nphases:\n  build:\n    commands:\n      - cat VERSION\n",
            "VERSION": "one\n",
        },
        "First",
    )
    git.push_tree(url, tmp_path / "work", {"VERSION": "two\n"}, "Second")
    create(cb, name, source={"type": "CODECOMMIT", "location": url})
    latest = finished(cb, cb.start_build(projectName=name)["build"]["id"])
    pinned = finished(cb, cb.start_build(projectName=name, sourceVersion=first)["build"]["id"])
    assert latest["buildStatus"] == pinned["buildStatus"] == "SUCCEEDED"
    assert pinned["resolvedSourceVersion"] == first
    assert "two" in read_log(server, latest["logs"]["streamName"])
    assert "one" in read_log(server, pinned["logs"]["streamName"])


def test_stop_build(cb: Any, unique: str) -> None:
    name = f"stop-{unique}"
    create(
        cb,
        name,
        source={
            "type": "NO_SOURCE",
            "buildspec": "version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 60\n",
        },
    )
    build_id = cb.start_build(projectName=name)["build"]["id"]
    wait_until(lambda: cb.batch_get_builds(ids=[build_id])["builds"][0]["currentPhase"] == "BUILD")
    started = time.monotonic()
    cb.stop_build(id=build_id)
    build = finished(cb, build_id)
    assert build["buildStatus"] == "STOPPED"
    assert time.monotonic() - started < 15
    build_phase = next(p for p in build["phases"] if p["phaseType"] == "BUILD")
    assert build_phase["contexts"][0]["statusCode"] == "BUILD_STOPPED"


def test_build_errors(cb: Any, unique: str) -> None:
    with pytest.raises(ClientError) as exc:
        cb.start_build(projectName=f"none-{unique}")
    assert exc.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        cb.stop_build(id=f"none-{unique}:00000000-0000-0000-0000-000000000000")
    assert exc.value.response["Error"]["Code"] == "ResourceNotFoundException"
    name = f"piped-{unique}"
    create(cb, name, source={"type": "CODEPIPELINE"}, artifacts={"type": "CODEPIPELINE"})
    with pytest.raises(ClientError) as exc:
        cb.start_build(projectName=name)
    assert exc.value.response["Error"]["Code"] == "InvalidInputException"
    assert "start the pipeline" in exc.value.response["Error"]["Message"]
    missing = cb.batch_get_builds(ids=[f"{name}:nope"])
    assert missing["builds"] == [] and missing["buildsNotFound"] == [f"{name}:nope"]


@pytest.mark.parametrize("protocol", ["json", "smithy-rpc-v2-cbor"])
def test_both_wire_protocols(server: ServerProcess, unique: str, protocol: str) -> None:
    """botocore picks one of the model's protocols; the server answers either exactly."""
    model = botocore.session.get_session().get_service_model("codebuild")
    serializer = create_serializer(protocol, include_validation=False)
    parser = create_parser(protocol)

    def call(operation: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        op = model.operation_model(operation)
        request = serializer.serialize_to_request(params, op)
        response = httpx.post(
            server.url + request["url_path"],
            content=request["body"],
            headers={**request["headers"], "X-Amz-Target": f"CodeBuild_20161006.{operation}"},
        )
        parsed = parser.parse(
            {
                "status_code": response.status_code,
                "headers": dict(response.headers),
                "body": response.content,
            },
            op.output_shape if response.status_code < 300 else None,
        )
        return response.status_code, parsed

    name = f"wire-{protocol[:4]}-{unique}"
    status, created = call(
        "CreateProject",
        {
            "name": name,
            "source": {"type": "NO_SOURCE", "buildspec": INLINE},
            "artifacts": {"type": "NO_ARTIFACTS"},
            "environment": ENVIRONMENT,
            "serviceRole": ROLE,
        },
    )
    assert status == 200
    assert created["project"]["name"] == name
    assert created["project"]["created"].year >= 2024  # a timestamp, parsed as a datetime
    status, error = call("BatchGetBuilds", {"ids": []})  # the server validates too
    assert status == 400
    assert error["Error"]["Code"] == "ValidationException"
