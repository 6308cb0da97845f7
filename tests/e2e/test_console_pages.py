"""The pipelines list, execution history and detail, and escaping of what users wrote."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import Kit, action_card, assert_not_reloaded, mark_page, screenshot
from tests.e2e.conftest import wait_status as wait_for
from tests.support.pipelines import commands, gate, source, wait_until


def test_the_list_shows_every_pipeline_searchable_and_sortable(page: Any, kit: Kit) -> None:
    repo = kit.repo()
    alpha, beta = f"alpha-{kit.unique}", f"beta-{kit.unique}"
    a = kit.pipeline(alpha, ("Source", [source(repo)]), ("Build", [commands("Ok", ["true"])]))
    b = kit.pipeline(
        beta,
        ("Source", [source(repo)]),
        ("Build", [commands("Broken", ["false"])]),
        pipelineType="V2",
        executionMode="QUEUED",
    )
    wait_for(a, a.latest(), "Succeeded")
    wait_for(b, b.latest(), "Failed")
    page.goto(f"{kit.console}/")
    mark_page(page)
    row_a = page.locator(f'tr[data-pipeline="{alpha}"]')
    row_b = page.locator(f'tr[data-pipeline="{beta}"]')
    expect(row_a.locator(".badge")).to_have_text("Succeeded")
    expect(row_a.locator(".trigger")).to_have_text("CreatePipeline")
    expect(row_a.locator("td").nth(0)).to_have_text("V1")
    expect(row_b.locator(".badge")).to_have_text("Failed")
    expect(row_b.locator("td").nth(1)).to_have_text("QUEUED")
    expect(row_b.locator("time")).to_have_text(re.compile(r"^(just now|\d+ s ago)$"))
    expect(row_a.locator("svg.spark rect.ok")).to_have_count(1)
    # Search narrows the list as you type, without a reload.
    page.get_by_label("Search by name").fill(f"beta-{kit.unique}")
    expect(row_a).to_have_count(0)
    expect(row_b).to_have_count(1)
    page.get_by_label("Search by name").fill(kit.unique)
    expect(row_a).to_have_count(1)
    # Sort by name, Z to A: beta before alpha.
    page.get_by_label("Sort by").select_option("-name")
    expect(page.locator("tbody tr").first).to_have_attribute("data-pipeline", beta)
    page.get_by_label("Sort by").select_option("name")
    expect(page.locator("tbody tr").first).to_have_attribute("data-pipeline", alpha)
    assert "sort=name" in page.url
    # The list is live too: a new execution shows up without reloading.
    kit.cp.start_pipeline_execution(name=alpha)
    expect(row_a.locator("svg.spark rect")).to_have_count(2)
    assert_not_reloaded(page)
    page.get_by_role("link", name=alpha).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(alpha)


def test_history_pages_and_an_execution_timeline_with_artifacts(page: Any, kit: Kit) -> None:
    repo = kit.repo()
    name = f"history-{kit.unique}"
    w = kit.pipeline(
        name,
        ("Source", [source(repo)]),
        (
            "Build",
            [
                commands("Unit", ["sleep 0.3", "echo unit"]),
                commands(
                    "Package",
                    ["sleep 0.5", "mkdir -p dist", "cp app.py dist/", "export PKG=app-1"],
                    outputs=("Pkg",),
                    outputVariables=["PKG"],
                    namespace="Build",
                ),
            ],
        ),
        ("Deploy", [commands("Ship", ["echo #{Build.PKG}"], inputs=("Pkg",))]),
        executionMode="PARALLEL",
        pipelineType="V2",
    )
    first = w.latest()
    wait_for(w, first, "Succeeded")  # alone, so its timeline shows real parallelism
    for _ in range(11):
        kit.cp.start_pipeline_execution(name=name)
    executions = wait_until(lambda: len(ex := w.executions()) == 12 and ex)
    for e in executions:
        wait_for(w, e["pipelineExecutionId"], "Succeeded")
    page.goto(kit.url(name, "/executions?size=10"))
    rows = page.locator("table.executions tbody tr")
    expect(rows).to_have_count(10)
    expect(page.locator("figure.trend rect")).to_have_count(12)
    expect(page.locator("figure.trend figcaption")).to_contain_text("Success rate 100 %")
    page.get_by_role("link", name="Older").click()
    expect(rows).to_have_count(2)
    page.get_by_role("link", name="Newest").click()
    expect(rows).to_have_count(10)
    page.goto(kit.url(name, "/executions?size=10"))
    page.get_by_role("link", name="Older").click()
    rows.last.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(first)
    gantt = page.locator(".gantt")
    for label in ("Source", "Source/Source", "Build", "Build/Unit", "Build/Package", "Deploy/Ship"):
        expect(gantt.locator(f'[data-row="{label}"]')).to_have_count(1)
    # Unit and Package ran side by side: their bars overlap in time.
    unit, package = (bar(gantt, label) for label in ("Build/Unit", "Build/Package"))
    assert unit[0] < package[0] + package[1] and package[0] < unit[0] + unit[1]
    expect(page.locator("table.variables")).to_contain_text("app-1")
    link = page.get_by_role("link", name="Pkg.zip")
    expect(link).to_be_visible()
    response = httpx.get(kit.server.url + link.get_attribute("href"))  # type: ignore[operator]
    assert response.status_code == 200 and response.content[:2] == b"PK"
    screenshot(page.locator("main"), "execution-timeline.png")


def test_a_commit_message_with_markup_is_shown_as_text(page: Any, kit: Kit) -> None:
    hostile = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
    repo = kit.repo(message=hostile)
    name = f"escape-{kit.unique}"
    w = kit.pipeline(
        name,
        ("Source", [source(repo)]),
        ("Gate", [gate("Check", CustomData='<img src=x onerror="window.__pwned = 3">')]),
    )
    wait_until(lambda: w.action_state("Gate", "Check").get("latestExecution", {}).get("token"))
    page.goto(kit.url(name))
    message = action_card(page, "Source", "Source").locator(".message")
    expect(message).to_have_text(hostile)
    action_card(page, "Gate", "Check").get_by_role("link", name="Review").click()
    expect(page.locator("dialog .custom-data")).to_have_text(
        '<img src=x onerror="window.__pwned = 3">'
    )
    expect(page.locator("dialog .revisions")).to_contain_text("<script>")
    page.keyboard.press("Escape")
    page.goto(kit.url(name, "/executions"))
    expect(page.locator("table.executions .message")).to_have_text(hostile)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("main img").count() == 0
    assert page.locator("main script").count() == 0


def bar(gantt: Any, label: str) -> tuple[float, float]:
    """A timeline bar's start and width, on the chart's 0..1000 scale."""
    rect = gantt.locator(f'[data-row="{label}"] rect')
    return float(rect.get_attribute("x")), float(rect.get_attribute("width"))


def test_an_update_from_another_client_shows_in_an_open_view(page: Any, kit: Kit) -> None:
    repo = kit.repo()
    name = f"outside-{kit.unique}"
    w = kit.pipeline(name, ("Source", [source(repo)]), ("Build", [commands("Ok", ["true"])]))
    wait_for(w, w.latest(), "Succeeded")
    page.goto(kit.url(name))
    mark_page(page)
    expect(page.locator('[data-stage="Build"]')).to_have_count(1)

    declaration = kit.cp.get_pipeline(name=name)["pipeline"]
    declaration["stages"].append({"name": "Check", "actions": [commands("Lint", ["true"])]})
    kit.cp.update_pipeline(pipeline=declaration)  # boto3, not the console
    expect(action_card(page, "Check", "Lint")).to_have_count(1)
    assert_not_reloaded(page)
