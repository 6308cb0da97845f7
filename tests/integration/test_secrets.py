"""Secrets against a real server: boto3's secretsmanager and ssm clients, the CLI, and a build.

Every raw response is checked against botocore's output shapes and searched
for the values stored: none may come back, whatever the operation.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.fernet import Fernet

from tests.support.declarations import ROLE
from tests.support.logs import read_log
from tests.support.pipelines import wait_until
from tests.support.server import ServerProcess
from tests.support.wire import ResponseRecorder

PASSWORD = "pa55-Integration-Word"
CREDS = json.dumps({"username": "admin", "password": PASSWORD})
PARAMETER_VALUE = "S3cure-Param-Value"
CLI_VALUE = "typed-into-stdin-9f3"
VALUES = (PASSWORD, PARAMETER_VALUE, CLI_VALUE)
RECORDERS: list[ResponseRecorder] = []


def recorded(client: Any) -> Any:
    RECORDERS.append(ResponseRecorder(client))
    return client


@pytest.fixture
def sm(server: ServerProcess) -> Any:
    return recorded(server.client("secretsmanager"))


@pytest.fixture
def ssm(server: ServerProcess) -> Any:
    return recorded(server.client("ssm"))


@pytest.fixture(autouse=True)
def responses_are_aws_shaped_and_carry_no_value() -> Iterator[None]:
    yield
    for recorder in RECORDERS:
        assert recorder.violations == []
        for _operation, _status, payload in recorder.calls:
            for value in VALUES:
                assert value not in json.dumps(payload)
    RECORDERS.clear()


def code_of(info: pytest.ExceptionInfo[ClientError]) -> str:
    return info.value.response["Error"]["Code"]


def test_secrets_manager_lifecycle(sm: Any, server: ServerProcess, unique: str) -> None:
    name = f"db/creds-{unique}"
    created = sm.create_secret(
        Name=name, SecretString=CREDS, Description="login", Tags=[{"Key": "team", "Value": "a"}]
    )
    assert created["Name"] == name and created["ARN"].startswith(
        f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-"
    )
    put = sm.put_secret_value(SecretId=created["ARN"], SecretString=CREDS.replace("admin", "root"))
    assert put["VersionStages"] == ["AWSCURRENT"]
    described = sm.describe_secret(SecretId=name)
    assert described["VersionIdsToStages"] == {
        put["VersionId"]: ["AWSCURRENT"],
        created["VersionId"]: ["AWSPREVIOUS"],
    }
    assert described["Tags"] == [{"Key": "team", "Value": "a"}]
    assert described["Description"] == "login" and "DeletedDate" not in described
    versions = sm.list_secret_version_ids(SecretId=name)["Versions"]
    assert {v["VersionId"] for v in versions} == {created["VersionId"], put["VersionId"]}

    for call in (
        lambda: sm.get_secret_value(SecretId=name),
        lambda: sm.batch_get_secret_value(SecretIdList=[name]),
    ):
        with pytest.raises(ClientError) as info:
            call()
        assert code_of(info) == "AccessDeniedException"
        assert "never returns secret values over the API" in str(info.value)

    with pytest.raises(ClientError) as info:
        sm.create_secret(Name=name, SecretString="x")
    assert code_of(info) == "ResourceExistsException"
    with pytest.raises(ClientError) as info:
        sm.delete_secret(SecretId=name, RecoveryWindowInDays=3)
    assert code_of(info) == "InvalidParameterException"
    with pytest.raises(ClientError) as info:
        sm.delete_secret(SecretId=name, RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True)
    assert code_of(info) == "InvalidParameterException"

    deleted = sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    assert (deleted["DeletionDate"] - sm.describe_secret(SecretId=name)["DeletedDate"]).days == 7
    listed = [s["Name"] for s in sm.list_secrets()["SecretList"]]
    assert name not in listed
    planned = sm.list_secrets(IncludePlannedDeletion=True)["SecretList"]
    assert name in [s["Name"] for s in planned]
    with pytest.raises(ClientError) as info:
        sm.put_secret_value(SecretId=name, SecretString="x")
    assert code_of(info) == "InvalidRequestException"
    assert sm.restore_secret(SecretId=name)["Name"] == name
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    with pytest.raises(ClientError) as info:
        sm.describe_secret(SecretId=name)
    assert code_of(info) == "ResourceNotFoundException"
    assert f"stageline secret put {name}" in str(info.value)
    assert "DeletionDate" in sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def test_list_secrets_pages_and_filters(sm: Any, unique: str) -> None:
    names = [f"paged-{unique}/{n}" for n in range(5)]
    for name in names:
        sm.create_secret(Name=name, SecretString="v")
    flt = [{"Key": "name", "Values": [f"paged-{unique}/"]}]
    seen: list[str] = []
    for page in sm.get_paginator("list_secrets").paginate(
        Filters=flt, SortBy="name", PaginationConfig={"PageSize": 2}
    ):
        assert len(page["SecretList"]) <= 2
        seen.extend(s["Name"] for s in page["SecretList"])
    assert seen == names
    with pytest.raises(ClientError) as info:
        sm.list_secrets(NextToken="not-a-token")
    assert code_of(info) == "InvalidNextTokenException"


def test_ssm_parameters(ssm: Any, unique: str) -> None:
    secure, plain = f"/app-{unique}/db/password", f"/app-{unique}/region"
    assert (
        ssm.put_parameter(Name=secure, Value=PARAMETER_VALUE, Type="SecureString")["Version"] == 1
    )
    ssm.put_parameter(Name=plain, Value="eu-west-1", Type="String", Description="where")
    with pytest.raises(ClientError) as info:
        ssm.put_parameter(Name=plain, Value="us-east-1", Type="String")
    assert code_of(info) == "ParameterAlreadyExists"
    assert ssm.put_parameter(Name=plain, Value="us-east-1", Overwrite=True)["Version"] == 2

    got = ssm.get_parameter(Name=plain)["Parameter"]
    assert (got["Value"], got["Version"], got["Type"]) == ("us-east-1", 2, "String")
    assert ssm.get_parameter(Name=f"{plain}:1")["Parameter"]["Value"] == "eu-west-1"
    masked = ssm.get_parameter(Name=secure)["Parameter"]
    assert masked["Value"] == "****" and masked["Type"] == "SecureString"
    with pytest.raises(ClientError) as info:
        ssm.get_parameter(Name=secure, WithDecryption=True)
    assert code_of(info) == "AccessDeniedException"
    with pytest.raises(ClientError) as info:
        ssm.get_parameter(Name=f"/app-{unique}/missing")
    assert code_of(info) == "ParameterNotFound"

    both = ssm.get_parameters(Names=[plain, secure, "/nope"])
    assert [p["Value"] for p in both["Parameters"]] == ["us-east-1", "****"]
    assert both["InvalidParameters"] == ["/nope"]
    by_path = ssm.get_parameters_by_path(Path=f"/app-{unique}", Recursive=True)["Parameters"]
    assert sorted(p["Name"] for p in by_path) == [secure, plain]

    described = [
        p
        for page in ssm.get_paginator("describe_parameters").paginate(
            ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": [f"/app-{unique}"]}],
            PaginationConfig={"PageSize": 1},
        )
        for p in page["Parameters"]
    ]
    assert [(p["Name"], p["Version"]) for p in described] == [(secure, 1), (plain, 2)]
    assert described[1]["Description"] == "where"

    deleted = ssm.delete_parameters(Names=[plain, "/nope"])
    assert deleted == {**deleted, "DeletedParameters": [plain], "InvalidParameters": ["/nope"]}
    ssm.delete_parameter(Name=secure)
    with pytest.raises(ClientError) as info:
        ssm.delete_parameter(Name=secure)
    assert code_of(info) == "ParameterNotFound"


def stageline(
    server: ServerProcess, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "STAGELINE_ENDPOINT_URL": server.url}
    return subprocess.run(
        [sys.executable, "-m", "stageline", "secret", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_the_cli_stores_from_stdin_and_never_shows_the_value(
    server: ServerProcess, unique: str
) -> None:
    name = f"cli-{unique}"
    outputs: list[str] = []

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        result = stageline(server, *args, stdin=stdin)
        outputs.extend([result.stdout, result.stderr])
        assert result.returncode == 0, result.stderr
        return result

    first = run("put", name, "--description", "from the CLI", stdin=CLI_VALUE + "\n")
    assert f"stored secret {name} (version " in first.stdout
    again = run("put", name, "--output", "json", stdin=CLI_VALUE + "-2\n")
    assert json.loads(again.stdout)["kind"] == "secret"
    run("put", f"/{name}/token", "--kind", "parameter", stdin=CLI_VALUE)
    listed = json.loads(run("list", "--output", "json").stdout)
    mine = {item["name"]: item for item in listed if name in item["name"]}
    assert mine[name]["description"] == "from the CLI"
    assert mine[f"/{name}/token"]["type"] == "SecureString"
    assert name in run("list").stdout

    sm = server.client("secretsmanager")
    assert len(sm.list_secret_version_ids(SecretId=name)["Versions"]) == 2
    assert "scheduled for deletion" in run("delete", name).stdout
    assert "restored" in run("restore", name).stdout
    run("delete", name, "--force")
    run("delete", f"/{name}/token", "--kind", "parameter")
    empty = stageline(server, "put", "x", stdin="")
    assert empty.returncode != 0 and "empty" in empty.stderr
    for text in outputs:
        assert CLI_VALUE not in text

    key_file = server.data_dir / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    for value in VALUES:
        assert value not in "".join(server.log)


BUILDSPEC = """\
version: 0.2
env:
  secrets-manager:
    DB_PASSWORD: {secret}:password
  parameter-store:
    API_TOKEN: {parameter}
