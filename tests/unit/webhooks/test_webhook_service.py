"""Webhooks kept in SQLite and PostgreSQL alike: PutWebhook's rules, listing with the secret
redacted, deletion, registration, and what a delivery to a webhook's URL does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from stageline.arns import Arns
from stageline.clock import ManualClock
from stageline.errors import ApiError, error
from stageline.services.context import ServiceContext
from stageline.services.pipelines import PipelineService
from stageline.store import migrate
from stageline.store.db import Database
from stageline.webhooks.auth import sign
from stageline.webhooks.delivery import Delivery
from stageline.webhooks.service import WebhookService
from tests.support.declarations import pipeline
from tests.unit.triggers import samples

SECRET = "a-long-random-secret"
ARN = "arn:aws:codepipeline:eu-west-1:210987654321:webhook:"


@dataclass
class Env:
    ctx: ServiceContext
    clock: ManualClock
    service: WebhookService
    pipelines: PipelineService
    starts: list[dict[str, Any]] = field(default_factory=list)
    fail_start: bool = False


@pytest.fixture
def env(database_url: str) -> Iterator[Env]:
    db = Database(database_url)
    migrate.upgrade(db)
    clock = ManualClock()
    ctx = ServiceContext(
        db=db, clock=clock, arns=Arns(region="eu-west-1", account_id="210987654321")
    )
    pipelines = PipelineService(ctx)
    pipelines.create(pipeline("app"), [])
    holder: list[Env] = []

    def start(name: str, **kwargs: Any) -> str:
        if holder[0].fail_start:
            raise error("PipelineNotFoundException", f"pipeline {name} is gone")
        holder[0].starts.append({"name": name, **kwargs})
        return f"exec-{len(holder[0].starts)}"

    service = WebhookService(ctx, start=start, server_url=lambda: "http://stageline.test/")
    holder.append(Env(ctx=ctx, clock=clock, service=service, pipelines=pipelines))
    yield holder[0]
    db.dispose()


def definition(name: str = "hook", **overrides: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name,
        "targetPipeline": "app",
        "targetAction": "Source",
        "filters": [{"jsonPath": "$.ref", "matchEquals": "refs/heads/{BranchName}"}],
        "authentication": "GITHUB_HMAC",
        "authenticationConfiguration": {"SecretToken": SECRET},
    }
    out.update(overrides)
    return out


def put(env: Env, tags: list[dict[str, str]] | None = None, **overrides: Any) -> Any:
    return env.service.put(definition(**overrides), tags or [])


def code_of(call: Any) -> str:
    with pytest.raises(ApiError) as exc:
        call()
    return str(exc.value.code) + ": " + exc.value.message


def test_put_returns_the_item_with_an_unguessable_url_and_the_secret_redacted(env: Env) -> None:
    view = put(env, tags=[{"key": "team", "value": "web"}])
    assert view.arn == ARN + "hook"
    assert view.url.startswith("http://stageline.test/webhooks/")
    token = view.url.rsplit("/", 1)[1]
    assert len(token) >= 40
    assert view.definition["authenticationConfiguration"] == {"SecretToken": "****"}
    assert view.definition["filters"] == definition()["filters"]
    assert view.tags == [("team", "web")]
    assert view.last_triggered_ms is None and view.error_code is None


def test_put_again_replaces_the_definition_and_keeps_the_url(env: Env) -> None:
    first = put(env)
    again = put(env, filters=[])
    assert again.url == first.url
    assert again.definition["filters"] == []
    other = put(env, name="other")
    assert other.url != first.url


def test_a_redacted_secret_sent_back_keeps_the_stored_one(env: Env) -> None:
    view = put(env)
    env.service.put(view.definition, [])  # a read-modify-write of ListWebhooks' output
    body = json.dumps(samples.github_push()).encode()
    outcome = env.service.deliver(_token(view), _github(body, sign(SECRET, body)))
    assert outcome.status == 200 and env.starts
    fresh = definition(name="fresh", authenticationConfiguration={"SecretToken": "****"})
    assert "redacted value" in code_of(lambda: env.service.put(fresh, []))


def test_deleting_and_recreating_gives_a_new_url(env: Env) -> None:
    first = put(env)
    env.service.delete("hook")
    env.service.delete("hook")  # deleting what is gone succeeds, as on AWS
    assert env.service.list(next_token=None, max_results=None) == ([], None)
    assert put(env).url != first.url


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"targetPipeline": "nope"}, "PipelineNotFoundException: Pipeline with name 'nope'"),
        (
            {"targetAction": "Build"},
            "ValidationException: targetAction 'Build' is not a source action of pipeline 'app'; "
            "its source actions: Source",
        ),
        (
            {"authenticationConfiguration": {}},
            "InvalidWebhookAuthenticationParametersException: authentication GITHUB_HMAC takes "
            "SecretToken",
        ),
        (
            {
                "authentication": "IP",
                "authenticationConfiguration": {"AllowedIPRange": "10.0.0/8x"},
            },
            "InvalidWebhookAuthenticationParametersException: AllowedIPRange '10.0.0/8x' is not "
            "a CIDR range",
        ),
        (
            {
                "authentication": "UNAUTHENTICATED",
                "authenticationConfiguration": {"SecretToken": "x"},
            },
            "InvalidWebhookAuthenticationParametersException: authentication UNAUTHENTICATED "
            "takes no properties in authenticationConfiguration; this one has SecretToken",
        ),
        (
            {"filters": [{"jsonPath": "$.ref", "matchEquals": "refs/heads/{Branch}"}]},
            "InvalidWebhookFilterPatternException: filters[1]: matchEquals 'refs/heads/{Branch}' "
            "refers to {Branch}, which is not a configuration key of the target action; its "
            "keys: BranchName, RepositoryName",
        ),
        (
            {"filters": [{"jsonPath": "$..[", "matchEquals": "x"}]},
            "InvalidWebhookFilterPatternException: filters[1]: jsonPath '$..[' is not a valid",
        ),
        (
            {"filters": [{"jsonPath": "$.ref"}] * 6},
            "LimitExceededException: a webhook can have at most 5 filters",
        ),
    ],
)
def test_put_refuses_with_the_field_and_the_fix(
    env: Env, overrides: dict[str, Any], expected: str
) -> None:
    assert code_of(lambda: put(env, **overrides)).startswith(expected)
    assert env.service.list(next_token=None, max_results=None)[0] == []


def test_tags_follow_aws_rules(env: Env) -> None:
    message = code_of(lambda: put(env, tags=[{"key": "aws:x", "value": "y"}]))
    assert message.startswith("InvalidTagsException")


def test_list_pages_by_name(env: Env) -> None:
    for name in ("c", "a", "b"):
        put(env, name=name)
    first, token = env.service.list(next_token=None, max_results=2)
    assert [v.definition["name"] for v in first] == ["a", "b"] and token
    rest, end = env.service.list(next_token=token, max_results=2)
    assert [v.definition["name"] for v in rest] == ["c"] and end is None
    assert code_of(lambda: env.service.list(next_token="bogus", max_results=2)).startswith(
        "InvalidNextTokenException"
    )


def test_register_and_deregister_record_only(env: Env) -> None:
    put(env)
    env.service.set_registered("hook", True)
    env.service.set_registered("hook", False)
    assert code_of(lambda: env.service.set_registered("nope", True)).startswith(
        "WebhookNotFoundException: no webhook named 'nope' exists"
    )
    assert code_of(lambda: env.service.set_registered(None, True)).startswith("ValidationException")


# --- deliveries ----------------------------------------------------------------------------


def _token(view: Any) -> str:
    return str(view.url.rsplit("/", 1)[1])


def _github(body: bytes, signature: str | None, client: str = "192.0.2.7") -> Delivery:
    headers = {"X-GitHub-Event": "push", "Content-Type": "application/json"}
    if signature:
        headers["X-Hub-Signature-256"] = signature
    return Delivery(body=body, headers=headers, client=client)


def test_a_signed_matching_push_starts_the_pipeline(env: Env) -> None:
    view = put(env)
    body = json.dumps(samples.github_push()).encode()
    env.clock.advance(seconds=5)
    outcome = env.service.deliver(_token(view), _github(body, sign(SECRET, body)))
    assert (outcome.status, outcome.execution_ids) == (200, ("exec-1",))
    assert env.starts == [
        {"name": "app", "trigger_type": "Webhook", "trigger_detail": ARN + "hook"}
    ]
    (listed,), _ = env.service.list(next_token=None, max_results=None)
    assert listed.last_triggered_ms == env.clock.now_ms()


def test_a_wrong_signature_is_refused_recorded_and_starts_nothing(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    view = put(env)
    body = json.dumps(samples.github_push()).encode()
    outcome = env.service.deliver(_token(view), _github(body, sign("wrong", body)))
    assert outcome.status == 401
    assert "X-Hub-Signature-256 does not match" in outcome.message
    assert env.starts == []
    (listed,), _ = env.service.list(next_token=None, max_results=None)
    assert listed.error_code == "401" and "does not match" in (listed.error_message or "")
    logged = caplog.text
    assert "refused (401)" in logged and SECRET not in logged and "refs/heads" not in logged

    missing = env.service.deliver(_token(view), _github(body, None))
    assert missing.status == 401 and "not signed" in missing.message

    good = env.service.deliver(_token(view), _github(body, sign(SECRET, body)))
    assert good.status == 200
    (listed,), _ = env.service.list(next_token=None, max_results=None)
    assert listed.error_code is None, "a successful delivery clears the last error"


def test_a_push_to_another_branch_is_accepted_but_starts_nothing(env: Env) -> None:
    view = put(env)
    body = json.dumps(samples.github_push("refs/heads/dev")).encode()
    outcome = env.service.deliver(_token(view), _github(body, sign(SECRET, body)))
    assert outcome.status == 200
    assert outcome.message == (
        "no pipeline started: filter 1: $.ref is 'refs/heads/dev', not 'refs/heads/main'"
    )
    assert env.starts == []


def test_a_malformed_body_is_a_400(env: Env) -> None:
    view = put(env)
    body = b"{not json"
    outcome = env.service.deliver(_token(view), _github(body, sign(SECRET, body)))
    assert outcome.status == 400 and "not valid JSON" in outcome.message


def test_an_unknown_url_is_a_404(env: Env) -> None:
    outcome = env.service.deliver("no-such-token", _github(b"{}", None))
    assert outcome.status == 404


def test_ip_authentication(env: Env) -> None:
    view = put(
        env,
        authentication="IP",
        authenticationConfiguration={"AllowedIPRange": "192.0.2.0/24"},
    )
    body = json.dumps(samples.github_push()).encode()
    assert env.service.deliver(_token(view), _github(body, None, client="192.0.2.99")).status == 200
    refused = env.service.deliver(_token(view), _github(body, None, client="203.0.113.1"))
    assert refused.status == 403 and len(env.starts) == 1


def test_unauthenticated_takes_anyone(env: Env) -> None:
    view = put(env, authentication="UNAUTHENTICATED", authenticationConfiguration={})
    body = json.dumps(samples.github_push()).encode()
    assert env.service.deliver(_token(view), _github(body, None)).status == 200


def test_a_gitlab_push_authenticates_with_its_token(env: Env) -> None:
    view = put(env)
    body = json.dumps(samples.gitlab_push()).encode()
    headers = {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": SECRET}
    assert (
        env.service.deliver(_token(view), Delivery(body=body, headers=headers, client=None)).status
        == 200
    )
    headers["X-Gitlab-Token"] = "guess"
    assert (
        env.service.deliver(_token(view), Delivery(body=body, headers=headers, client=None)).status
        == 401
    )


def test_a_start_that_fails_is_recorded_on_the_webhook(env: Env) -> None:
    view = put(env)
    env.fail_start = True
    body = json.dumps(samples.github_push()).encode()
    outcome = env.service.deliver(_token(view), _github(body, sign(SECRET, body)))
    assert outcome.status == 400 and outcome.message.startswith("PipelineNotFoundException")
    (listed,), _ = env.service.list(next_token=None, max_results=None)
    assert listed.error_message == outcome.message


def test_a_deleted_target_pipeline_is_reported(env: Env) -> None:
    view = put(env)
    env.pipelines.delete("app")
    body = json.dumps(samples.github_push()).encode()
    outcome = env.service.deliver(_token(view), _github(body, sign(SECRET, body)))
    assert outcome.status == 404 and "target pipeline 'app' does not exist" in outcome.message


def test_the_router_reads_every_pipeline_at_its_current_version(env: Env) -> None:
    from stageline.store.pipelines import current_declarations

    env.pipelines.create(pipeline("zeta"), [])
    updated = pipeline("app")
    updated["stages"][0]["actions"][0]["configuration"]["BranchName"] = "release"
    env.pipelines.update(updated)
    with env.ctx.db.read() as conn:
        found = current_declarations(conn)
    assert [name for name, _ in found] == ["app", "zeta"]
    app = found[0][1]
    assert app["version"] == 2
    assert app["stages"][0]["actions"][0]["configuration"]["BranchName"] == "release"
