"""The `stageline` command as a user runs it: a real process against a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.declarations import codebuild, codecommit, pipeline
from tests.support.server import ServerProcess


def stageline(
    *args: str, endpoint: str | None = None, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    if endpoint:
        env["STAGELINE_ENDPOINT_URL"] = endpoint
    return subprocess.run(
        [sys.executable, "-m", "stageline", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )


def test_lint_accepts_a_valid_file_and_explains_a_broken_one(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"pipeline": pipeline("linted")}))
    result = stageline("lint", str(good))
    assert result.returncode == 0, result.stderr
    assert "pipeline 'linted'" in result.stdout
    bad = pipeline(
        "broken", ("Source", [codecommit()]), ("Build", [codebuild(inputs=("SourceOutput",))])
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump({"pipeline": bad}))
    result = stageline("lint", str(broken))
    assert result.returncode == 1
    assert (
        "input artifact 'SourceOutput' is not produced by an earlier action (did you mean 'SourceOut'?)"
        in result.stderr
    )


def test_lint_reports_unparseable_files_with_their_position(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("pipeline:\n  name: [unclosed\n")
    result = stageline("lint", str(bad))
    assert result.returncode == 1
    assert "bad.yaml" in result.stderr and "line" in result.stderr


def test_apply_get_list_delete(server: ServerProcess, tmp_path: Path, unique: str) -> None:
    name = f"applied-{unique}"
    spec = tmp_path / "p.yaml"
    spec.write_text(
        yaml.safe_dump({"pipeline": pipeline(name), "tags": [{"key": "team", "value": "a"}]})
    )
    result = stageline("apply", str(spec), endpoint=server.url)
    assert result.returncode == 0, result.stderr
    assert f"created {name} (version 1)" in result.stdout
    result = stageline("apply", str(spec), endpoint=server.url)
    assert f"updated {name} (version 2)" in result.stdout
    got = stageline("get", name, "--output", "json", endpoint=server.url)
    assert json.loads(got.stdout)["pipeline"]["version"] == 2
    old = stageline("get", name, "--version", "1", "-o", "yaml", endpoint=server.url)
    assert yaml.safe_load(old.stdout)["pipeline"]["version"] == 1
    table = stageline("get", name, "-o", "table", endpoint=server.url)
    assert "Source/AWS/CodeCommit" in table.stdout
    listed = stageline("list", "--output", "json", endpoint=server.url)
    assert name in [p["name"] for p in json.loads(listed.stdout)["pipelines"]]
    assert name in stageline("list", endpoint=server.url).stdout
    gone = stageline("delete", name, "--yes", endpoint=server.url)
    assert gone.returncode == 0
    missing = stageline("get", name, endpoint=server.url)
    assert missing.returncode != 0 and "PipelineNotFoundException" in missing.stderr


def test_commands_say_when_no_server_answers(tmp_path: Path) -> None:
    result = stageline("list", endpoint="http://127.0.0.1:9")
    assert result.returncode != 0
    assert "cannot reach a stageline server at http://127.0.0.1:9" in result.stderr


RUN_SPEC = """
pipeline:
  name: run-demo
  roleArn: arn:aws:iam::123456789012:role/demo
  artifactStore: {type: S3, location: demo-artifacts}
  stages:
    - name: Source
      actions:
        - name: Code
          actionTypeId: {category: Source, owner: AWS, provider: CodeStarSourceConnection, version: "1"}
          configuration:
            ConnectionArn: arn:aws:codestar-connections:us-east-1:123456789012:connection/abc
            FullRepositoryId: me/project
            BranchName: main
          outputArtifacts: [{name: Src}]
    - name: Build
      actions:
        - name: Test
          actionTypeId: {category: Compute, owner: AWS, provider: Commands, version: "1"}
          inputArtifacts: [{name: Src}]
          commands: [%s]
