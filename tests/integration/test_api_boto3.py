"""The definition operations through boto3 against a real server process.

Every raw response is also walked against botocore's output shape, so a
response boto3 would parse differently from AWS's is caught here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.support.declarations import approval, codebuild, codecommit, pipeline
from tests.support.server import ServerProcess
from tests.support.wire import ResponseRecorder

DEFINITION_OPERATIONS = {
    "CreatePipeline",
    "GetPipeline",
    "UpdatePipeline",
    "DeletePipeline",
    "ListPipelines",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "ListActionTypes",
    "GetActionType",
    "CreateCustomActionType",
    "DeleteCustomActionType",
    "UpdateActionType",
}
SEEN: set[str] = set()


@pytest.fixture
def client(server: ServerProcess) -> Iterator[Any]:
    c = server.client("codepipeline")
    recorder = ResponseRecorder(c)
    yield c
    SEEN.update(recorder.operations())
    assert recorder.violations == []


def code_of(info: pytest.ExceptionInfo[ClientError]) -> str:
    return info.value.response["Error"]["Code"]


def test_create_get_and_metadata(client: Any, unique: str) -> None:
    name = f"create-{unique}"
    created = client.create_pipeline(
        pipeline=pipeline(name), tags=[{"key": "team", "value": "core"}]
    )
    assert created["pipeline"]["version"] == 1
    assert created["tags"] == [{"key": "team", "value": "core"}]
    got = client.get_pipeline(name=name)
    assert got["pipeline"]["name"] == name
    assert got["pipeline"]["stages"][1]["actions"][0]["runOrder"] == 1
    assert got["pipeline"]["pipelineType"] == "V1"
    assert got["pipeline"]["executionMode"] == "SUPERSEDED"
    meta = got["metadata"]
    assert meta["pipelineArn"] == f"arn:aws:codepipeline:us-east-1:123456789012:{name}"
    assert meta["created"] == meta["updated"]


def test_name_in_use(client: Any, unique: str) -> None:
    client.create_pipeline(pipeline=pipeline(f"dup-{unique}"))
    with pytest.raises(ClientError) as info:
        client.create_pipeline(pipeline=pipeline(f"dup-{unique}"))
    assert code_of(info) == "PipelineNameInUseException"


def test_unknown_pipeline(client: Any) -> None:
    with pytest.raises(ClientError) as info:
        client.get_pipeline(name="no-such-pipeline")
    assert code_of(info) == "PipelineNotFoundException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as info:
        client.update_pipeline(pipeline=pipeline("no-such-pipeline"))
    assert code_of(info) == "PipelineNotFoundException"


def test_invalid_structure_changes_nothing(client: Any, unique: str) -> None:
    name = f"invalid-{unique}"
    bad = pipeline(
        name, ("Source", [codecommit()]), ("Build", [codebuild(inputs=("SourceOutput",))])
    )
    with pytest.raises(ClientError) as info:
        client.create_pipeline(pipeline=bad)
    assert code_of(info) == "InvalidStructureException"
    assert "did you mean 'SourceOut'?" in info.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as info:
        client.get_pipeline(name=name)
    assert code_of(info) == "PipelineNotFoundException"


def test_invalid_action_declaration(client: Any, unique: str) -> None:
    build = codebuild()
    del build["configuration"]["ProjectName"]
    with pytest.raises(ClientError) as info:
        client.create_pipeline(
            pipeline=pipeline(f"act-{unique}", ("Source", [codecommit()]), ("Build", [build]))
        )
    assert code_of(info) == "InvalidActionDeclarationException"
    assert "'ProjectName'" in info.value.response["Error"]["Message"]


def test_update_keeps_every_version_and_refuses_a_stale_one(client: Any, unique: str) -> None:
    name = f"upd-{unique}"
    client.create_pipeline(pipeline=pipeline(name))
    v1 = client.get_pipeline(name=name)["pipeline"]
    v1["stages"].append({"name": "Gate", "actions": [approval()]})
    v2 = client.update_pipeline(pipeline=v1)["pipeline"]
    assert v2["version"] == 2
    # Someone still holding version 1 tries to save: refused, nothing changes.
    stale = client.get_pipeline(name=name, version=1)["pipeline"]
    with pytest.raises(ClientError) as info:
        client.update_pipeline(pipeline=stale)
    assert code_of(info) == "ConflictException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert client.get_pipeline(name=name)["pipeline"]["version"] == 2
    # Without a version the update applies, as on AWS.
    del stale["version"]
    assert client.update_pipeline(pipeline=stale)["pipeline"]["version"] == 3
    assert len(client.get_pipeline(name=name, version=2)["pipeline"]["stages"]) == 3
    assert len(client.get_pipeline(name=name, version=3)["pipeline"]["stages"]) == 2
    with pytest.raises(ClientError) as info:
        client.get_pipeline(name=name, version=7)
    assert code_of(info) == "PipelineVersionNotFoundException"


def test_delete_then_gone_and_deleting_again_succeeds(client: Any, unique: str) -> None:
    name = f"del-{unique}"
    client.create_pipeline(pipeline=pipeline(name))
    client.delete_pipeline(name=name)
    with pytest.raises(ClientError):
        client.get_pipeline(name=name)
    client.delete_pipeline(name=name)


def test_list_pipelines_pages_with_next_token(client: Any, unique: str) -> None:
    names = {f"list-{unique}-{i}" for i in range(7)}
    for n in names:
        client.create_pipeline(pipeline=pipeline(n))
    seen: list[str] = []
    kwargs: dict[str, Any] = {"maxResults": 3}
    while True:
        page = client.list_pipelines(**kwargs)
        assert len(page["pipelines"]) <= 3
        seen.extend(p["name"] for p in page["pipelines"])
        if "nextToken" not in page:
            break
        kwargs["nextToken"] = page["nextToken"]
    assert names <= set(seen)
    assert len(seen) == len(set(seen))
    paginated = [
        p["name"]
        for pg in client.get_paginator("list_pipelines").paginate()
        for p in pg["pipelines"]
    ]
    assert paginated == seen


def test_bad_next_token(client: Any) -> None:
    with pytest.raises(ClientError) as info:
        client.list_pipelines(nextToken="not-a-token")
    assert code_of(info) == "InvalidNextTokenException"


def test_tags_on_a_pipeline(client: Any, unique: str) -> None:
    name = f"tags-{unique}"
    arn = client.create_pipeline(pipeline=pipeline(name), tags=[{"key": "a", "value": "1"}])
    arn = client.get_pipeline(name=name)["metadata"]["pipelineArn"]
    client.tag_resource(
        resourceArn=arn, tags=[{"key": "b", "value": "2"}, {"key": "a", "value": "3"}]
    )
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == [
        {"key": "a", "value": "3"},
        {"key": "b", "value": "2"},
    ]
    client.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "b", "value": "2"}]


def test_too_many_tags(client: Any, unique: str) -> None:
    name = f"many-{unique}"
    client.create_pipeline(pipeline=pipeline(name))
    arn = client.get_pipeline(name=name)["metadata"]["pipelineArn"]
    client.tag_resource(resourceArn=arn, tags=[{"key": f"k{i}", "value": "v"} for i in range(50)])
    with pytest.raises(ClientError) as info:
        client.tag_resource(resourceArn=arn, tags=[{"key": "one-more", "value": "v"}])
    assert code_of(info) == "TooManyTagsException"
    assert len(client.list_tags_for_resource(resourceArn=arn)["tags"]) == 50
    with pytest.raises(ClientError) as info:
        client.create_pipeline(
            pipeline=pipeline(f"many2-{unique}"),
            tags=[{"key": f"k{i}", "value": "v"} for i in range(51)],
        )
    assert code_of(info) == "TooManyTagsException"


def test_tag_errors(client: Any, unique: str) -> None:
    with pytest.raises(ClientError) as info:
        client.tag_resource(resourceArn="not-an-arn", tags=[{"key": "a", "value": "b"}])
    assert code_of(info) == "ValidationException"
    with pytest.raises(ClientError) as info:
        client.tag_resource(
            resourceArn="arn:aws:codepipeline:us-east-1:123456789012:actiontype:broken",
            tags=[{"key": "a", "value": "b"}],
        )
    assert code_of(info) == "InvalidArnException"
    with pytest.raises(ClientError) as info:
        client.list_tags_for_resource(
            resourceArn="arn:aws:codepipeline:us-east-1:123456789012:missing"
        )
    assert code_of(info) == "ResourceNotFoundException"
    name = f"tagerr-{unique}"
    client.create_pipeline(pipeline=pipeline(name))
    arn = client.get_pipeline(name=name)["metadata"]["pipelineArn"]
    with pytest.raises(ClientError) as info:
        client.tag_resource(resourceArn=arn, tags=[{"key": "aws:reserved", "value": "b"}])
    assert code_of(info) == "InvalidTagsException"


def test_action_types_catalog(client: Any) -> None:
    types = client.list_action_types()["actionTypes"]
    keys = {(t["id"]["category"], t["id"]["owner"], t["id"]["provider"]) for t in types}
    for expected in [
        ("Source", "AWS", "CodeCommit"),
        ("Source", "AWS", "S3"),
        ("Source", "AWS", "ECR"),
        ("Source", "AWS", "CodeStarSourceConnection"),
        ("Source", "ThirdParty", "GitHub"),
        ("Build", "AWS", "CodeBuild"),
        ("Test", "AWS", "CodeBuild"),
        ("Deploy", "AWS", "CloudFormation"),
        ("Deploy", "AWS", "S3"),
        ("Invoke", "AWS", "Lambda"),
        ("Approval", "AWS", "Manual"),
        ("Compute", "AWS", "Commands"),
    ]:
        assert expected in keys
    third = client.list_action_types(actionOwnerFilter="ThirdParty")["actionTypes"]
    assert {t["id"]["owner"] for t in third} == {"ThirdParty"}
    github = next(t for t in third if t["id"]["provider"] == "GitHub")
    token = next(p for p in github["actionConfigurationProperties"] if p["name"] == "OAuthToken")
    assert token["secret"] is True
    got = client.get_action_type(category="Build", owner="AWS", provider="CodeBuild", version="1")[
        "actionType"
    ]
    assert got["inputArtifactDetails"] == {"minimumCount": 1, "maximumCount": 5}
    assert any(p["name"] == "ProjectName" and not p["optional"] for p in got["properties"])
    with pytest.raises(ClientError) as info:
        client.get_action_type(category="Build", owner="AWS", provider="Nope", version="1")
    assert code_of(info) == "ActionTypeNotFoundException"


def test_custom_action_type_lifecycle(client: Any, unique: str) -> None:
    provider = f"Tool{unique}"[:35]
    created = client.create_custom_action_type(
        category="Test",
        provider=provider,
        version="1",
        settings={"entityUrlTemplate": "https://ci.example/{Config:Job}"},
        configurationProperties=[
            {
                "name": "Job",
                "required": True,
                "key": True,
                "secret": False,
                "queryable": True,
                "type": "String",
            },
            {"name": "Token", "required": False, "key": False, "secret": True},
        ],
        inputArtifactDetails={"minimumCount": 1, "maximumCount": 1},
        outputArtifactDetails={"minimumCount": 0, "maximumCount": 1},
        tags=[{"key": "owner", "value": "qa"}],
    )
    assert created["actionType"]["id"] == {
        "category": "Test",
        "owner": "Custom",
        "provider": provider,
        "version": "1",
    }
    custom = client.list_action_types(actionOwnerFilter="Custom")["actionTypes"]
    assert any(t["id"]["provider"] == provider for t in custom)
    # A pipeline may now use it; its secret reads back masked.
    act = {
        "name": "Run",
        "actionTypeId": {
            "category": "Test",
            "owner": "Custom",
            "provider": provider,
            "version": "1",
        },
        "configuration": {"Job": "smoke", "Token": "s3cret"},
        "inputArtifacts": [{"name": "SourceOut"}],
    }
    name = f"custom-{unique}"
    made = client.create_pipeline(
        pipeline=pipeline(name, ("Source", [codecommit()]), ("Test", [act]))
    )
    assert made["pipeline"]["stages"][1]["actions"][0]["configuration"]["Token"] == "****"
    got = client.get_pipeline(name=name)["pipeline"]
    assert got["stages"][1]["actions"][0]["configuration"] == {"Job": "smoke", "Token": "****"}
    # Sending the mask back keeps the secret (the edit round trip); the pipeline still validates.
    assert client.update_pipeline(pipeline=got)["pipeline"]["version"] == 2
    client.delete_custom_action_type(category="Test", provider=provider, version="1")
    custom = client.list_action_types(actionOwnerFilter="Custom")["actionTypes"]
    assert not any(t["id"]["provider"] == provider for t in custom)
    with pytest.raises(ClientError) as info:
        client.create_custom_action_type(
            category="Test",
            provider=provider,
            version="1",
            inputArtifactDetails={"minimumCount": 0, "maximumCount": 0},
            outputArtifactDetails={"minimumCount": 0, "maximumCount": 0},
        )
    assert "version string never used before" in info.value.response["Error"]["Message"]


def test_update_action_type_errors(client: Any) -> None:
    decl = {
        "executor": {"configuration": {"jobWorkerExecutorConfiguration": {}}, "type": "JobWorker"},
        "id": {"category": "Build", "owner": "ThirdParty", "provider": "Missing", "version": "1"},
        "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 1},
        "outputArtifactDetails": {"minimumCount": 0, "maximumCount": 1},
    }
    with pytest.raises(ClientError) as info:
        client.update_action_type(actionType=decl)
    assert code_of(info) == "ActionTypeNotFoundException"
    decl["id"] = {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"}
    with pytest.raises(ClientError) as info:
        client.update_action_type(actionType=decl)
    assert code_of(info) == "RequestFailedException"


def test_validation_errors_name_the_field(client: Any, server: ServerProcess) -> None:
    # boto3 validates before sending, so speak the protocol directly as another SDK would.
    r = httpx.post(
        server.url,
        headers={
            "X-Amz-Target": "CodePipeline_20150709.GetPipeline",
            "Content-Type": "application/x-amz-json-1.1",
        },
        content=b'{"name": "bad name!"}',
    )
    assert r.status_code == 400
    assert r.json()["__type"] == "ValidationException"
    assert "at 'name' failed to satisfy constraint" in r.json()["message"]


def test_protocol_errors(server: ServerProcess) -> None:
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    r = httpx.post(
        server.url, headers={**headers, "X-Amz-Target": "CodePipeline_20150709.Nope"}, content=b"{}"
    )
    assert r.status_code == 400 and r.json()["__type"] == "UnknownOperationException"
    r = httpx.post(
        server.url,
        headers={**headers, "X-Amz-Target": "CodePipeline_20150709.ListPipelines"},
        content=b"{not json",
    )
    assert r.json()["__type"] == "SerializationException"
    big = b'{"name": "' + b"x" * (7 * 1024 * 1024) + b'"}'
    r = httpx.post(
        server.url,
        headers={**headers, "X-Amz-Target": "CodePipeline_20150709.GetPipeline"},
        content=big,
    )
    assert r.status_code == 413
    assert r.json()["__type"] == "RequestEntityTooLargeException"
    assert "limit" in r.json()["message"]


def test_every_definition_operation_was_exercised() -> None:
    # Runs last in this module (pytest keeps file order): proves the walk above covered them all.
    assert DEFINITION_OPERATIONS <= SEEN, sorted(DEFINITION_OPERATIONS - SEEN)
