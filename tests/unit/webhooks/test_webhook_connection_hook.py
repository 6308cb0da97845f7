"""The connection webhook: who may post, which pipelines a delivery reaches, and what it starts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stageline.triggers.router import TriggerRouter
from stageline.webhooks.auth import sign
from stageline.webhooks.connection_hook import ConnectionHook
from stageline.webhooks.delivery import Delivery
from tests.unit.triggers import samples

CONNECTION_ID = "fe9ff2e8-ee25-40c9-829e-65f8example"
ARN = f"arn:aws:codeconnections:us-east-1:123456789012:connection/{CONNECTION_ID}"
SECRET = "connection-secret"


def source(
    repo: str = "octo-org/hello-world", arn: str = ARN, provider: str = "CodeStarSourceConnection"
) -> dict[str, Any]:
    return {
        "name": "Source",
        "actionTypeId": {
            "category": "Source",
            "owner": "AWS",
            "provider": provider,
            "version": "1",
        },
        "configuration": {"ConnectionArn": arn, "FullRepositoryId": repo, "BranchName": "main"},
    }


class Harness:
    def __init__(self, pipelines: dict[str, dict[str, Any]], secret: str | None = SECRET) -> None:
        self.starts: list[dict[str, Any]] = []
        router = TriggerRouter(
            list_pipelines=lambda: list(pipelines.items()),
            start=lambda name, **kw: (
                self.starts.append({"name": name, **kw}) or f"e{len(self.starts)}"
            ),
            changed_files=lambda _a, _o, _n: None,
        )
        self.hook = ConnectionHook(
            router, connection_secret=lambda cid: secret if cid == CONNECTION_ID else None
        )

    def post(
        self,
        doc: Any,
        event: str = "push",
        *,
        signed: bool = True,
        client: str = "192.0.2.1",
        connection: str = CONNECTION_ID,
    ) -> Any:
        body = json.dumps(doc).encode()
        headers = {"X-GitHub-Event": event}
        if signed:
            headers["X-Hub-Signature-256"] = sign(SECRET, body)
        return self.hook.deliver(connection, Delivery(body=body, headers=headers, client=client))


def pipelines(**decls: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: {"stages": [{"name": "Source", "actions": [action]}]}
        for name, action in decls.items()
    }


def test_a_push_starts_the_pipelines_on_that_connection_and_repository() -> None:
    h = Harness(
        pipelines(
            app=source(),
            other_repo=source(repo="octo-org/other"),
            other_connection=source(arn=ARN.replace(CONNECTION_ID, "another")),
            case_differs=source(repo="Octo-Org/Hello-World"),
            github_v1=source(provider="GitHub"),
        )
    )
    outcome = h.post(samples.github_push())
    assert outcome.status == 200 and outcome.message == "started app (Webhook)"
    assert h.starts == [
        {
            "name": "app",
            "trigger_type": "Webhook",
            "trigger_detail": ARN,
            "source_revisions": [
                {
                    "actionName": "Source",
                    "revisionType": "COMMIT_ID",
                    "revisionValue": samples.AFTER,
                }
            ],
        }
    ]


def test_a_v2_trigger_on_the_action_decides_and_names_the_execution() -> None:
    decl = pipelines(app=source())["app"]
    decl["triggers"] = [
        {
            "providerType": "CodeStarSourceConnection",
            "gitConfiguration": {
                "sourceActionName": "Source",
                "pullRequest": [{"events": ["OPEN"], "branches": {"includes": ["main"]}}],
            },
        }
    ]
    h = Harness({"app": decl})
    assert h.post(samples.github_push()).message.startswith("no pipeline started")
    outcome = h.post(samples.github_pull_request("opened"), "pull_request")
    assert outcome.message == "started app (WebhookV2)"
    assert h.starts[0]["trigger_type"] == "WebhookV2"


@pytest.mark.parametrize(
    ("kwargs", "status", "reason"),
    [
        ({"signed": False}, 401, "not signed"),
        ({"connection": "../etc"}, 404, "no connection has this id"),
    ],
)
def test_refusals(kwargs: dict[str, Any], status: int, reason: str) -> None:
    h = Harness(pipelines(app=source()))
    outcome = h.post(samples.github_push(), **kwargs)
    assert outcome.status == status and reason in outcome.message
    assert h.starts == []


def test_without_a_secret_only_this_machine_may_post() -> None:
    h = Harness(pipelines(app=source()), secret=None)
    refused = h.post(samples.github_push(), signed=False, client="192.0.2.1")
    assert refused.status == 403 and "no webhook secret" in refused.message
    assert h.post(samples.github_push(), signed=False, client="127.0.0.1").status == 200


def test_events_that_are_not_changes_and_broken_payloads() -> None:
    h = Harness(pipelines(app=source()))
    ping = h.post({"zen": "Design for failure."}, "ping")
    assert (ping.status, ping.message) == (
        200,
        "ignored: github event 'ping' is no push or pull request change",
    )
    broken = h.post({"ref": 5}, "push")
    assert broken.status == 400 and "'ref' must be a non-empty string" in broken.message
    assert h.starts == []
