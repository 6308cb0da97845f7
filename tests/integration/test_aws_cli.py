"""The real `aws` CLI, unchanged, against a real server: `--endpoint-url` is all it takes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.aws_cli import AWS, aws_env
from tests.support.declarations import codebuild, codecommit, pipeline
from tests.support.server import ServerProcess


class AwsCli:
    def __init__(self, url: str, home: Path) -> None:
        self.url = url
        self.env = aws_env(home)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        assert AWS, "the aws CLI is installed with the test extras"
        return subprocess.run(
            [AWS, "codepipeline", *args, "--endpoint-url", self.url, "--output", "json"],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
        )

    def ok(self, *args: str) -> Any:
        result = self.run(*args)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout) if result.stdout.strip() else None

    def fails(self, *args: str) -> str:
        result = self.run(*args)
        assert result.returncode != 0, result.stdout
        return result.stderr


@pytest.fixture(scope="module")
def aws(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> AwsCli:
    return AwsCli(server.url, tmp_path_factory.mktemp("awshome"))


def test_create_get_update_list_delete(aws: AwsCli, tmp_path: Path, unique: str) -> None:
    name = f"cli-{unique}"
    spec = tmp_path / "pipeline.json"
    spec.write_text(json.dumps({"pipeline": pipeline(name)}))
    created = aws.ok("create-pipeline", "--cli-input-json", f"file://{spec}")
    assert created["pipeline"]["version"] == 1
    got = aws.ok("get-pipeline", "--name", name)
    assert got["metadata"]["pipelineArn"].endswith(f":{name}")
    # The get-pipeline round trip people do: edit the printed JSON, drop metadata, update.
    edited = got["pipeline"]
    edited["stages"][1]["name"] = "Compile"
    spec.write_text(json.dumps({"pipeline": edited}))
    assert (
        aws.ok("update-pipeline", "--cli-input-json", f"file://{spec}")["pipeline"]["version"] == 2
    )
    assert (
        aws.ok("get-pipeline", "--name", name, "--pipeline-version", "1")["pipeline"]["stages"][1][
            "name"
        ]
        == "Build"
    )
    names = [p["name"] for p in aws.ok("list-pipelines")["pipelines"]]
    assert name in names
    aws.ok("delete-pipeline", "--name", name)
    assert "PipelineNotFoundException" in aws.fails("get-pipeline", "--name", name)


def test_errors_reach_the_user(aws: AwsCli, tmp_path: Path, unique: str) -> None:
    assert "PipelineNotFoundException" in aws.fails("get-pipeline", "--name", f"missing-{unique}")
    name = f"clierr-{unique}"
    spec = tmp_path / "p.json"
    spec.write_text(json.dumps({"pipeline": pipeline(name)}))
    aws.ok("create-pipeline", "--cli-input-json", f"file://{spec}")
    assert "PipelineNameInUseException" in aws.fails(
        "create-pipeline", "--cli-input-json", f"file://{spec}"
    )
    bad = pipeline(
        f"bad-{unique}", ("Source", [codecommit()]), ("Build", [codebuild(inputs=("Nope",))])
    )
    spec.write_text(json.dumps({"pipeline": bad}))
    err = aws.fails("create-pipeline", "--cli-input-json", f"file://{spec}")
    assert "InvalidStructureException" in err and "input artifact 'Nope'" in err
    stale = aws.ok("get-pipeline", "--name", name)["pipeline"]
    spec.write_text(json.dumps({"pipeline": stale}))
    aws.ok("update-pipeline", "--cli-input-json", f"file://{spec}")
    assert "ConflictException" in aws.fails("update-pipeline", "--cli-input-json", f"file://{spec}")
    assert "InvalidNextTokenException" in aws.fails("list-pipelines", "--next-token", "garbage")


def test_tags(aws: AwsCli, tmp_path: Path, unique: str) -> None:
    name = f"clitag-{unique}"
    spec = tmp_path / "p.json"
    spec.write_text(json.dumps({"pipeline": pipeline(name), "tags": [{"key": "a", "value": "1"}]}))
    aws.ok("create-pipeline", "--cli-input-json", f"file://{spec}")
    arn = aws.ok("get-pipeline", "--name", name)["metadata"]["pipelineArn"]
    aws.ok("tag-resource", "--resource-arn", arn, "--tags", "key=b,value=2")
    tags = aws.ok("list-tags-for-resource", "--resource-arn", arn)["tags"]
    assert tags == [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]
    aws.ok("untag-resource", "--resource-arn", arn, "--tag-keys", "a")
    assert aws.ok("list-tags-for-resource", "--resource-arn", arn)["tags"] == [
        {"key": "b", "value": "2"}
    ]
    many = [f"key=k{i},value=v" for i in range(50)]
    assert "TooManyTagsException" in aws.fails(
        "tag-resource", "--resource-arn", arn, "--tags", *many
    )


def test_action_types(aws: AwsCli, unique: str) -> None:
    listed = aws.ok("list-action-types", "--action-owner-filter", "AWS")["actionTypes"]
    assert any(t["id"]["provider"] == "CodeCommit" for t in listed)
    got = aws.ok(
        "get-action-type",
        "--category",
        "Approval",
        "--owner",
        "AWS",
        "--provider",
        "Manual",
        "--action-version",
        "1",
    )
    assert got["actionType"]["inputArtifactDetails"] == {"minimumCount": 0, "maximumCount": 0}
    provider = f"Cli{unique}"
    created = aws.ok(
        "create-custom-action-type",
        "--category",
        "Build",
        "--provider",
        provider,
        "--action-version",
        "1",
        "--input-artifact-details",
        "minimumCount=0,maximumCount=1",
        "--output-artifact-details",
        "minimumCount=0,maximumCount=1",
        "--configuration-properties",
        "name=Job,required=true,key=true,secret=false",
    )
    assert created["actionType"]["id"]["owner"] == "Custom"
    aws.ok(
        "delete-custom-action-type",
        "--category",
        "Build",
        "--provider",
        provider,
        "--action-version",
        "1",
    )
    missing = aws.fails(
        "update-action-type",
        "--action-type",
        json.dumps(
            {
                "executor": {
                    "configuration": {"jobWorkerExecutorConfiguration": {}},
                    "type": "JobWorker",
                },
                "id": {
                    "category": "Build",
                    "owner": "ThirdParty",
                    "provider": "Nobody",
                    "version": "1",
                },
                "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 0},
                "outputArtifactDetails": {"minimumCount": 0, "maximumCount": 0},
            }
        ),
    )
    assert "ActionTypeNotFoundException" in missing