phases:
  build:
    commands:
      - test "$DB_PASSWORD" = "{password}"
      - test "$API_TOKEN" = "{token}"
      - echo "password is $DB_PASSWORD"
"""


def test_a_build_reads_secrets_from_the_store(
    server: ServerProcess, sm: Any, ssm: Any, unique: str
) -> None:
    secret, parameter = f"build/{unique}", f"/build/{unique}/token"
    sm.create_secret(Name=secret, SecretString=CREDS)
    ssm.put_parameter(Name=parameter, Value=PARAMETER_VALUE, Type="SecureString")
    cb = server.client("codebuild")
    buildspec = BUILDSPEC.format(
        secret=secret, parameter=parameter, password=PASSWORD, token=PARAMETER_VALUE
    )
    cb.create_project(
        name=f"secrets-{unique}",
        source={"type": "NO_SOURCE", "buildspec": buildspec},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
        },
        serviceRole=ROLE,
    )
    started = cb.start_build(projectName=f"secrets-{unique}")["build"]
    build = wait_until(
        lambda: (b := cb.batch_get_builds(ids=[started["id"]])["builds"][0])["buildComplete"] and b,
        60,
    )
    log = read_log(server, build["logs"]["streamName"])
    assert build["buildStatus"] == "SUCCEEDED", log
    assert "password is " in log and PASSWORD not in log

    missing = cb.start_build(
        projectName=f"secrets-{unique}",
        buildspecOverride=BUILDSPEC.format(
            secret=f"missing-{unique}", parameter=parameter, password="", token=""
        ),
    )["build"]
    failed = wait_until(
        lambda: (b := cb.batch_get_builds(ids=[missing["id"]])["builds"][0])["buildComplete"] and b,
        60,
    )
    assert failed["buildStatus"] != "SUCCEEDED"
    text = read_log(server, failed["logs"]["streamName"]) + json.dumps(failed, default=str)
    assert f"stageline secret put missing-{unique}" in text


def test_the_server_refuses_a_key_file_others_can_read(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    key_file = data_dir / "secret.key"
    key_file.write_bytes(Fernet.generate_key())
    key_file.chmod(0o644)
    result = subprocess.run(
        [sys.executable, "-m", "stageline", "server", "--port", "0", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"run `chmod 600 {key_file}`" in result.stderr
    assert "Traceback" not in result.stderr  # one clear line, not a stack
