"""Editing pipelines in the browser: checked as you type, saved through UpdatePipeline."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Kit, wait_status
from tests.support.pipelines import commands, source


def test_an_edit_shows_the_api_validation_error_then_saves_once_fixed(page: Any, kit: Kit) -> None:
    repo = kit.repo()
    name = f"edit-{kit.unique}"
    w = kit.pipeline(name, ("Source", [source(repo)]), ("Build", [commands("Unit", ["true"])]))
    wait_status(w, w.latest(), "Succeeded")
    page.goto(kit.url(name))
    page.get_by_role("link", name="Edit").click()
    editor = page.get_by_label("Pipeline declaration (JSON)")
    problems = page.locator("#problems")
    expect(problems).to_have_text("Valid: the API accepts this declaration.")
    declaration = json.loads(editor.input_value())
    assert declaration["version"] == 1
    # An input artifact nothing produces: the API's own message, as you type.
    declaration["stages"][1]["actions"][0]["inputArtifacts"] = [{"name": "Missing"}]
    editor.fill(json.dumps(declaration, indent=2))
    expect(problems).to_contain_text("InvalidStructureException")
    expect(problems).to_contain_text("Missing")
    expect(editor).to_have_attribute("aria-invalid", "true")
    # Broken JSON names the line.
    editor.fill('{"name": ')
    expect(problems).to_contain_text("line 1")
    # Fixed: valid again, and saved as version 2.
    declaration["stages"][1]["actions"][0]["inputArtifacts"] = [{"name": "Src"}]
    declaration["stages"][1]["actions"].append(commands("Lint", ["echo lint"]))
    editor.fill(json.dumps(declaration, indent=2))
    expect(problems).to_have_text("Valid: the API accepts this declaration.")
    page.get_by_role("button", name="Save").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.locator("p.meta")).to_contain_text("version 2")
    expect(page.locator('[data-action="Build/Lint"]')).to_be_visible()
    stored = kit.cp.get_pipeline(name=name)["pipeline"]
    assert stored["version"] == 2
    assert [a["name"] for a in stored["stages"][1]["actions"]] == ["Unit", "Lint"]


def test_a_stale_edit_is_refused_instead_of_overwriting(page: Any, kit: Kit) -> None:
    repo = kit.repo()
    name = f"stale-{kit.unique}"
    kit.pipeline(name, ("Source", [source(repo)]), ("Build", [commands("Unit", ["true"])]))
    page.goto(kit.url(name, "/edit"))
    editor = page.get_by_label("Pipeline declaration (JSON)")
    mine = json.loads(editor.input_value())
    # Someone else saves first.
    theirs = kit.cp.get_pipeline(name=name)["pipeline"]
    theirs["stages"][1]["actions"][0]["commands"] = ["echo theirs"]
    kit.cp.update_pipeline(pipeline=theirs)
    mine["stages"][1]["actions"][0]["commands"] = ["echo mine"]
    editor.fill(json.dumps(mine, indent=2))
    expect(page.locator("#problems .note")).to_contain_text("now at version 2")
    page.get_by_role("button", name="Save").first.click()
    expect(page.locator("#editor-form .form-error")).to_contain_text("ConflictException")
    stored = kit.cp.get_pipeline(name=name)["pipeline"]
    assert stored["version"] == 2
    assert stored["stages"][1]["actions"][0]["commands"] == ["echo theirs"]


def test_the_visual_editor_adds_reorders_and_removes_stages_and_actions(
    page: Any, kit: Kit
) -> None:
    repo = kit.repo()
    name = f"visual-{kit.unique}"
    kit.pipeline(
        name,
        ("Source", [source(repo)]),
        ("Build", [commands("Unit", ["true"], timeoutInMinutes=5)]),
    )
    page.goto(kit.url(name, "/edit"))
    page.get_by_role("tab", name="Visual").click()
    visual = page.locator("#panel-visual")
    expect(visual).to_be_visible()
    expect(page.locator("#panel-code")).to_be_hidden()
    visual.get_by_role("button", name="Add stage after Build").click()
    new_stage = visual.locator('[data-visual-stage="Stage1"]')
    expect(new_stage).to_be_visible()
    new_stage.get_by_label("Stage name").fill("Release")
    visual.get_by_role("button", name="Add action to stage Build").click()
    action = visual.locator('[data-visual-action="Build/Action1"]')
    expect(action).to_be_visible()
    action.get_by_label("Name", exact=True).fill("Lint")
    action.get_by_label("Action type").select_option("Compute|AWS|Commands|1")
    action.get_by_label("Input artifacts").fill("Src")
    action.get_by_label("Commands (one per line; Commands actions)").fill("echo lint")
    visual.get_by_role("button", name="Move up action Lint").click()
    expect(visual.locator(".visual-action").nth(1)).to_have_attribute(
        "data-visual-action", "Build/Lint"
    )
    page.get_by_role("tab", name="JSON / YAML").click()
    expect(page.locator("#problems")).to_have_text("Valid: the API accepts this declaration.")
    text = json.loads(page.get_by_label("Pipeline declaration (JSON)").input_value())
    assert [s["name"] for s in text["stages"]] == ["Source", "Build", "Release"]
    assert [a["name"] for a in text["stages"][1]["actions"]] == ["Lint", "Unit"]
    page.get_by_role("tab", name="Visual").click()
    visual.get_by_role("button", name="Remove stage Release").click()
    expect(visual.locator('[data-visual-stage="Release"]')).to_have_count(0)
    visual.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    stored = kit.cp.get_pipeline(name=name)["pipeline"]
    assert stored["version"] == 2
    assert [s["name"] for s in stored["stages"]] == ["Source", "Build"]
    lint, unit = stored["stages"][1]["actions"]
    assert lint["name"] == "Lint" and lint["commands"] == ["echo lint"]
    assert unit["timeoutInMinutes"] == 5  # a member the form does not show survives the trip


def test_a_new_pipeline_is_created_from_the_editor(page: Any, kit: Kit) -> None:
    repo = kit.repo()
    name = f"new-{kit.unique}"
    page.goto(f"{kit.console}/")
    page.get_by_role("link", name="New pipeline").click()
    editor = page.get_by_label("Pipeline declaration (JSON)")
    declaration = json.loads(editor.input_value())
    declaration["name"] = name
    declaration["stages"][0]["actions"][0]["configuration"]["RepositoryName"] = repo
    editor.fill(json.dumps(declaration, indent=2))
    expect(page.locator("#problems")).to_have_text("Valid: the API accepts this declaration.")
    page.get_by_role("button", name="Create").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.locator('[data-action="Build/Test"]')).to_have_attribute("data-status", "Succeeded")
    assert kit.cp.get_pipeline(name=name)["pipeline"]["version"] == 1
