"""A connection's webhook secret: set by name, read by connection id, refused when unusable."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from stageline.connections import ConnectionService
from stageline.errors import ApiError
from stageline.secrets import SecretStore
from stageline.triggers.router import TriggerRouter
from stageline.webhooks.auth import Refused, sign
from stageline.webhooks.connection_hook import ConnectionHook
from stageline.webhooks.delivery import Delivery
from tests.unit.triggers import samples

VALUE = "hook-value-3f9a"


def connection_id(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def test_the_setting_names_a_secret_that_exists_and_is_not_blank(
    service: ConnectionService, secrets: SecretStore
) -> None:
    made = service.create_connection("gh", provider_type="GitHub")
    with pytest.raises(ApiError, match="secret 'hook' does not exist"):
        service.update_settings("gh", webhook_secret="hook")
    secrets.secrets.create("blank", value="  \n")
    with pytest.raises(ApiError, match="webhook secret 'blank' of connection 'gh' is empty"):
        service.update_settings("gh", webhook_secret="blank")
    assert service.get_connection(made.arn).webhook_secret is None

    secrets.secrets.create("hook", value=VALUE)
    secrets.secrets.create("token", value="ghp_123")
    service.update_settings("gh", endpoint="https://ghe.example.com", credentials_secret="token")
    changed = service.update_settings(made.arn, webhook_secret="hook")
    assert changed.webhook_secret == "hook"
    kept = service.get_connection(made.arn)
    assert (kept.webhook_secret, kept.credentials_secret, kept.endpoint) == (
        "hook",
        "token",
        "https://ghe.example.com",
    )
    assert VALUE not in repr(kept)

    service.update_settings("gh", webhook_secret="")
    assert service.get_connection(made.arn).webhook_secret is None
    assert service.get_connection(made.arn).credentials_secret == "token"


def test_the_lookup_by_connection_id_returns_the_value(
    service: ConnectionService, secrets: SecretStore
) -> None:
    secrets.secrets.create("hook", value=VALUE)
    signed = service.create_connection("signed", provider_type="GitHub")
    plain = service.create_connection("plain", provider_type="GitLab")
    service.update_settings("signed", webhook_secret="hook")
    assert service.webhook_secret(connection_id(signed.arn)) == VALUE
    assert service.webhook_secret(connection_id(plain.arn)) is None
    assert service.webhook_secret("00000000-0000-0000-0000-000000000000") is None
    # The id is matched as text, not as a LIKE pattern.
    wildcard = "_" + connection_id(signed.arn)[1:]
    assert service.webhook_secret(wildcard) is None
    assert service.webhook_secret("%") is None
    secrets.secrets.put_value("hook", "rotated")
    assert service.webhook_secret(connection_id(signed.arn)) == "rotated"


@pytest.mark.parametrize("breakage", ["blank", "deleted"])
def test_an_unusable_webhook_secret_refuses_deliveries_and_logs_why(
    service: ConnectionService,
    secrets: SecretStore,
    caplog: pytest.LogCaptureFixture,
    breakage: str,
) -> None:
    secrets.secrets.create("hook", value=VALUE)
    made = service.create_connection("gh", provider_type="GitHub")
    service.update_settings("gh", webhook_secret="hook")
    if breakage == "blank":
        secrets.secrets.put_value("hook", " ")
    else:
        secrets.secrets.delete("hook", force=True)
    with (
        caplog.at_level(logging.ERROR, logger="stageline.connections"),
        pytest.raises(Refused) as refused,
    ):
        service.webhook_secret(connection_id(made.arn))
    assert refused.value.status == 403
    assert "cannot be read" in refused.value.reason
    assert "connection gh" in caplog.text and "'hook'" in caplog.text
    assert VALUE not in caplog.text


class Hooked:
    """The connection webhook as the server wires it: the service supplies the secret."""

    def __init__(self, service: ConnectionService, arn: str) -> None:
        self.starts: list[str] = []
        action = {
            "name": "Source",
            "actionTypeId": {
                "category": "Source",
                "owner": "AWS",
                "provider": "CodeStarSourceConnection",
                "version": "1",
            },
            "configuration": {
                "ConnectionArn": arn,
                "FullRepositoryId": "octo-org/hello-world",
                "BranchName": "main",
            },
        }
        declaration = {"stages": [{"name": "Source", "actions": [action]}]}

        def start(name: str, **_kw: Any) -> str:
            self.starts.append(name)
            return f"e{len(self.starts)}"

        router = TriggerRouter(
            list_pipelines=lambda: [("app", declaration)],
            start=start,
            changed_files=lambda *_: None,
        )
        self.hook = ConnectionHook(router, connection_secret=service.webhook_secret)
        self.connection_id = connection_id(arn)

    def post(self, secret: str | None, client: str = "192.0.2.7") -> Any:
        body = json.dumps(samples.github_push()).encode()
        headers = {"X-GitHub-Event": "push", "Content-Type": "application/json"}
        if secret is not None:
            headers["X-Hub-Signature-256"] = sign(secret, body)
        delivery = Delivery(body=body, headers=headers, client=client)
        return self.hook.deliver(self.connection_id, delivery)


def test_the_connection_webhook_proves_the_connections_secret(
    service: ConnectionService, secrets: SecretStore
) -> None:
    secrets.secrets.create("hook", value=VALUE)
    made = service.create_connection("gh", provider_type="GitHub")
    hooked = Hooked(service, made.arn)
    assert hooked.post(None).status == 403, "no webhook secret yet: remote callers are refused"

    service.update_settings("gh", webhook_secret="hook")
    assert hooked.post("wrong").status == 401
    assert hooked.post(None, client="127.0.0.1").status == 401, "loopback must sign too"
    assert hooked.starts == []
    assert hooked.post(VALUE).status == 200
    assert hooked.starts == ["app"]

    secrets.secrets.put_value("hook", "")
    refused = hooked.post(None, client="127.0.0.1")
    assert refused.status == 403 and "cannot be read" in refused.message
    assert hooked.starts == ["app"]
