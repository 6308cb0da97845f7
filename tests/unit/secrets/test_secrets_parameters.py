"""SSM parameters in the store: versions, Overwrite, names, patterns, filters."""

from __future__ import annotations

import pytest

from stageline.clock import ManualClock
from stageline.errors import ApiError
from stageline.secrets import SecretStore
from stageline.secrets.model import ParameterType
from stageline.secrets.parameters import MAX_VERSIONS, ParameterFilter
from tests.unit.secrets.conftest import ACCOUNT, REGION

STRING, SECURE = ParameterType.STRING, ParameterType.SECURE_STRING


def code(info: pytest.ExceptionInfo[ApiError]) -> str:
    return info.value.code


def test_put_and_read_back_every_version(store: SecretStore, clock: ManualClock) -> None:
    params = store.parameters
    first = params.put("/app/db/password", "one", type=SECURE, description="db")
    assert first.version == 1 and first.key_id == "alias/aws/ssm" and first.tier == "Standard"
    assert first.arn == f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/db/password"
    clock.advance(seconds=5)
    second = params.put("/app/db/password", "two", overwrite=True)
    assert second.version == 2 and second.type is SECURE and second.description == "db"
    assert params.read("/app/db/password") == (params.get("/app/db/password"), "two")
    old, value = params.read("/app/db/password:1")
    assert (old.version, old.selector, value) == (1, ":1", "one")
    assert second.modified_ms - old.modified_ms == 5000
    by_arn = params.read(f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/db/password")
    assert by_arn[1] == "two"


def test_an_existing_parameter_needs_overwrite(store: SecretStore) -> None:
    store.parameters.put("token", "a", type=STRING)
    with pytest.raises(ApiError) as info:
        store.parameters.put("token", "b", type=STRING)
    assert code(info) == "ParameterAlreadyExists" and "Overwrite" in info.value.message
    assert store.parameters.read("token")[1] == "a"
    with pytest.raises(ApiError) as info:
        store.parameters.put("new-one", "b")
    assert "needs a Type" in info.value.message


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("app/db", "must be fully qualified"),
        ("/aws/thing", "can't be prefixed with 'aws' or 'ssm'"),
        ("SSMtoken", "can't be prefixed with 'aws' or 'ssm'"),
        ("has space", "may contain only"),
        ("/a//b", "empty level"),
        ("/" + "/".join("l" * 16), "levels; the limit is 15"),
    ],
)
def test_names_follow_ssm_rules(store: SecretStore, name: str, problem: str) -> None:
    with pytest.raises(ApiError) as info:
        store.parameters.put(name, "v", type=STRING)
    assert problem in info.value.message


def test_allowed_pattern_and_size_are_checked_without_repeating_the_value(
    store: SecretStore,
) -> None:
    with pytest.raises(ApiError) as info:
        store.parameters.put("pin", "hunter2", type=SECURE, allowed_pattern=r"\d+")
    assert code(info) == "ParameterPatternMismatchException"
    assert "hunter2" not in info.value.message
    store.parameters.put("pin", "1234", type=SECURE, allowed_pattern=r"\d+")
    with pytest.raises(ApiError):  # the pattern stays with the parameter
        store.parameters.put("pin", "abcd", overwrite=True)
    with pytest.raises(ApiError) as info:
        store.parameters.put("big", "x" * 4097, type=STRING)
    assert "Tier Advanced" in info.value.message
    assert store.parameters.put("big", "x" * 4097, type=STRING, tier="Advanced").tier == "Advanced"


def test_only_the_newest_hundred_versions_are_kept(store: SecretStore) -> None:
    for n in range(MAX_VERSIONS + 2):
        store.parameters.put("counter", str(n), type=STRING, overwrite=True)
    assert store.parameters.read("counter")[1] == str(MAX_VERSIONS + 1)
    assert store.parameters.read("counter:3")[1] == "2"
    with pytest.raises(ApiError) as info:
        store.parameters.read("counter:2")
    assert code(info) == "ParameterVersionNotFound"


def test_delete_and_the_missing_parameter_error_says_how_to_create_it(store: SecretStore) -> None:
    store.parameters.put("gone", "v", type=STRING)
    store.parameters.delete("gone")
    with pytest.raises(ApiError) as info:
        store.parameters.read("gone")
    assert code(info) == "ParameterNotFound"
    assert "`stageline secret put gone --kind parameter`" in info.value.message
    with pytest.raises(ApiError):
        store.parameters.delete("gone")


def test_filters_by_name_type_and_path(store: SecretStore) -> None:
    for name in ("/app/db/password", "/app/db/user", "/app/region", "/other/x", "plain"):
        store.parameters.put(name, "v", type=SECURE if "password" in name else STRING)

    def names(*filters: ParameterFilter) -> list[str]:
        return [p.name for p in store.parameters.list() if all(f.matches(p) for f in filters)]

    assert names(ParameterFilter.of("Path", None, ["/app"])) == ["/app/region"]
    assert names(ParameterFilter.of("Path", "Recursive", ["/app"])) == [
        "/app/db/password",
        "/app/db/user",
        "/app/region",
    ]
    assert names(ParameterFilter.of("Type", None, ["SecureString"])) == ["/app/db/password"]
    assert names(ParameterFilter.of("Name", "BeginsWith", ["/app/db"])) == [
        "/app/db/password",
        "/app/db/user",
    ]
    assert names(ParameterFilter.of("Name", "Contains", ["lai"])) == ["plain"]
    with pytest.raises(ApiError) as info:
        ParameterFilter.of("tag:team", None, ["a"])
    assert info.value.code == "InvalidFilterKey"
    with pytest.raises(ApiError) as info:
        ParameterFilter.of("Type", "BeginsWith", ["S"])
    assert info.value.code == "InvalidFilterOption"
