"""The pipeline view while pipelines run: live cards, approvals, transitions, retry and stop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import (
    Kit,
    action_card,
    assert_not_reloaded,
    gate_command,
    mark_page,
    screenshot,
    wait_status,
)
from tests.support.pipelines import commands, gate, source, wait_until


def test_action_cards_change_state_live_while_the_pipeline_runs(
    page: Any, kit: Kit, tmp_path: Path
) -> None:
    repo = kit.repo()
    release = tmp_path / "release"
    name = f"live-{kit.unique}"
    w = kit.pipeline(
        name,
        ("Source", [source(repo)]),
        (
            "Build",
            [
                commands("Unit", ["echo unit tests"]),
                commands("Lint", ["echo lint"]),
                commands("Package", [gate_command(release), "echo packaged"], run_order=2),
            ],
        ),
        ("Deploy", [commands("Ship", ["echo shipped"])]),
    )
    execution = w.latest()
    page.goto(kit.url(name))
    mark_page(page)
    package = action_card(page, "Build", "Package")
    ship = action_card(page, "Deploy", "Ship")
    expect(package).to_have_attribute("data-status", "InProgress")
    expect(action_card(page, "Build", "Unit")).to_have_attribute("data-status", "Succeeded")
    expect(ship).to_have_attribute("data-status", "none")
    screenshot(page, "pipeline-view.png")
    # Parallel actions (same runOrder) sit side by side in one group, the next group below.
    groups = page.locator('[data-stage="Build"] .group')
    expect(groups).to_have_count(2)
    expect(groups.nth(0).locator(".action")).to_have_count(2)
    release.touch()
    expect(package).to_have_attribute("data-status", "Succeeded")
    expect(ship).to_have_attribute("data-status", "Succeeded")
    expect(page.locator('[data-stage="Deploy"] .badge').first).to_have_text("Succeeded")
    assert_not_reloaded(page)
    assert w.status(execution) == "Succeeded"
    expect(action_card(page, "Source", "Source").locator(".commit")).to_be_visible()


def test_a_change_is_released_with_pipeline_variables(page: Any, kit: Kit) -> None:
    repo = kit.repo()
    name = f"release-{kit.unique}"
    w = kit.pipeline(
        name,
        ("Source", [source(repo)]),
        ("Deploy", [commands("Ship", ["echo deploying to #{variables.Target}"])]),
        pipelineType="V2",
        variables=[{"name": "Target", "defaultValue": "staging", "description": "Where to deploy"}],
    )
    first = w.latest()
    wait_status(w, first, "Succeeded")
    page.goto(kit.url(name))
    page.get_by_role("link", name="Release change").click()
    dialog = page.locator("dialog#dialog")
    target = dialog.get_by_label("Target")
    expect(target).to_have_value("staging")
    expect(dialog.get_by_text("Where to deploy")).to_be_visible()
    target.fill("production")
    dialog.get_by_role("button", name="Release").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#notice")).to_contain_text("Started execution")
    second = wait_until(
        lambda: (e := w.executions()) and len(e) == 2 and e[0]["pipelineExecutionId"]
    )
    expect(page.locator('[data-stage="Deploy"] .exec')).to_have_text(second[:8])
    wait_status(w, second, "Succeeded")
    page.goto(kit.url(name, f"/executions/{second}"))
    expect(page.locator("table.variables")).to_contain_text("production")
    expect(page.locator(".facts")).to_contain_text("StartPipelineExecution")


def test_an_approval_is_reviewed_and_approved_from_the_page(page: Any, kit: Kit) -> None:
    repo = kit.repo(message="Add the app: ready for review")
    name = f"approve-{kit.unique}"
    w = kit.pipeline(
        name,
        ("Source", [source(repo)]),
        (
            "Approval",
            [
                gate(
                    "Release",
                    CustomData="Check the staging site, then approve <b>carefully</b>",
                    ExternalEntityLink="https://staging.example.com/release",
                )
            ],
        ),
        ("Deploy", [commands("Ship", ["echo shipped"])]),
    )
    execution = w.latest()
    page.goto(kit.url(name))
    mark_page(page)
    card = action_card(page, "Approval", "Release")
    review = card.get_by_role("link", name="Review")
    expect(review).to_be_visible()
    review.click()
    dialog = page.locator("dialog#dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".custom-data")).to_have_text(
        "Check the staging site, then approve <b>carefully</b>"
    )
    expect(dialog.locator(".entity-link a")).to_have_attribute(
        "href", "https://staging.example.com/release"
    )
    expect(dialog.locator(".revisions")).to_contain_text("ready for review")
    expect(dialog.locator("#review-summary")).to_be_focused()
    screenshot(dialog, "approval-dialog.png")
    dialog.locator("#review-summary").fill("Looks good on staging")
    dialog.get_by_role("button", name="Approve").click()
    expect(dialog).to_be_hidden()
    expect(card).to_have_attribute("data-status", "Succeeded")
    expect(card.locator(".summary")).to_have_text("Looks good on staging")
    expect(action_card(page, "Deploy", "Ship")).to_have_attribute("data-status", "Succeeded")
    assert_not_reloaded(page)
    wait_status(w, execution, "Succeeded")
    state = w.action_state("Approval", "Release")["latestExecution"]
    assert state["summary"] == "Looks good on staging"


def test_a_transition_is_disabled_and_enabled_from_the_page(page: Any, kit: Kit) -> None:
    repo = kit.repo()
    name = f"transition-{kit.unique}"
    w = kit.pipeline(
        name,
        ("Source", [source(repo)]),
        ("Deploy", [commands("Ship", ["echo shipped"])]),
    )
    wait_status(w, w.latest(), "Succeeded")
    page.goto(kit.url(name))
    mark_page(page)
    transition = page.locator('[data-transition="Deploy"]')
    expect(transition.locator(".tstate")).to_have_text("Transition enabled")
    transition.get_by_role("link", name="Disable the transition into Deploy").click()
    dialog = page.locator("dialog#dialog")
    reason = dialog.get_by_label("Reason")
    expect(reason).to_be_focused()
    # The API's own validation applies: '#' is outside the reason's allowed characters.
    reason.fill("freeze #1")
    dialog.get_by_role("button", name="Disable").click()
    expect(dialog.locator(".form-error")).to_contain_text("ValidationException")
    reason.fill("Release freeze (QA)")
    dialog.get_by_role("button", name="Disable").click()
    expect(dialog).to_be_hidden()
    expect(transition.locator(".tstate")).to_have_text("Transition disabled")
    expect(transition.locator(".reason")).to_have_text("Release freeze (QA)")
    inbound = w.stage("Deploy")["inboundTransitionState"]
    assert inbound["enabled"] is False and inbound["disabledReason"] == "Release freeze (QA)"
    # A new execution waits at the disabled transition, visibly.
    execution = kit.cp.start_pipeline_execution(name=name)["pipelineExecutionId"]
    expect(transition.locator(".waiting")).to_have_text("1 waiting to enter")
    transition.get_by_role("button", name="Enable the transition into Deploy").click()
    expect(transition.locator(".tstate")).to_have_text("Transition enabled")
    wait_status(w, execution, "Succeeded")
    expect(page.locator('[data-stage="Deploy"] .exec')).to_have_text(execution[:8])
    assert_not_reloaded(page)
    assert w.stage("Deploy")["inboundTransitionState"]["enabled"] is True


def test_a_failed_stage_is_retried_from_the_page(page: Any, kit: Kit, tmp_path: Path) -> None:
    repo = kit.repo()
    fixed = tmp_path / "fixed"
    name = f"retry-{kit.unique}"
    w = kit.pipeline(
        name,
        ("Source", [source(repo)]),
        ("Build", [commands("Flaky", [f"test -f {fixed}"]), commands("Steady", ["echo ok"])]),
    )
    execution = w.latest()
    wait_status(w, execution, "Failed")
    page.goto(kit.url(name))
    mark_page(page)
    stage = page.locator('[data-stage="Build"]')
    expect(action_card(page, "Build", "Flaky")).to_have_attribute("data-status", "Failed")
    # Nothing runs, so Stop is refused with AWS's reason; Retry is offered.
    expect(page.locator("#stop-why")).to_contain_text("no execution is in progress")
    fixed.touch()
    stage.get_by_role("button", name="Retry failed actions").click()
    expect(action_card(page, "Build", "Flaky")).to_have_attribute("data-status", "Succeeded")
    expect(stage.locator(".badge").first).to_have_text("Succeeded")
    assert_not_reloaded(page)
    wait_status(w, execution, "Succeeded")
    # Only the failed action ran again.
    runs = kit.cp.list_action_executions(
        pipelineName=name, filter={"pipelineExecutionId": execution}
    )["actionExecutionDetails"]
    assert sorted(r["actionName"] for r in runs) == ["Flaky", "Flaky", "Source", "Steady"]


def test_an_execution_is_stopped_and_abandoned_from_the_page(
    page: Any, kit: Kit, tmp_path: Path
) -> None:
    repo = kit.repo()
    never = tmp_path / "never"
    name = f"stop-{kit.unique}"
    w = kit.pipeline(
        name,
        ("Source", [source(repo)]),
        ("Build", [commands("Forever", [gate_command(never)])]),
    )
    execution = w.latest()
    page.goto(kit.url(name))
    mark_page(page)
    card = action_card(page, "Build", "Forever")
    expect(card).to_have_attribute("data-status", "InProgress")
    page.get_by_role("link", name="Stop execution").click()
    dialog = page.locator("dialog#dialog")
    expect(dialog.get_by_role("radio", name=execution)).to_be_checked()
    dialog.get_by_label("Stop and abandon").check()
    dialog.get_by_label("Comment (optional)").fill("Wrong branch")
    dialog.get_by_role("button", name="Stop").click()
    expect(dialog).to_be_hidden()
    expect(card).to_have_attribute("data-status", "Abandoned")
    expect(page.locator('[data-stage="Build"] .badge').first).to_have_text("Stopped")
    expect(page.locator("#stop-why")).to_be_visible()
    assert_not_reloaded(page)
    wait_status(w, execution, "Stopped")
    summary = wait_until(lambda: w.executions()[0])
    assert summary["stopTrigger"]["reason"] == "Wrong branch"
