"""Connections against a real server: both AWS APIs, pipelines that fetch through them, the CLI,
and the connection's webhook URL with its webhook secret.

The remote "GitHub" is a directory of bare repositories (``OWNER/REPO.git``) the
server reaches as ``--github-url file://...``; a self-managed host points at the
same directory, as any plain git URL can be.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import botocore.session
import httpx
import pytest
from botocore.exceptions import ClientError
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from stageline.webhooks.auth import sign
from tests.support.git import GitClient
from tests.support.pipelines import Watcher, commands, declaration
from tests.support.server import ServerProcess, start_server
from tests.support.wire import ResponseRecorder
from tests.unit.connections.remotes import RemoteRepos

CODECONNECTIONS_PREFIX = "com.amazonaws.codeconnections.CodeConnections_20231201"
MISSING_ID = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
def remotes(tmp_path_factory: pytest.TempPathFactory) -> RemoteRepos:
    base = tmp_path_factory.mktemp("remotes")
    remotes = RemoteRepos(base / "github", GitClient(base / "git-home"))
    remotes.root.mkdir()
    return remotes


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, remotes: RemoteRepos
) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path_factory.mktemp("server"), "--github-url", remotes.url)
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def cs(server: ServerProcess) -> Iterator[Any]:
    client = server.client("codestar-connections")
    recorder = ResponseRecorder(client)
    yield client
    assert recorder.violations == []


@pytest.fixture
def cp(server: ServerProcess) -> Any:
    return server.client("codepipeline")


@pytest.fixture
def app_repo(remotes: RemoteRepos, unique: str) -> tuple[str, str]:
    """acme/app-<unique> with one commit; (FullRepositoryId, commit)."""
    full = f"acme/app-{unique}"
    remotes.create(full)
    commit = remotes.commit(full, {"app.txt": "hello\n", "lib/util.py": "x = 1\n"}, "Add the app")
    return full, commit


def connection_source(
    arn: str, repository: str, *, namespace: str = "Src", **config: str
) -> dict[str, Any]:
    return {
        "name": "Source",
        "namespace": namespace,
        "actionTypeId": {
            "category": "Source",
            "owner": "AWS",
            "provider": "CodeStarSourceConnection",
            "version": "1",
        },
        "configuration": {
            "ConnectionArn": arn,
            "FullRepositoryId": repository,
            "BranchName": "main",
            "DetectChanges": "false",
            **config,
        },
        "outputArtifacts": [{"name": "Src"}],
    }


def run_pipeline(cp: Any, name: str, *stages: tuple[str, list[dict[str, Any]]]) -> dict[str, Any]:
    cp.create_pipeline(pipeline=declaration(name, *stages, pipelineType="V2"))
    watcher = Watcher(cp, name)
    execution = watcher.latest()
    status = watcher.finished(execution)
    return {"status": status, "actions": watcher.actions(execution)}


def test_hosts_and_connections_through_codestar_connections(cs: Any, remotes: RemoteRepos) -> None:
    host_arn = cs.create_host(
        Name="own-git", ProviderType="GitLabSelfManaged", ProviderEndpoint=remotes.url
    )["HostArn"]
    assert host_arn.startswith("arn:aws:codestar-connections:")
    assert cs.get_host(HostArn=host_arn)["Status"] == "AVAILABLE"
    arn = cs.create_connection(
        ConnectionName="own-git", HostArn=host_arn, Tags=[{"Key": "team", "Value": "web"}]
    )["ConnectionArn"]
    got = cs.get_connection(ConnectionArn=arn)
    assert got["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/x-amz-json-1.0"
    assert got["Connection"]["ConnectionStatus"] == "AVAILABLE"
    assert got["Connection"]["ProviderType"] == "GitLabSelfManaged"
    listed = cs.list_connections(HostArnFilter=host_arn)["Connections"]
    assert [c["ConnectionName"] for c in listed] == ["own-git"]
    assert any(h["HostArn"] == host_arn for h in cs.list_hosts()["Hosts"])
    assert cs.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "web"}]
    with pytest.raises(ClientError) as exc:
        cs.delete_host(HostArn=host_arn)
    assert exc.value.response["Error"]["Code"] == "ResourceUnavailableException"
    with pytest.raises(cs.exceptions.ResourceNotFoundException):
        cs.get_connection(ConnectionArn=arn[:-4] + "0000")
    cs.delete_connection(ConnectionArn=arn)
    cs.delete_host(HostArn=host_arn)
    with pytest.raises(cs.exceptions.ResourceNotFoundException):
        cs.get_host(HostArn=host_arn)


def test_codeconnections_speaks_of_the_same_resources(server: ServerProcess, cs: Any) -> None:
    cc = server.client("codeconnections")
    arn = cc.create_connection(ConnectionName="cc-gh", ProviderType="GitHub")["ConnectionArn"]
    assert arn.startswith("arn:aws:codeconnections:")
    old_form = arn.replace(":codeconnections:", ":codestar-connections:")
    assert cs.get_connection(ConnectionArn=arn)["Connection"]["ConnectionArn"] == old_form
    assert cc.get_connection(ConnectionArn=old_form)["Connection"]["ConnectionName"] == "cc-gh"
    with pytest.raises(ClientError) as exc:
        cc.list_repository_links()
    assert exc.value.response["Error"]["Code"] == "UnsupportedOperationException"
    cs.delete_connection(ConnectionArn=arn)


def test_codeconnections_over_smithy_rpc_v2_cbor(server: ServerProcess) -> None:
    model = botocore.session.get_session().get_service_model("codeconnections")
    serializer = create_serializer("smithy-rpc-v2-cbor", include_validation=False)
    parser = create_parser("smithy-rpc-v2-cbor")

    def call(operation: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        op = model.operation_model(operation)
        request = serializer.serialize_to_request(params, op)
        assert request["url_path"] == f"/service/{CODECONNECTIONS_PREFIX}/operation/{operation}"
        response = httpx.post(
            server.url + request["url_path"], content=request["body"], headers=request["headers"]
        )
        assert response.headers["smithy-protocol"] == "rpc-v2-cbor"
        raw = {
            "status_code": response.status_code,
            "headers": dict(response.headers),
            "body": response.content,
        }
        return response.status_code, parser.parse(
            raw, op.output_shape if response.status_code < 300 else None
        )

    status, made = call("CreateConnection", {"ConnectionName": "cbor", "ProviderType": "GitLab"})
    assert status == 200 and made["ConnectionArn"].startswith("arn:aws:codeconnections:")
    status, got = call("GetConnection", {"ConnectionArn": made["ConnectionArn"]})
    assert status == 200 and got["Connection"]["ProviderType"] == "GitLab"
    status, error = call("GetConnection", {"ConnectionArn": made["ConnectionArn"][:-4] + "0000"})
    assert status == 400 and error["Error"]["Code"] == "ResourceNotFoundException"
    assert call("DeleteConnection", {"ConnectionArn": made["ConnectionArn"]})[0] == 200


def test_a_pipeline_reads_through_a_connection_in_both_arn_forms(
    cs: Any, cp: Any, app_repo: tuple[str, str], unique: str
) -> None:
    repository, commit = app_repo
    arn = cs.create_connection(ConnectionName=f"gh-{unique}", ProviderType="GitHub")[
        "ConnectionArn"
    ]
    for form, value in (
        ("old", arn),
        ("new", arn.replace(":codestar-connections:", ":codeconnections:")),
    ):
        run = run_pipeline(
            cp,
            f"conn-{form}-{unique}",
            ("Source", [connection_source(value, repository)]),
            (
                "Build",
                [
                    commands(
                        "Check",
                        [
                            'test "$(cat app.txt)" = hello',
                            "test -f lib/util.py",
                            'export SEEN="#{Src.CommitId} #{Src.FullRepositoryName} '
                            '#{Src.BranchName} #{Src.CommitMessage}"',
                            'export ARN="#{Src.ConnectionArn}"',
                        ],
                        outputVariables=["SEEN", "ARN"],
                    )
                ],
            ),
        )
        assert run["status"] == "Succeeded", run["actions"]
        source = run["actions"]["Source"]["output"]
        assert source["outputVariables"]["CommitId"] == commit
        assert source["outputVariables"]["AuthorDate"].endswith("Z")
        assert source["executionResult"]["externalExecutionId"] == commit
        check = run["actions"]["Check"]["output"]["outputVariables"]
        assert check["SEEN"] == f"{commit} {repository} main Add the app"
        assert check["ARN"] == value


def test_codebuild_clone_ref_is_a_full_clone(
    cs: Any, cp: Any, remotes: RemoteRepos, app_repo: tuple[str, str], unique: str
) -> None:
    repository, first = app_repo
    second = remotes.commit(repository, {"app.txt": "hello again\n"}, "Second")
    arn = cs.create_connection(ConnectionName=f"clone-{unique}", ProviderType="GitHub")[
        "ConnectionArn"
    ]
    run = run_pipeline(
        cp,
        f"clone-{unique}",
        (
            "Source",
            [connection_source(arn, repository, OutputArtifactFormat="CODEBUILD_CLONE_REF")],
        ),
        (
            "Build",
            [
                commands(
                    "Git",
                    [
                        "export HEAD_SEEN=$(git rev-parse HEAD)",
                        "export BRANCH_SEEN=$(git symbolic-ref --short HEAD)",
                        "export HISTORY=$(git rev-list --count HEAD)",
                    ],
                    outputVariables=["HEAD_SEEN", "BRANCH_SEEN", "HISTORY"],
                )
            ],
        ),
    )
    assert run["status"] == "Succeeded", run["actions"]
    seen = run["actions"]["Git"]["output"]["outputVariables"]
    assert seen == {"HEAD_SEEN": second, "BRANCH_SEEN": "main", "HISTORY": "2"}
    assert first != second


def test_github_version_1_reads_from_the_github_url(
    cp: Any, remotes: RemoteRepos, unique: str
) -> None:
    remotes.create(f"octo/web-{unique}")
    commit = remotes.commit(f"octo/web-{unique}", {"index.html": "<p>hi</p>\n"}, "Page")
    github = {
        "name": "Source",
        "namespace": "GH",
        "actionTypeId": {
            "category": "Source",
            "owner": "ThirdParty",
            "provider": "GitHub",
            "version": "1",
        },
        "configuration": {
            "Owner": "octo",
            "Repo": f"web-{unique}",
            "Branch": "main",
            "OAuthToken": "ghp_unused_for_file_urls",
            "PollForSourceChanges": "false",
        },
        "outputArtifacts": [{"name": "Src"}],
    }
    run = run_pipeline(
        cp,
        f"ghv1-{unique}",
        ("Source", [github]),
        (
            "Build",
            [
                commands(
                    "Check",
                    ["test -f index.html", 'export SEEN="#{GH.CommitId} #{GH.RepositoryName}"'],
                    outputVariables=["SEEN"],
                )
            ],
        ),
    )
    assert run["status"] == "Succeeded", run["actions"]
    assert run["actions"]["Check"]["output"]["outputVariables"]["SEEN"] == f"{commit} web-{unique}"
    variables = run["actions"]["Source"]["output"]["outputVariables"]
    assert set(variables) == {
        "AuthorDate",
        "BranchName",
        "CommitId",
        "CommitMessage",
        "CommitterDate",
        "CommitUrl",
        "RepositoryName",
    }


def test_a_missing_connection_fails_the_source_with_the_fix(
    cp: Any, app_repo: tuple[str, str], unique: str
) -> None:
    repository, _ = app_repo
    missing = "arn:aws:codeconnections:us-east-1:123456789012:connection/" + MISSING_ID
    name = f"missing-{unique}"
    run = run_pipeline(
        cp,
        name,
        ("Source", [connection_source(missing, repository)]),
        ("Build", [commands("Never", ["true"])]),
    )
    assert run["status"] == "Failed"
    latest = Watcher(cp, name).action_state("Source", "Source")["latestExecution"]
    assert latest["errorDetails"]["code"] == "ConfigurationError"
    message = latest["errorDetails"]["message"]
    assert MISSING_ID in message and "stageline connection list" in message


def _cli(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stageline", "connection", *args, "--endpoint-url", server.url],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_cli_creates_sets_shows_and_deletes(
    server: ServerProcess, remotes: RemoteRepos, unique: str
) -> None:
    name = f"cli-{unique}"
    made = _cli(server, "create", name, "--provider-type", "GitLab", "--endpoint", remotes.url)
    assert made.returncode == 0, made.stderr
    assert "arn:aws:codestar-connections:" in made.stdout
    assert f"fetches from: {remotes.url}" in made.stdout
    refused = _cli(server, "set", name, "--credentials-secret", f"nope-{unique}")
    assert refused.returncode != 0 and f"secret 'nope-{unique}' does not exist" in refused.stderr
    server.client("secretsmanager").create_secret(Name=f"tok-{unique}", SecretString="glpat-x")
    assert _cli(server, "set", name, "--credentials-secret", f"tok-{unique}").returncode == 0
    shown = _cli(server, "show", name, "--output", "json")
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert document["ConnectionStatus"] == "AVAILABLE"
    assert document["settings"]["credentialsSecret"] == f"tok-{unique}"
    assert "glpat" not in shown.stdout
    listed = _cli(server, "list", "--output", "json")
    assert name in [c["ConnectionName"] for c in json.loads(listed.stdout)]
    assert _cli(server, "delete", name).returncode == 0
    gone = _cli(server, "show", name)
    assert gone.returncode != 0 and "stageline connection list" in gone.stderr


def github_push(repository: str, commit: str, before: str) -> bytes:
    """A GitHub ``push`` delivery of one commit to main."""
    return json.dumps(
        {
            "ref": "refs/heads/main",
            "before": before,
            "after": commit,
            "repository": {"name": repository.split("/")[1], "full_name": repository},
            "pusher": {"name": "mona"},
            "commits": [{"id": commit, "added": [], "removed": [], "modified": ["app.txt"]}],
            "head_commit": {"id": commit},
        }
    ).encode()


def deliver(url: str, body: bytes, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "push"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return httpx.post(url, content=body, headers=headers, timeout=30)


def test_a_push_signed_with_the_connections_webhook_secret_starts_its_pipeline(
    server: ServerProcess,
    cs: Any,
    cp: Any,
    remotes: RemoteRepos,
    app_repo: tuple[str, str],
    unique: str,
) -> None:
    repository, first = app_repo
    name = f"hooked-{unique}"
    secret_value = f"hook-secret-{unique}"
    arn = cs.create_connection(ConnectionName=name, ProviderType="GitHub")["ConnectionArn"]
    server.client("secretsmanager").create_secret(Name=f"hook-{unique}", SecretString=secret_value)
    assert _cli(server, "set", name, "--webhook-secret", f"hook-{unique}").returncode == 0
    shown = _cli(server, "show", name, "--output", "json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["settings"]["webhookSecret"] == f"hook-{unique}"
    assert secret_value not in shown.stdout

    pipeline = f"hooked-{unique}"
    run = run_pipeline(
        cp,
        pipeline,
        ("Source", [connection_source(arn, repository, DetectChanges="true")]),
        ("Build", [commands("Check", ["test -f app.txt"])]),
    )
    assert run["status"] == "Succeeded", run["actions"]
    second = remotes.commit(repository, {"app.txt": "hello again\n"}, "Say it again")
    url = f"{server.url}/webhooks/connections/{arn.rsplit('/', 1)[-1]}"
    body = github_push(repository, second, first)
    watcher = Watcher(cp, pipeline)

    for refused in (
        deliver(url, body, sign("not-the-secret", body)),
        deliver(url, body, None),
    ):
        assert refused.status_code == 401, refused.text
    time.sleep(0.3)
    assert len(watcher.executions()) == 1, "a refused delivery starts nothing"

    started = deliver(url, body, sign(secret_value, body))
    assert started.status_code == 200, started.text
    (execution_id,) = started.json()["pipelineExecutionIds"]
    execution = cp.get_pipeline_execution(pipelineName=pipeline, pipelineExecutionId=execution_id)
    assert execution["pipelineExecution"]["trigger"] == {
        "triggerType": "Webhook",
        "triggerDetail": arn,
    }
    assert watcher.finished(execution_id) == "Succeeded"
    source = watcher.actions(execution_id)["Source"]["output"]
    assert source["outputVariables"]["CommitId"] == second

    cleared = _cli(server, "set", name, "--webhook-secret", "")
    assert cleared.returncode == 0, cleared.stderr
    settings = httpx.get(f"{server.url}/_stageline/connections/{name}/settings").json()
    assert settings["webhookSecret"] is None
