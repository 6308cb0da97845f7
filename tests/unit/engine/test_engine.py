"""The engine's AWS behaviours, in process, with a manual clock and the test as job worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stageline.errors import ApiError
from tests.support.declarations import approval, pipeline
from tests.support.harness import BUILD, Harness, fake_build, fake_source


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(tmp_path)
    yield harness
    harness.close()


def three_stage(name: str, **extra: object) -> dict:  # type: ignore[type-arg]
    return pipeline(
        name,
        ("Source", [fake_source()]),
        ("Build", [fake_build("A", outputs=("AOut",)), fake_build("B")]),
        ("Deploy", [fake_build("Ship", inputs=("AOut",))]),
        **extra,
    )


def test_create_pipeline_starts_an_execution_that_runs_to_success(h: Harness) -> None:
    ex = h.create(three_stage("p"))
    assert h.rt.queries.execution("p", ex)["trigger"] == {"triggerType": "CreatePipeline"}
    assert h.actions(ex) == {"Source": "InProgress"}
    h.complete(ex, "Source")
    assert h.actions(ex) == {"Source": "Succeeded", "A": "InProgress", "B": "InProgress"}
    h.complete(ex, "B")
    h.complete(ex, "A")
    assert h.actions(ex)["Ship"] == "InProgress"
    h.complete(ex, "Ship")
    assert h.status("p", ex) == "Succeeded"


def test_a_failed_action_lets_its_siblings_finish_then_fails_the_stage(h: Harness) -> None:
    ex = h.create(three_stage("p"))
    h.complete(ex, "Source")
    h.complete(ex, "A", ok=False)
    assert h.status("p", ex) == "InProgress"  # B still running
    h.complete(ex, "B")
    assert h.status("p", ex) == "Failed"
    state = h.rt.queries.pipeline_state("p")
    build = state["stageStates"][1]
    assert build["latestExecution"]["status"] == "Failed"
    a = next(s for s in build["actionStates"] if s["actionName"] == "A")
    assert a["latestExecution"]["errorDetails"]["message"] == "it broke"
    assert state["stageStates"][2].get("latestExecution") is None


def test_run_order_groups_run_in_sequence(h: Harness) -> None:
    decl = pipeline(
        "p",
        ("Source", [fake_source()]),
        (
            "Build",
            [
                fake_build("First", run_order=1, outputs=("Mid",)),
                fake_build("Second", run_order=2, inputs=("Mid",)),
            ],
        ),
    )
    ex = h.create(decl)
    h.complete(ex, "Source")
    assert h.actions(ex) == {"Source": "Succeeded", "First": "InProgress"}
    h.complete(ex, "First")
    assert h.actions(ex)["Second"] == "InProgress"


def test_superseded_mode_replaces_the_waiting_execution(h: Harness) -> None:
    first = h.create(three_stage("p"))
    second = h.start("p")
    third = h.start("p")
    assert h.status("p", second) == "Superseded"  # waited at the source stage, replaced by third
    assert h.status("p", third) == "InProgress"
    state = h.rt.queries.pipeline_state("p")
    assert [e["pipelineExecutionId"] for e in state["stageStates"][0]["inboundExecutions"]] == [
        third
    ]
    h.complete(first, "Source")
    assert h.actions(third) == {"Source": "InProgress"}  # source stage freed: third enters


def test_queued_mode_runs_waiting_executions_in_order(h: Harness) -> None:
    first = h.create(three_stage("q", pipelineType="V2", executionMode="QUEUED"))
    second = h.start("q")
    third = h.start("q")
    assert [h.status("q", e) for e in (second, third)] == ["InProgress", "InProgress"]
    h.complete(first, "Source")
    assert h.actions(second) == {"Source": "InProgress"}
    assert h.actions(third) == {}
    h.complete(second, "Source")
    assert h.actions(third) == {"Source": "InProgress"}


def test_parallel_mode_has_no_stage_locks(h: Harness) -> None:
    first = h.create(three_stage("par", pipelineType="V2", executionMode="PARALLEL"))
    second = h.start("par")
    assert h.actions(first) == {"Source": "InProgress"}
    assert h.actions(second) == {"Source": "InProgress"}


def test_disabled_transition_holds_an_execution_until_enabled(h: Harness) -> None:
    ex = h.create(three_stage("t"))
    h.rt.operations.set_transition("t", "Build", "Inbound", enabled=False, reason="freeze", by="me")
    h.complete(ex, "Source")
    assert h.status("t", ex) == "InProgress"
    state = h.rt.queries.pipeline_state("t")["stageStates"][1]
    assert state["inboundTransitionState"]["enabled"] is False
    assert state["inboundTransitionState"]["disabledReason"] == "freeze"
    assert state["inboundExecution"]["pipelineExecutionId"] == ex
    assert "A" not in h.actions(ex)
    h.rt.operations.set_transition("t", "Build", "Inbound", enabled=True, reason=None, by="me")
    assert h.actions(ex)["A"] == "InProgress"


def test_approval_approved_and_rejected_and_token_errors(h: Harness) -> None:
    decl = pipeline(
        "ap", ("Source", [fake_source()]), ("Gate", [approval(config={"CustomData": "look"})])
    )
    ex = h.create(decl)
    h.complete(ex, "Source")
    gate = h.rt.queries.pipeline_state("ap")["stageStates"][1]["actionStates"][0]["latestExecution"]
    token = gate["token"]
    with pytest.raises(ApiError) as info:
        h.rt.operations.put_approval("ap", "Gate", "Approve", "wrong-token", "Approved", "ok", "me")
    assert info.value.code == "InvalidApprovalTokenException"
    h.rt.operations.put_approval("ap", "Gate", "Approve", token, "Approved", "looks good", "me")
    assert h.status("ap", ex) == "Succeeded"
    with pytest.raises(ApiError) as info:
        h.rt.operations.put_approval("ap", "Gate", "Approve", token, "Rejected", "no", "me")
    assert info.value.code == "ApprovalAlreadyCompletedException"
    ex2 = h.start("ap")
    h.complete(ex2, "Source")
    token2 = h.rt.queries.pipeline_state("ap")["stageStates"][1]["actionStates"][0][
        "latestExecution"
    ]["token"]
    h.rt.operations.put_approval("ap", "Gate", "Approve", token2, "Rejected", "not today", "me")
    assert h.status("ap", ex2) == "Failed"


def test_approval_expires_after_seven_days(h: Harness) -> None:
    decl = pipeline("exp", ("Source", [fake_source()]), ("Gate", [approval()]))
    ex = h.create(decl)
    h.complete(ex, "Source")
    h.clock.advance(days=6, minutes=1439)
    assert h.rt.scheduler.tick() == 0
    h.clock.advance(minutes=2)
    assert h.rt.scheduler.tick() == 1
    assert h.status("exp", ex) == "Failed"
    detail = h.rt.queries.pipeline_state("exp")["stageStates"][1]["actionStates"][0][
        "latestExecution"
    ]
    assert "timed out after 7 days" in detail["errorDetails"]["message"]


def test_stop_without_abandon_waits_for_running_actions(h: Harness) -> None:
    ex = h.create(three_stage("s"))
    h.complete(ex, "Source")
    h.rt.operations.stop("s", ex, abandon=False, reason="enough")
    assert h.status("s", ex) == "Stopping"
    h.complete(ex, "A")
    assert h.status("s", ex) == "Stopping"
    h.complete(ex, "B")
    assert h.status("s", ex) == "Stopped"
    assert "Ship" not in h.actions(ex)


def test_stop_with_abandon_is_immediate(h: Harness) -> None:
    ex = h.create(three_stage("s"))
    h.complete(ex, "Source")
    h.rt.operations.stop("s", ex, abandon=True, reason="now")
    assert h.status("s", ex) == "Stopped"
    assert h.actions(ex) == {"Source": "Succeeded", "A": "Abandoned", "B": "Abandoned"}
    with pytest.raises(ApiError) as info:
        h.rt.operations.stop("s", ex, abandon=True, reason="again")
    assert info.value.code == "PipelineExecutionNotStoppableException"


def test_retry_failed_actions_and_all_actions(h: Harness) -> None:
    ex = h.create(three_stage("r"))
    h.complete(ex, "Source")
    h.complete(ex, "A", ok=False)
    h.complete(ex, "B")
    h.rt.operations.retry("r", "Build", ex, "FAILED_ACTIONS")
    assert h.status("r", ex) == "InProgress"
    assert h.actions(ex) == {"Source": "Succeeded", "A": "InProgress", "B": "Succeeded"}
    h.complete(ex, "A", ok=False)
    h.rt.operations.retry("r", "Build", ex, "ALL_ACTIONS")
    assert h.actions(ex) == {"Source": "Succeeded", "A": "InProgress", "B": "InProgress"}
    h.complete(ex, "A")
    h.complete(ex, "B")
    h.complete(ex, "Ship")
    assert h.status("r", ex) == "Succeeded"


def test_retry_refusals(h: Harness) -> None:
    ex = h.create(three_stage("rr"))
    with pytest.raises(ApiError) as info:
        h.rt.operations.retry("rr", "Source", ex, "FAILED_ACTIONS")
    assert info.value.code == "StageNotRetryableException"
    with pytest.raises(ApiError) as info:
        h.rt.operations.retry("rr", "Nope", ex, "FAILED_ACTIONS")
    assert info.value.code == "StageNotFoundException"
    h.complete(ex, "Source", ok=False)
    newer = h.start("rr")
    h.complete(newer, "Source", ok=False)
    with pytest.raises(ApiError) as info:
        h.rt.operations.retry("rr", "Source", ex, "FAILED_ACTIONS")
    assert info.value.code == "NotLatestPipelineExecutionException"


def test_variables_flow_and_unresolved_reference_fails_the_action(h: Harness) -> None:
    build = fake_build(
        "Use",
        config={"Param": "#{Src.CommitId}/#{variables.Env}/#{codepipeline.PipelineExecutionId}"},
    )
    decl = pipeline(
        "v",
        ("Source", [fake_source(namespace="Src")]),
        ("Build", [build]),
        pipelineType="V2",
        variables=[{"name": "Env", "defaultValue": "dev"}],
    )
    ex = h.create(decl)
    h.complete(ex, "Source", output_variables={"CommitId": "abc123"})
    details, _ = h.rt.queries.list_action_executions(
        "v", execution_id=ex, max_results=None, next_token=None
    )
    use = next(d for d in details if d["actionName"] == "Use")
    assert use["input"]["resolvedConfiguration"]["Param"] == f"abc123/dev/{ex}"
    assert use["input"]["configuration"]["Param"].startswith("#{Src.CommitId}")
    h.complete(ex, "Use")
    ex2 = h.start("v", variables=[{"name": "Env", "value": "prod"}])
    h.complete(ex2, "Source", output_variables={})
    assert h.status("v", ex2) == "Failed"
    assert "#{Src.CommitId}" in (h.rt.queries.execution("v", ex2).get("statusSummary") or "")


def test_start_refuses_unknown_variables(h: Harness) -> None:
    h.create(three_stage("uv"))
    with pytest.raises(ApiError) as info:
        h.start("uv", variables=[{"name": "Nope", "value": "x"}])
    assert info.value.code == "ValidationException"


def test_client_request_token_is_idempotent(h: Harness) -> None:
    h.create(three_stage("idem", pipelineType="V2", executionMode="PARALLEL"))
    a = h.start("idem", client_token="tok-1")
    b = h.start("idem", client_token="tok-1")
    assert a == b


def test_executions_pin_their_pipeline_version(h: Harness) -> None:
    ex = h.create(three_stage("pin"))
    h.services.pipelines.update(three_stage("pin"))
    assert h.rt.queries.execution("pin", ex)["pipelineVersion"] == 1
    assert h.rt.queries.execution("pin", h.start("pin"))["pipelineVersion"] == 2


def test_history_records_every_transition(h: Harness) -> None:
    from stageline.store import executions as store

    ex = h.create(three_stage("hist"))
    h.complete(ex, "Source")
    with h.services.ctx.db.read() as conn:
        rows = store.history_of(conn, ex)
    kinds = [(r["entity"], r["to_status"]) for r in rows]
    assert ("pipeline", "InProgress") in kinds
    assert ("stage", "Succeeded") in kinds
    assert kinds.count(("action", "InProgress")) == 3


def test_a_job_past_its_timeout_is_timed_out_and_fails_its_action(h: Harness) -> None:
    from stageline.store import jobs as job_store

    decl = pipeline(
        "to", ("Source", [fake_source()]), ("Build", [fake_build("Slow", timeoutInMinutes=30)])
    )
    ex = h.create(decl)
    h.complete(ex, "Source")
    h.clock.advance(minutes=29)
    assert h.rt.scheduler.tick() == 0
    h.clock.advance(minutes=2)
    assert h.rt.scheduler.tick() == 1
    assert h.status("to", ex) == "Failed"
    state = h.rt.queries.pipeline_state("to")["stageStates"][1]["actionStates"][0][
        "latestExecution"
    ]
    assert state["errorDetails"]["code"] == "TimedOut"
    assert "timed out after 30 minutes" in state["errorDetails"]["message"]
    with h.services.ctx.db.read() as conn:
        statuses = {j.status for j in job_store.for_action(conn, state["actionExecutionId"])}
    assert statuses == {"TimedOut"}


def test_custom_actions_default_to_a_24_hour_timeout(h: Harness) -> None:
    ex = h.create(pipeline("day", ("Source", [fake_source()]), ("Build", [fake_build("B")])))
    h.complete(ex, "Source")
    h.clock.advance(minutes=23 * 60 + 59)
    assert h.rt.scheduler.tick() == 0
    h.clock.advance(minutes=2)
    assert h.rt.scheduler.tick() == 1
    assert "timed out after 1 day" in (h.rt.queries.execution("day", ex).get("statusSummary") or "")


def test_an_expired_lease_requeues_the_job_then_fails_the_action(h: Harness) -> None:
    from stageline.engine.jobs import MAX_ATTEMPTS

    ex = h.create(pipeline("lease", ("Source", [fake_source()]), ("Build", [fake_build("B")])))
    h.complete(ex, "Source")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        claimed = h.rt.jobs.claim(BUILD, worker=f"w{attempt}", limit=1)
        assert len(claimed) == 1, attempt  # handed out again after each lost lease
        h.clock.advance(minutes=2)  # the worker died: no heartbeat
        h.rt.scheduler.tick()
    assert h.status("lease", ex) == "Failed"
    message = h.rt.queries.execution("lease", ex)["statusSummary"]
    assert f"lease expired {MAX_ATTEMPTS} times, last held by w{MAX_ATTEMPTS}" in message


def test_a_heartbeat_keeps_the_job(h: Harness) -> None:
    ex = h.create(pipeline("beat", ("Source", [fake_source()]), ("Build", [fake_build("B")])))
    h.complete(ex, "Source")
    job = h.rt.jobs.claim(BUILD, worker="alive", limit=1)[0]
    for _ in range(5):
        h.clock.advance(seconds=40)
        h.rt.jobs.heartbeat(job.id)
        h.rt.scheduler.tick()
    assert h.rt.jobs.claim(BUILD, worker="other", limit=1) == []
    assert h.rt.jobs.get(job.id).status == "Dispatched"
