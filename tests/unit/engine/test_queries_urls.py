"""externalExecutionUrl in GetPipelineState and ListActionExecutions: whose link wins.

AWS shows the provider's link, else the action type's executionUrlTemplate.
stageline adds the action's own log for actions that ran on its agents, and
prefers it to a template that only leads to the AWS console.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stageline.definitions.catalog import ActionTypeKey
from tests.support.declarations import action, pipeline
from tests.support.harness import Harness, fake_source

SERVER = "http://127.0.0.1:8787"  # the server's address before its first request


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(tmp_path)
    yield harness
    harness.close()


def custom_type(h: Harness, provider: str, template: str | None) -> ActionTypeKey:
    h.services.action_types.create_custom(
        {
            "category": "Build",
            "provider": provider,
            "version": "1",
            "settings": {"executionUrlTemplate": template} if template else {},
            "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 5},
            "outputArtifactDetails": {"minimumCount": 0, "maximumCount": 5},
        }
    )
    return ActionTypeKey(category="Build", owner="Custom", provider=provider, version="1")


def finish(h: Harness, key: ActionTypeKey, *, write_log: bool, **result: Any) -> str:
    """Run the one queued job of ``key`` as an agent would; its action execution id."""
    (claimed,) = h.rt.jobs.claim(key, worker="test", limit=10)
    action_id = str(claimed.data["job"]["pipelineContext"]["action"]["actionExecutionId"])
    if write_log:
        with h.rt.logs.next_writer(action_id) as writer:
            writer.write("built")
    h.rt.jobs.acknowledge(claimed.id, claimed.nonce)
    h.rt.operations.job_finished(claimed.id, succeeded=True, **result)
    return action_id


def urls(
    h: Harness, name: str, execution_id: str | None = None
) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """externalExecutionUrl by action name, from GetPipelineState and ListActionExecutions."""
    state = h.rt.queries.pipeline_state(name)
    from_state = {
        a["actionName"]: a.get("latestExecution", {}).get("externalExecutionUrl")
        for s in state["stageStates"]
        for a in s["actionStates"]
    }
    details, _ = h.rt.queries.list_action_executions(
        name, execution_id=execution_id, max_results=None, next_token=None
    )
    from_list = {
        d["actionName"]: d["output"]["executionResult"].get("externalExecutionUrl") for d in details
    }
    return from_state, from_list


def build_pipeline(h: Harness, name: str, key: ActionTypeKey) -> str:
    ex = h.create(
        pipeline(
            name,
            ("Source", [fake_source()]),
            ("Build", [action("Build", "Build", key.provider, owner="Custom")]),
        )
    )
    h.complete(ex, "Source")
    return ex


def test_an_action_that_ran_on_an_agent_links_its_log(h: Harness) -> None:
    key = custom_type(h, "AgentBuild", None)
    build_pipeline(h, "p", key)
    action_id = finish(h, key, write_log=True)
    from_state, from_list = urls(h, "p")
    expected = f"{SERVER}/logs/{action_id}/text"
    assert from_state["Build"] == from_list["Build"] == expected
    assert from_state["Source"] is None and from_list["Source"] is None  # no log, no link


def test_the_log_replaces_a_template_that_leads_to_the_aws_console(h: Harness) -> None:
    key = custom_type(
        h,
        "ConsoleBuild",
        "https://us-east-1.console.aws.amazon.com/codesuite/codebuild/builds/{ExternalExecutionId}",
    )
    build_pipeline(h, "p", key)
    action_id = finish(h, key, write_log=True, external_execution_id="build-7")
    assert urls(h, "p") == (
        {"Source": None, "Build": f"{SERVER}/logs/{action_id}/text"},
        {"Source": None, "Build": f"{SERVER}/logs/{action_id}/text"},
    )


def test_a_console_template_stays_when_there_is_no_log(h: Harness) -> None:
    template = "https://console.aws.amazon.com/builds/{ExternalExecutionId}"
    key = custom_type(h, "RemoteBuild", template)
    build_pipeline(h, "p", key)
    finish(h, key, write_log=False, external_execution_id="build-8")
    from_state, from_list = urls(h, "p")
    assert (
        from_state["Build"]
        == from_list["Build"]
        == ("https://console.aws.amazon.com/builds/build-8")
    )


def test_a_provider_link_and_another_template_win_over_the_log(h: Harness) -> None:
    key = custom_type(h, "OwnBuild", "https://ci.example.com/runs/{ExternalExecutionId}")
    build_pipeline(h, "p", key)
    finish(h, key, write_log=True, external_execution_id="run-9")
    assert urls(h, "p")[0]["Build"] == "https://ci.example.com/runs/run-9"
    h.start("p")
    ex = h.latest("p")
    h.complete(ex, "Source")
    finish(
        h,
        key,
        write_log=True,
        external_execution_id="run-10",
        external_execution_url="https://ci.example.com/own/10",
    )
    from_state, from_list = urls(h, "p", ex)
    assert from_state["Build"] == "https://ci.example.com/own/10"
    assert from_list["Build"] == "https://ci.example.com/own/10"
