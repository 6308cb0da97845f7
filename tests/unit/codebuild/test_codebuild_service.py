"""Build projects, builds and reports kept in SQLite and PostgreSQL alike, and one real build."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from stageline.arns import Arns
from stageline.clock import ManualClock
from stageline.codebuild.execute import BuildRequest, run_project_build
from stageline.codebuild.service import BuildService
from stageline.errors import ApiError
from stageline.reports import parse
from stageline.services.context import ServiceContext
from stageline.store import migrate
from stageline.store.db import Database

ENVIRONMENT = {
    "type": "LINUX_CONTAINER",
    "image": "aws/codebuild/standard:7.0",
    "computeType": "BUILD_GENERAL1_SMALL",
}
JUNIT = b"""<testsuite name="s" tests="3" failures="1" skipped="1">
<testcase classname="m" name="ok" time="0.1"/>
<testcase classname="m" name="bad" time="0.2"><failure message="boom">trace</failure></testcase>
<testcase classname="m" name="later"><skipped/></testcase>
</testsuite>"""


@pytest.fixture
def builds(database_url: str):  # type: ignore[no-untyped-def]
    db = Database(database_url)
    migrate.upgrade(db)
    ctx = ServiceContext(
        db=db, clock=ManualClock(), arns=Arns(region="eu-west-1", account_id="210987654321")
    )
    yield BuildService(ctx, log_url=lambda log_id: f"http://server/logs/{log_id}/text")
    db.dispose()


def project(builds: BuildService, name: str = "app", **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "name": name,
        "source": {"type": "CODEPIPELINE"},
        "artifacts": {"type": "CODEPIPELINE"},
        "environment": ENVIRONMENT,
        "serviceRole": "role",
        **extra,
    }
    return dict(builds.create_project(params)["project"])


def test_projects_keep_what_was_given_plus_aws_defaults(builds: BuildService) -> None:
    made = project(builds, cache={"type": "LOCAL", "modes": ["LOCAL_CUSTOM_CACHE"]})
    assert made["arn"] == "arn:aws:codebuild:eu-west-1:210987654321:project/app"
    assert made["cache"] == {"type": "LOCAL", "modes": ["LOCAL_CUSTOM_CACHE"]}
    assert made["encryptionKey"] == "arn:aws:kms:eu-west-1:210987654321:alias/aws/s3"
    with pytest.raises(ApiError) as exc:
        project(builds)
    assert exc.value.code == "ResourceAlreadyExistsException"
    for sort_by in ("NAME", "CREATED_TIME", "LAST_MODIFIED_TIME"):
        assert builds.list_projects({"sortBy": sort_by})["projects"] == ["app"]


def test_project_names_and_rules(builds: BuildService) -> None:
    with pytest.raises(ApiError, match="2 to 255 letters"):
        project(builds, name="-bad")
    with pytest.raises(ApiError, match="sourceIdentifier is required"):
        project(builds, secondarySources=[{"type": "CODEPIPELINE"}])
    with pytest.raises(ApiError, match="repeated: A"):
        project(
            builds,
            environment={
                **ENVIRONMENT,
                "environmentVariables": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}],
            },
        )
    with pytest.raises(ApiError, match="not supported by stageline yet"):
        project(
            builds, source={"type": "S3", "location": "b/k"}, artifacts={"type": "NO_ARTIFACTS"}
        )
    assert builds.list_projects({})["projects"] == []


def test_builds_are_numbered_per_project_and_listed_newest_first(builds: BuildService) -> None:
    project(builds)
    row = builds.project("app")
    assert row is not None
    clock = builds.ctx.clock
    assert isinstance(clock, ManualClock)
    made = []
    for _ in range(3):
        made.append(
            builds.begin_build(
                row,
                initiator="me",
                source={"type": "NO_SOURCE"},
                environment=ENVIRONMENT,
                timeout_minutes=60,
            )
        )
        clock.advance(seconds=1)
    assert [b["buildNumber"] for b in made] == [1, 2, 3]
    assert builds.list_builds_for_project({"projectName": "app"})["ids"] == [
        b["id"] for b in reversed(made)
    ]
    first = made[0]
    assert first["logs"]["deepLink"].startswith("http://server/logs/codebuild-")
    builds.stop_build({"id": first["arn"]})
    assert builds.stop_requested(first["id"])
    assert builds.recover() == 3
    statuses = {b["buildStatus"] for b in builds.batch_get_builds({"ids": [first["id"]]})["builds"]}
    assert statuses == {"FAULT"}


def test_reports_are_kept_with_their_cases(builds: BuildService) -> None:
    project(builds)
    row = builds.project("app")
    assert row is not None
    build = builds.begin_build(
        row,
        initiator="me",
        source={"type": "NO_SOURCE"},
        environment=ENVIRONMENT,
        timeout_minutes=5,
    )
    arn = builds.store_report(build["id"], "app", "unit", parse(JUNIT, "JUNITXML"))
    report = builds.batch_get_reports({"reportArns": [arn]})["reports"][0]
    assert report["testSummary"]["statusCounts"]["FAILED"] == 1
    assert report["reportGroupArn"] == (
        "arn:aws:codebuild:eu-west-1:210987654321:report-group/app-unit"
    )
    failed = builds.describe_test_cases({"reportArn": arn, "filter": {"status": "FAILED"}})
    assert [c["name"] for c in failed["testCases"]] == ["bad"]
    every = builds.describe_test_cases({"reportArn": arn, "maxResults": 2})
    assert len(every["testCases"]) == 2 and "nextToken" in every
    rest = builds.describe_test_cases({"reportArn": arn, "nextToken": every["nextToken"]})
    assert len(rest["testCases"]) == 1
    groups = builds.list_report_groups({})["reportGroups"]
    assert groups == [report["reportGroupArn"]]


def test_a_real_build_records_phases_reports_and_variables(
    builds: BuildService, tmp_path: Path
) -> None:
    project(builds)
    row = builds.project("app")
    assert row is not None
    source = tmp_path / "src"
    source.mkdir()
    (source / "buildspec.yml").write_text(
        "version: 0.2\n"
        "env:\n  exported-variables: [OUT]\n"
        "phases:\n  build:\n    commands:\n"
        "      - export OUT=done\n"
        "      - printf '%s' \"$JUNIT\" > junit.xml\n"
        "reports:\n  unit:\n    files: [junit.xml]\n"
    )
    lines: list[str] = []
    outcome = run_project_build(
        builds,
        BuildRequest(
            project=row,
            initiator="test",
            primary_source=source,
            workspace=tmp_path / "ws",
            environment_overrides=[{"name": "JUNIT", "value": JUNIT.decode()}],
        ),
        log=lines.append,
        cancel=threading.Event(),
    )
    assert outcome.succeeded
    assert outcome.build["exportedEnvironmentVariables"] == [{"name": "OUT", "value": "done"}]
    assert "3 tests: 1 passed, 1 failed, 1 skipped" in outcome.summary()
    assert any("Entering phase BUILD" in line for line in lines)
    stored = builds.build(outcome.build_id)
    assert stored["buildStatus"] == "SUCCEEDED" and len(stored["reportArns"]) == 1


def test_a_missing_buildspec_fails_the_build_saying_where_it_looked(
    builds: BuildService, tmp_path: Path
) -> None:
    project(builds)
    row = builds.project("app")
    assert row is not None
    (tmp_path / "src").mkdir()
    outcome = run_project_build(
        builds,
        BuildRequest(
            project=row, initiator="t", primary_source=tmp_path / "src", workspace=tmp_path / "w"
        ),
        log=lambda _line: None,
        cancel=threading.Event(),
    )
    assert not outcome.succeeded
    assert outcome.problem is not None and "buildspec.yml was not found" in outcome.problem
    assert builds.build(outcome.build_id)["buildStatus"] == "FAILED"
