"""Changes that start pipelines by themselves: pushes through event rules, the rules stageline
manages, polling across a restart, V2 trigger filters on pushes, and PutActionRevision.

A real server process, real git pushes over smart HTTP, boto3 and the ``aws`` CLI.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.aws_cli import aws_json
from tests.support.git import GitClient
from tests.support.pipelines import Watcher, commands, declaration, source, wait_until
from tests.support.server import ServerProcess, start_server

REGION, ACCOUNT = "us-east-1", "123456789012"


@pytest.fixture(scope="module")
def git(tmp_path_factory: pytest.TempPathFactory) -> GitClient:
    return GitClient(tmp_path_factory.mktemp("git-home"))


def _repo(server: ServerProcess, git: GitClient, workdir: Path, name: str) -> str:
    server.client("codecommit").create_repository(repositoryName=name)
    return git.push_tree(f"{server.url}/git/{name}", workdir, {"app.py": "print(1)\n"}, "first")


def _pipeline(cp: Any, name: str, repo: str, **source_extra: Any) -> Watcher:
    cp.create_pipeline(
        pipeline=declaration(
            name,
            ("Source", [source(repo, **source_extra)]),
            ("Build", [commands("Check", ["test -f app.py"])]),
            pipelineType="V2",
        )
    )
    watcher = Watcher(cp, name)
    first = watcher.latest()
    watcher.finished(first)
    return watcher


def _triggers(watcher: Watcher) -> list[tuple[str, str]]:
    return [
        (e["trigger"]["triggerType"], e["trigger"].get("triggerDetail", ""))
        for e in reversed(watcher.executions())
    ]


def _source_revision(watcher: Watcher, execution_id: str) -> str:
    execution = watcher.cp.get_pipeline_execution(
        pipelineName=watcher.name, pipelineExecutionId=execution_id
    )["pipelineExecution"]
    return str(execution["artifactRevisions"][0]["revisionId"])


def _aws(server: ServerProcess, home: Path, *args: str) -> Any:
    return aws_json(server.url, home, *args)


def test_the_seeds_rule_starts_the_pipeline_on_a_push_to_main(
    server: ServerProcess, cp: Any, git: GitClient, tmp_path: Path, unique: str
) -> None:
    repo = f"my-repo-{unique}"
    _repo(server, git, tmp_path / "w", repo)
    watcher = _pipeline(cp, f"seeded-{unique}", repo)
    rule = {
        "source": ["aws.codecommit"],
        "detail-type": ["CodeCommit Repository State Change"],
        "resources": [f"arn:aws:codecommit:{REGION}:{ACCOUNT}:{repo}"],
        "detail": {
            "event": ["referenceCreated", "referenceUpdated"],
            "referenceType": ["branch"],
            "referenceName": ["main"],
        },
    }
    (tmp_path / "rule.json").write_text(json.dumps(rule))
    created = _aws(
        server,
        tmp_path,
        "events",
        "put-rule",
        "--name",
        f"on-push-{unique}",
        "--event-pattern",
        "file://rule.json",  # as the seed writes it, relative to the working directory
    )
    _aws(
        server,
        tmp_path,
        "events",
        "put-targets",
        "--rule",
        f"on-push-{unique}",
        "--targets",
        json.dumps(
            [{"Id": "pipeline", "Arn": f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:{watcher.name}"}]
        ),
    )

    # Another branch and a tag: the rule doesn't match, nothing starts.
    git.push_tree(f"{server.url}/git/{repo}", tmp_path / "w", {"x": "1"}, "wip", branch="feature")
    git.ok("tag", "v1", cwd=tmp_path / "w")
    git.ok("push", "--quiet", "origin", "v1", cwd=tmp_path / "w")
    pushed = git.push_tree(f"{server.url}/git/{repo}", tmp_path / "w", {"y": "2"}, "ship it")

    started = wait_until(lambda: len(watcher.executions()) == 2 and watcher.executions()[0])
    assert (started["trigger"]["triggerType"], started["trigger"]["triggerDetail"]) == (
        "CloudWatchEvent",
        created["RuleArn"],
    )
    assert watcher.finished(started["pipelineExecutionId"]) == "Succeeded"
    assert _source_revision(watcher, started["pipelineExecutionId"]) == pushed
    time.sleep(0.5)  # the feature branch and tag pushes were earlier; nothing more arrives
    assert len(watcher.executions()) == 2


def test_poll_false_gets_a_managed_rule_that_goes_with_the_pipeline(
    server: ServerProcess, cp: Any, git: GitClient, tmp_path: Path, unique: str
) -> None:
    repo = f"managed-{unique}"
    _repo(server, git, tmp_path / "w", repo)
    watcher = _pipeline(cp, f"managed-{unique}", repo, poll="false")
    events = server.client("events")
    rules = [r for r in events.list_rules()["Rules"] if watcher.name in r["Name"]]
    assert len(rules) == 1
    assert rules[0]["ManagedBy"] == "codepipeline.amazonaws.com"
    pattern = json.loads(rules[0]["EventPattern"])
    assert pattern["detail"]["referenceName"] == ["main"]
    targets = events.list_targets_by_rule(Rule=rules[0]["Name"])["Targets"]
    assert [t["Arn"] for t in targets] == [
        f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:{watcher.name}"
    ]
    with pytest.raises(ClientError) as refused:
        events.delete_rule(Name=rules[0]["Name"])
    assert refused.value.response["Error"]["Code"] == "ManagedRuleException"

    pushed = git.push_tree(f"{server.url}/git/{repo}", tmp_path / "w", {"y": "2"}, "change")
    started = wait_until(lambda: len(watcher.executions()) == 2 and watcher.executions()[0])
    assert started["trigger"]["triggerType"] == "CloudWatchEvent"
    assert watcher.finished(started["pipelineExecutionId"]) == "Succeeded"
    assert _source_revision(watcher, started["pipelineExecutionId"]) == pushed

    cp.delete_pipeline(name=watcher.name)
    assert not [r for r in events.list_rules()["Rules"] if watcher.name in r["Name"]]


@pytest.fixture
def polling_server(tmp_path: Path) -> Iterator[tuple[Path, list[ServerProcess]]]:
    started: list[ServerProcess] = []
    yield tmp_path / "data", started
    for s in started:
        s.stop()


def test_polling_starts_one_execution_per_new_revision_across_a_restart(
    polling_server: tuple[Path, list[ServerProcess]], git: GitClient, tmp_path: Path
) -> None:
    data_dir, started = polling_server
    server = start_server(data_dir, "--poll-interval", "0.2")
    started.append(server)
    cp = server.client("codepipeline")
    _repo(server, git, tmp_path / "w", "polled")
    watcher = _pipeline(cp, "polled", "polled")
    time.sleep(0.6)  # several polls of an unchanged branch start nothing
    assert [t for t, _ in _triggers(watcher)] == ["CreatePipeline"]

    first = git.push_tree(f"{server.url}/git/polled", tmp_path / "w", {"a": "1"}, "one")
    polled = wait_until(lambda: len(watcher.executions()) == 2 and watcher.executions()[0])
    assert polled["trigger"]["triggerType"] == "PollForSourceChanges"
    assert watcher.finished(polled["pipelineExecutionId"]) == "Succeeded"
    assert _source_revision(watcher, polled["pipelineExecutionId"]) == first

    # A restart: the revision already started stays started.
    server.stop()
    server = start_server(data_dir, "--poll-interval", "0.2")
    started.append(server)
    watcher = Watcher(server.client("codepipeline"), "polled")
    time.sleep(1.0)
    assert [t for t, _ in _triggers(watcher)] == ["CreatePipeline", "PollForSourceChanges"]

    git.ok("remote", "set-url", "origin", f"{server.url}/git/polled", cwd=tmp_path / "w")
    second = git.push_tree(f"{server.url}/git/polled", tmp_path / "w", {"b": "2"}, "two")
    latest = wait_until(lambda: len(watcher.executions()) == 3 and watcher.executions()[0])
    assert watcher.finished(latest["pipelineExecutionId"]) == "Succeeded"
    assert _source_revision(watcher, latest["pipelineExecutionId"]) == second
    time.sleep(0.6)
    assert len(watcher.executions()) == 3


def test_v2_push_filters_on_a_hosted_repository(
    server: ServerProcess, cp: Any, git: GitClient, tmp_path: Path, unique: str
) -> None:
    repo = f"filtered-{unique}"
    _repo(server, git, tmp_path / "w", repo)
    name = f"filtered-{unique}"
    cp.create_pipeline(
        pipeline=declaration(
            name,
            ("Source", [source(repo)]),
            ("Build", [commands("Check", ["test -f app.py"])]),
            pipelineType="V2",
            triggers=[
                {
                    "providerType": "CodeStarSourceConnection",
                    "gitConfiguration": {
                        "sourceActionName": "Source",
                        "push": [
                            {
                                "branches": {"includes": ["main"]},
                                "filePaths": {"excludes": ["docs/**"]},
                            },
                            {"tags": {"includes": ["release-*"]}},
                        ],
                    },
                }
            ],
        )
    )
    watcher = Watcher(cp, name)
    watcher.finished(watcher.latest())
    url = f"{server.url}/git/{repo}"

    git.push_tree(url, tmp_path / "w", {"docs/guide.md": "words\n"}, "docs only")
    git.ok("tag", "nightly-1", cwd=tmp_path / "w")
    git.ok("push", "--quiet", "origin", "nightly-1", cwd=tmp_path / "w")
    time.sleep(0.5)
    assert len(watcher.executions()) == 1, "excluded paths and an unmatched tag start nothing"

    git.ok("tag", "release-1.0", cwd=tmp_path / "w")
    git.ok("push", "--quiet", "origin", "release-1.0", cwd=tmp_path / "w")
    tagged = wait_until(lambda: len(watcher.executions()) == 2 and watcher.executions()[0])
    assert tagged["trigger"]["triggerType"] == "WebhookV2"
    assert watcher.finished(tagged["pipelineExecutionId"]) == "Succeeded"

    code = git.push_tree(url, tmp_path / "w", {"app.py": "print(2)\n"}, "code change")
    pushed = wait_until(lambda: len(watcher.executions()) == 3 and watcher.executions()[0])
    assert pushed["trigger"]["triggerType"] == "WebhookV2"
    assert watcher.finished(pushed["pipelineExecutionId"]) == "Succeeded"
    assert _source_revision(watcher, pushed["pipelineExecutionId"]) == code


def test_put_action_revision_starts_once_per_new_revision(
    server: ServerProcess, cp: Any, git: GitClient, tmp_path: Path, unique: str
) -> None:
    repo = f"revised-{unique}"
    first = _repo(server, git, tmp_path / "w", repo)
    watcher = _pipeline(cp, f"revised-{unique}", repo)
    second = git.push_tree(f"{server.url}/git/{repo}", tmp_path / "w", {"b": "2"}, "second")
    revision = {"revisionId": first, "revisionChangeId": "change-1", "created": time.time()}

    answer = cp.put_action_revision(
        pipelineName=watcher.name, stageName="Source", actionName="Source", actionRevision=revision
    )
    assert answer["newRevision"] is True
    assert watcher.finished(answer["pipelineExecutionId"]) == "Succeeded"
    assert _source_revision(watcher, answer["pipelineExecutionId"]) == first, (
        "the revision given, not the tip"
    )
    summary = watcher.executions()[0]
    assert summary["trigger"] == {"triggerType": "PutActionRevision", "triggerDetail": "change-1"}

    again = cp.put_action_revision(
        pipelineName=watcher.name, stageName="Source", actionName="Source", actionRevision=revision
    )
    assert again["newRevision"] is False
    assert len(watcher.executions()) == 2
    assert second != first

    for stage, action, code in (
        ("Nope", "Source", "StageNotFoundException"),
        ("Source", "Nope", "ActionNotFoundException"),
        ("Build", "Check", "ActionNotFoundException"),
    ):
        with pytest.raises(ClientError) as err:
            cp.put_action_revision(
                pipelineName=watcher.name,
                stageName=stage,
                actionName=action,
                actionRevision=revision,
            )
        assert err.value.response["Error"]["Code"] == code


def test_source_revisions_must_fit_the_source_action(
    server: ServerProcess, cp: Any, git: GitClient, tmp_path: Path, unique: str
) -> None:
    repo = f"typed-{unique}"
    _repo(server, git, tmp_path / "w", repo)
    watcher = _pipeline(cp, f"typed-{unique}", repo)
    with pytest.raises(ClientError) as err:
        cp.start_pipeline_execution(
            name=watcher.name,
            sourceRevisions=[
                {
                    "actionName": "Source",
                    "revisionType": "IMAGE_DIGEST",
                    "revisionValue": "sha256:0",
                }
            ],
        )
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "takes COMMIT_ID" in err.value.response["Error"]["Message"]
    assert len(watcher.executions()) == 1
