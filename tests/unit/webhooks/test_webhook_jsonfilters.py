"""Webhook filter rules: a JsonPath that must equal matchEquals, with {Name} placeholders."""

from __future__ import annotations

from typing import Any

import pytest

from stageline.webhooks.jsonfilters import FilterError, first_failure, placeholders, resolve
from tests.unit.triggers import samples

CONFIG = {"BranchName": "main", "RepositoryName": "app", "Owner": "octo-org"}


@pytest.mark.parametrize(
    ("rules", "failure"),
    [
        ([], None),
        ([{"jsonPath": "$.ref", "matchEquals": "refs/heads/{BranchName}"}], None),
        ([{"jsonPath": "$.ref", "matchEquals": "refs/heads/main"}], None),
        (
            [
                {"jsonPath": "$.ref", "matchEquals": "refs/heads/{BranchName}"},
                {"jsonPath": "$.repository.full_name", "matchEquals": "{Owner}/hello-world"},
            ],
            None,
        ),
        (
            [{"jsonPath": "$.ref", "matchEquals": "refs/heads/dev"}],
            "filter 1: $.ref is 'refs/heads/main', not 'refs/heads/dev'",
        ),
        (
            [
                {"jsonPath": "$.ref", "matchEquals": "refs/heads/main"},
                {"jsonPath": "$.repository.name", "matchEquals": "other"},
            ],
            "filter 2: $.repository.name is 'hello-world', not 'other'",
        ),
        # several values: any one equal is enough
        ([{"jsonPath": "$.commits[*].modified[*]", "matchEquals": "src/app.py"}], None),
        # scalars compare as their JSON text
        ([{"jsonPath": "$.deleted", "matchEquals": "false"}], None),
        ([{"jsonPath": "$.repository.id", "matchEquals": "186853002"}], None),
        # without matchEquals the path must select something
        ([{"jsonPath": "$.head_commit.id"}], None),
        ([{"jsonPath": "$.nothing"}], "filter 1: $.nothing selects nothing in the payload"),
        (
            [{"jsonPath": "$.nothing", "matchEquals": "x"}],
            "filter 1: $.nothing is nothing, not 'x'",
        ),
        # Jayway filter expressions
        (
            [{"jsonPath": "$.commits[?(@.distinct == true)].author.name", "matchEquals": "Mona"}],
            None,
        ),
    ],
)
def test_rules(rules: list[dict[str, Any]], failure: str | None) -> None:
    assert first_failure(rules, samples.github_push(), CONFIG) == failure


def test_placeholders_are_the_action_configuration() -> None:
    assert placeholders("refs/heads/{BranchName}-{Owner}") == ["BranchName", "Owner"]
    assert resolve("refs/heads/{BranchName}", CONFIG) == "refs/heads/main"
    with pytest.raises(FilterError, match=r"\{Branch\}, which is not a configuration key"):
        resolve("refs/heads/{Branch}", CONFIG)


def test_an_invalid_path_is_an_error_not_a_mismatch() -> None:
    with pytest.raises(FilterError, match="not a valid JsonPath"):
        first_failure([{"jsonPath": "$.[", "matchEquals": "x"}], {}, CONFIG)
