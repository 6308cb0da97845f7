"""CodePipeline webhooks end to end: PutWebhook with boto3, a git host's signed push posted to
the webhook's URL, the execution it starts, refused and unmatched deliveries, ListWebhooks and
DeleteWebhook through boto3 and the ``aws`` CLI, and ``stageline webhook``.

A real server process; the pipeline's source is a repository the server hosts, pushed to with
real git. The deliveries are what GitHub sends: a ``push`` payload signed with HMAC-SHA256.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from stageline.cli import main
from stageline.webhooks.auth import sign
from tests.support.aws_cli import aws_json
from tests.support.git import GitClient
from tests.support.pipelines import Watcher, commands, declaration, source
from tests.support.server import ServerProcess

SECRET = "integration-webhook-secret"


@pytest.fixture(scope="module")
def git(tmp_path_factory: pytest.TempPathFactory) -> GitClient:
    return GitClient(tmp_path_factory.mktemp("git-home"))


def push_payload(repo: str, ref: str, commit: str) -> bytes:
    """A GitHub push delivery (the members CodePipeline's filters usually look at)."""
    return json.dumps(
        {
            "ref": ref,
            "before": "0" * 40,
            "after": commit,
            "repository": {"name": repo, "full_name": f"octo-org/{repo}"},
            "pusher": {"name": "mona"},
            "commits": [{"id": commit, "added": ["app.py"], "removed": [], "modified": []}],
            "head_commit": {"id": commit},
        }
    ).encode()


def deliver(url: str, body: bytes, secret: str) -> httpx.Response:
    return httpx.post(
        url,
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
            "X-Hub-Signature-256": sign(secret, body),
        },
        timeout=30,
    )


def aws_cli(server: ServerProcess, home: Path, *args: str) -> Any:
    return aws_json(server.url, home, "codepipeline", *args)


def test_a_signed_push_to_a_webhook_starts_its_pipeline(
    server: ServerProcess, cp: Any, git: GitClient, tmp_path: Path, unique: str
) -> None:
    repo = f"hooked-{unique}"
    server.client("codecommit").create_repository(repositoryName=repo)
    commit = git.push_tree(
        f"{server.url}/git/{repo}", tmp_path / "work", {"app.py": "print(1)\n"}, "first"
    )
    name = f"hooked-{unique}"
    cp.create_pipeline(
        pipeline=declaration(
            name,
            ("Source", [source(repo)]),
            ("Build", [commands("Check", ["test -f app.py"])]),
        )
    )
    watcher = Watcher(cp, name)
    watcher.finished(watcher.latest())

    hook = cp.put_webhook(
        webhook={
            "name": f"hook-{unique}",
            "targetPipeline": name,
            "targetAction": "Source",
            "filters": [{"jsonPath": "$.ref", "matchEquals": "refs/heads/{BranchName}"}],
            "authentication": "GITHUB_HMAC",
            "authenticationConfiguration": {"SecretToken": SECRET},
        },
        tags=[{"key": "team", "value": "web"}],
    )["webhook"]
    arn = f"arn:aws:codepipeline:us-east-1:123456789012:webhook:hook-{unique}"
    assert hook["arn"] == arn
    assert hook["url"].startswith(f"{server.url}/webhooks/")
    assert hook["definition"]["authenticationConfiguration"] == {"SecretToken": "****"}

    started = deliver(hook["url"], push_payload(repo, "refs/heads/main", commit), SECRET)
    assert started.status_code == 200, started.text
    (execution_id,) = started.json()["pipelineExecutionIds"]
    latest = watcher.executions()[0]
    assert latest["pipelineExecutionId"] == execution_id
    assert latest["trigger"] == {"triggerType": "Webhook", "triggerDetail": arn}
    assert watcher.finished(execution_id) == "Succeeded"

    refused = deliver(hook["url"], push_payload(repo, "refs/heads/main", commit), "wrong")
    assert refused.status_code == 401
    assert "does not match the webhook's secret token" in refused.json()["message"]
    elsewhere = deliver(hook["url"], push_payload(repo, "refs/heads/dev", commit), SECRET)
    assert elsewhere.status_code == 200
    assert elsewhere.json()["message"].startswith("no pipeline started")
    time.sleep(0.3)
    assert len(watcher.executions()) == 2, "neither delivery started anything"

    (listed,) = [
        w for w in cp.list_webhooks()["webhooks"] if w["definition"]["name"] == f"hook-{unique}"
    ]
    assert listed["url"] == hook["url"] and listed["arn"] == arn
    assert listed["definition"]["authenticationConfiguration"] == {"SecretToken": "****"}
    assert listed["lastTriggered"] is not None
    assert listed["errorCode"] == "401", "the refused delivery came after the successful one"
    assert listed["tags"] == [{"key": "team", "value": "web"}]

    home = tmp_path / "aws"
    home.mkdir()
    from_cli = aws_cli(server, home, "list-webhooks")["webhooks"]
    assert any(w["url"] == hook["url"] for w in from_cli)
    assert all(SECRET not in json.dumps(w) for w in from_cli)

    runner = CliRunner()
    shown = runner.invoke(main, ["webhook", "show", f"hook-{unique}", "--endpoint-url", server.url])
    assert shown.exit_code == 0, shown.output
    assert hook["url"] in shown.output and SECRET not in shown.output
    listing = runner.invoke(main, ["webhook", "list", "--endpoint-url", server.url])
    assert listing.exit_code == 0 and f"hook-{unique}" in listing.output

    cp.delete_webhook(name=f"hook-{unique}")
    aws_cli(server, home, "delete-webhook", "--name", f"hook-{unique}")  # already gone: fine
    assert all(w["definition"]["name"] != f"hook-{unique}" for w in cp.list_webhooks()["webhooks"])
    gone = deliver(hook["url"], push_payload(repo, "refs/heads/main", commit), SECRET)
    assert gone.status_code == 404


def test_webhook_requests_are_checked_like_aws(cp: Any, unique: str) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as missing:
        cp.put_webhook(
            webhook={
                "name": f"orphan-{unique}",
                "targetPipeline": f"nope-{unique}",
                "targetAction": "Source",
                "filters": [],
                "authentication": "UNAUTHENTICATED",
                "authenticationConfiguration": {},
            }
        )
    assert missing.value.response["Error"]["Code"] == "PipelineNotFoundException"
    with pytest.raises(ClientError) as unknown:
        cp.register_webhook_with_third_party(webhookName=f"nope-{unique}")
    assert unknown.value.response["Error"]["Code"] == "WebhookNotFoundException"