"""


@pytest.mark.parametrize(
    ("command", "code", "expected"), [("python3 check.py", 0, "Succeeded"), ("exit 7", 1, "Failed")]
)
def test_run_a_pipeline_on_local_files(
    tmp_path: Path, command: str, code: int, expected: str
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "check.py").write_text("print('checked the project')\n")
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(RUN_SPEC % json.dumps(command))
    result = stageline("run", str(spec), "--source", f"Code={project}")
    assert result.returncode == code, result.stderr
    assert expected in result.stderr
    if code:
        assert "exited with 7" in result.stderr


CFN_TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Branch:
    Type: String
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties: {AssumeRolePolicyDocument: {}}
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      Name: !Sub "${AWS::StackName}-cfn"
      RoleArn: !GetAtt Role.Arn
      ArtifactStore: {Type: S3, Location: !Sub "artifacts-${AWS::AccountId}"}
      DisableInboundStageTransitions:
        - {StageName: Build, Reason: frozen by the template}
      Stages:
        - Name: Source
          Actions:
            - Name: Source
              ActionTypeId: {Category: Source, Owner: AWS, Provider: CodeCommit, Version: "1"}
              Configuration: {RepositoryName: app, BranchName: !Ref Branch, PollForSourceChanges: false}
              OutputArtifacts: [{Name: Src}]
        - Name: Build
          Actions:
            - Name: Build
              ActionTypeId: {Category: Build, Owner: AWS, Provider: CodeBuild, Version: "1"}
              Configuration: {ProjectName: !Ref AWS::StackName}
              InputArtifacts: [{Name: Src}]
"""


def test_apply_a_cloudformation_template(
    server: ServerProcess, tmp_path: Path, unique: str
) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(CFN_TEMPLATE)
    missing = stageline("lint", str(template))
    assert missing.returncode == 1 and "--parameter Branch=VALUE" in missing.stderr
    linted = stageline(
        "lint", str(template), "--parameter", "Branch=main", "--stack-name", f"st{unique}"
    )
    assert linted.returncode == 0, linted.stderr
    assert "stands for the role created by this template" in linted.stdout
    applied = stageline(
        "apply",
        str(template),
        "-p",
        "Branch=main",
        "--stack-name",
        f"st{unique}",
        endpoint=server.url,
    )
    assert applied.returncode == 0, applied.stderr
    assert "disabled the transition into Build" in applied.stdout
    cp = server.client("codepipeline")
    got = cp.get_pipeline(name=f"st{unique}-cfn")["pipeline"]
    assert got["stages"][0]["actions"][0]["configuration"]["BranchName"] == "main"
    assert got["stages"][0]["actions"][0]["configuration"]["PollForSourceChanges"] == "false"
    assert got["roleArn"] == "arn:aws:iam::123456789012:role/Role"
    build = cp.get_pipeline_state(name=f"st{unique}-cfn")["stageStates"][1]
    assert build["inboundTransitionState"] == {
        **build["inboundTransitionState"],
        "enabled": False,
        "disabledReason": "frozen by the template",
    }


def test_run_against_a_server_with_an_approval(
    server: ServerProcess, tmp_path: Path, unique: str
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "check.py").write_text("print('ok')\n")
    spec = tmp_path / "pipeline.yaml"
    text = RUN_SPEC.replace("run-demo", f"remote-{unique}") % json.dumps("python3 check.py")
    text += """    - name: Gate
      actions:
        - name: Approve
          actionTypeId: {category: Approval, owner: AWS, provider: Manual, version: "1"}
"""
    spec.write_text(text)
    result = stageline(
        "run",
        str(spec),
        "--source",
        f"Code={project}",
        "--auto-approve",
        "--endpoint-url",
        server.url,
    )
    assert result.returncode == 0, result.stderr
    cp = server.client("codepipeline")
    summaries = cp.list_pipeline_executions(pipelineName=f"remote-{unique}")[
        "pipelineExecutionSummaries"
    ]
    assert summaries[0]["status"] == "Succeeded"
    assert (
        cp.get_pipeline_state(name=f"remote-{unique}")["stageStates"][2]["latestExecution"][
            "status"
        ]
        == "Succeeded"
    )
