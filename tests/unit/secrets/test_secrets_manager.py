"""Secrets Manager secrets in the store: versions, staging labels, scheduled deletion, listing."""

from __future__ import annotations

import re

import pytest

from stageline.clock import ManualClock
from stageline.errors import ApiError
from stageline.secrets import SecretStore
from stageline.secrets.manager import SecretFilter
from tests.unit.secrets.conftest import ACCOUNT, REGION


def stages(store: SecretStore, name: str) -> list[list[str]]:
    """Each version's labels, newest first."""
    return [list(v.stages) for v in store.secrets.describe(name).versions]


def test_create_gives_an_aws_arn_and_a_current_version(store: SecretStore) -> None:
    secret, version_id = store.secrets.create("db/creds", value="v1", description="d")
    assert re.fullmatch(
        rf"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db/creds-[A-Za-z0-9]{{6}}", secret.arn
    )
    assert secret.versions_to_stages == {version_id: ["AWSCURRENT"]}
    empty, none = store.secrets.create("later")
    assert none is None and empty.versions == ()
    with pytest.raises(ApiError) as info:
        store.secrets.create("db/creds", value="again")
    assert info.value.code == "ResourceExistsException"
    assert "`stageline secret put db/creds`" in info.value.message


def test_a_new_value_takes_awscurrent_and_the_old_one_becomes_awsprevious(
    store: SecretStore,
) -> None:
    _, first = store.secrets.create("s", value="one")
    _, second = store.secrets.put_value("s", "two")
    assert stages(store, "s") == [["AWSCURRENT"], ["AWSPREVIOUS"]]
    store.secrets.update("s", value="three", description="now three")
    assert stages(store, "s") == [["AWSCURRENT"], ["AWSPREVIOUS"], []]
    assert store.secrets.describe("s").description == "now three"
    assert store.secrets.read("s")[2] == "three"
    assert store.secrets.read("s", stage="AWSPREVIOUS")[2] == "two"
    assert store.secrets.read("s", version_id=first)[2] == "one"
    assert second.stages == ("AWSCURRENT",)


def test_explicit_staging_labels_leave_awscurrent_alone(store: SecretStore) -> None:
    store.secrets.create("s", value="live")
    _, pending = store.secrets.put_value("s", "next", stages=["AWSPENDING"])
    assert pending.stages == ("AWSPENDING",)
    assert store.secrets.read("s")[2] == "live"
    assert store.secrets.read("s", stage="AWSPENDING")[2] == "next"


def test_a_retried_request_is_idempotent_and_a_changed_one_is_refused(store: SecretStore) -> None:
    store.secrets.create("s", value="one")
    token = "a" * 32
    _, v1 = store.secrets.put_value("s", "two", version_id=token)
    _, again = store.secrets.put_value("s", "two", version_id=token)
    assert v1.version_id == again.version_id == token
    assert len(store.secrets.describe("s").versions) == 2
    with pytest.raises(ApiError) as info:
        store.secrets.put_value("s", "three", version_id=token)
    assert info.value.code == "ResourceExistsException"
    assert "three" not in info.value.message


def test_deletion_waits_for_the_recovery_window_and_can_be_undone(
    store: SecretStore, clock: ManualClock
) -> None:
    store.secrets.create("s", value="v")
    deletion = store.secrets.delete("s", recovery_days=7)
    assert deletion.deletion_ms == clock.now_ms() + 7 * 86_400_000
    assert store.secrets.describe("s").deleted_ms == clock.now_ms()
    assert [s.name for s in store.secrets.list()] == []
    assert [s.name for s in store.secrets.list(include_planned_deletion=True)] == ["s"]
    for attempt in (
        lambda: store.secrets.put_value("s", "w"),
        lambda: store.secrets.read("s"),
        lambda: store.secrets.create("s", value="w"),
        lambda: store.secrets.delete("s"),
    ):
        with pytest.raises(ApiError) as info:
            attempt()
        assert info.value.code == "InvalidRequestException"
        assert "restore" in info.value.message
    store.secrets.restore("s")
    assert store.secrets.read("s")[2] == "v"

    store.secrets.delete("s")  # the default window: 30 days
    clock.advance(days=29)
    assert store.secrets.describe("s").scheduled_for_deletion
    clock.advance(days=1)
    with pytest.raises(ApiError) as info:
        store.secrets.describe("s")
    assert info.value.code == "ResourceNotFoundException"
    store.secrets.create("s", value="a new secret under the old name")


def test_recovery_window_rules(store: SecretStore) -> None:
    store.secrets.create("s", value="v")
    for days in (6, 31):
        with pytest.raises(ApiError) as info:
            store.secrets.delete("s", recovery_days=days)
        assert (
            info.value.code == "InvalidParameterException" and "from 7 to 30" in info.value.message
        )
    with pytest.raises(ApiError) as info:
        store.secrets.delete("s", recovery_days=7, force=True)
    assert info.value.code == "InvalidParameterException"
    assert store.secrets.delete("s", force=True).name == "s"
    with pytest.raises(ApiError):
        store.secrets.describe("s")
    # Forcing the deletion of a secret that is not there is not an error, as on AWS.
    assert store.secrets.delete("never-was", force=True).name == "never-was"
    with pytest.raises(ApiError) as info:
        store.secrets.delete("never-was")
    assert info.value.code == "ResourceNotFoundException"


def test_a_secret_is_found_by_name_full_arn_or_partial_arn(store: SecretStore) -> None:
    secret, _ = store.secrets.create("app/token", value="v")
    partial = secret.arn[: -len("-abcdef")]
    for secret_id in ("app/token", secret.arn, partial):
        assert store.secrets.describe(secret_id).arn == secret.arn
    with pytest.raises(ApiError):
        store.secrets.describe(partial + "-zzzzzz")


def test_list_filters_and_sorting(store: SecretStore, clock: ManualClock) -> None:
    store.secrets.create("prod/db", value="v", description="Database login", tags=[("team", "a")])
    clock.advance(seconds=1)
    store.secrets.create("prod/api", value="v", tags=[("team", "b")])
    clock.advance(seconds=1)
    store.secrets.create("dev/db", value="v", description="database for dev")

    def names(*filters: SecretFilter, **kw: object) -> list[str]:
        return [s.name for s in store.secrets.list(filters=filters, **kw)]  # type: ignore[arg-type]

    assert names() == ["prod/db", "prod/api", "dev/db"]
    assert names(sort_by="name") == ["dev/db", "prod/api", "prod/db"]
    assert names(descending=True) == ["dev/db", "prod/api", "prod/db"]
    assert names(SecretFilter(key="name", values=("prod/",))) == ["prod/db", "prod/api"]
    assert names(SecretFilter(key="name", values=("!prod/",))) == ["dev/db"]
    assert names(SecretFilter(key="description", values=("DATABASE",))) == ["prod/db", "dev/db"]
    assert names(SecretFilter(key="tag-value", values=("b",))) == ["prod/api"]
    assert names(
        SecretFilter(key="tag-key", values=("team",)), SecretFilter(key="name", values=("prod/d",))
    ) == ["prod/db"]
    assert names(SecretFilter(key="all", values=("login",))) == ["prod/db"]
