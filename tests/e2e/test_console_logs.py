"""An action's log in the browser: streamed live, searchable, failures marked, test reports."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import (
    Kit,
    action_card,
    assert_not_reloaded,
    gate_command,
    mark_page,
    wait_status,
)
from tests.support.declarations import ROLE
from tests.support.pipelines import commands, source

# Each line is printed by a command whose own text (the log shows it too) does not contain it.
BEFORE = [(f"line-{i}", f"printf '%s-%s\\n' line {i}") for i in range(1, 4)]
FAILURE = "ERROR: the widget failed <script>window.__pwned = 1</script>"
AFTER = [
    (
        FAILURE,
        "printf '%s%s: the wid%s fai%s %s\\n' ER ROR get led '<script>window.__pwned = 1</script>'",
    ),
    ("line-4", "printf '%s-%s\\n' line 4"),
    ("done", "printf '%s%s\\n' do ne"),
]

JUNIT = """\
<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="calculator" tests="3" failures="1" skipped="1" time="0.5">
    <testcase classname="calculator" name="test_add" time="0.2"/>
    <testcase classname="calculator" name="test_skip" time="0.0"><skipped/></testcase>
    <testcase classname="calculator" name="test_divide" time="0.3">
      <failure message="expected 2 but got 3">AssertionError: expected 2 but got 3</failure>
    </testcase>
  </testsuite>
</testsuites>
"""


def test_the_log_streams_lines_as_they_are_written(page: Any, kit: Kit, tmp_path: Path) -> None:
    repo = kit.repo()
    more = tmp_path / "more"
    name = f"logs-{kit.unique}"
    w = kit.pipeline(
        name,
        ("Source", [source(repo)]),
        (
            "Build",
            [
                commands(
                    "Talk",
                    [
                        *(command for _, command in BEFORE),
                        gate_command(more),
                        *(command for _, command in AFTER),
                    ],
                )
            ],
        ),
    )
    execution = w.latest()
    page.goto(kit.url(name))
    card = action_card(page, "Build", "Talk")
    expect(card).to_have_attribute("data-status", "InProgress")
    card.get_by_role("link", name="Logs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Build / Talk")
    mark_page(page)
    log = page.locator("ol#log")
    for text, _ in BEFORE:
        expect(line(log, text)).to_have_count(1)
    expect(line(log, "done")).to_have_count(0)
    more.touch()
    expect(line(log, "done")).to_have_count(1)
    expect(log).to_have_attribute("data-live", "complete")
    failure = log.locator("li.fail")
    expect(failure).to_have_count(1)
    expect(failure).to_have_text(FAILURE)  # markup in a log line is text
    assert page.evaluate("window.__pwned") is None
    # Search: matches are marked; "only matching lines" hides the rest.
    page.get_by_label("Search the log").fill("line-")
    expect(page.locator("#log-count")).to_have_text("4 matching lines")
    expect(log.locator("mark")).to_have_count(4)
    page.get_by_label("Only matching lines").check()
    expect(log.locator("li:visible")).to_have_count(4)
    page.get_by_label("Only matching lines").uncheck()
    page.get_by_label("Search the log").fill("")
    page.get_by_role("button", name="Next failure").click()
    expect(failure).to_be_focused()
    assert_not_reloaded(page)
    wait_status(w, execution, "Succeeded")


def test_a_test_report_summary_shows_with_the_log(page: Any, kit: Kit) -> None:
    buildspec = textwrap.dedent(
        """\
        version: 0.2
        phases:
          build:
            commands:
              - echo running the tests
              - mkdir -p reports && cp junit.xml reports/junit.xml
        reports:
          unit:
            files:
              - "reports/*.xml"
            file-format: JUNITXML
        """
    )
    repo = kit.repo({"buildspec.yml": buildspec, "junit.xml": JUNIT})
    project = f"project-{kit.unique}"
    kit.server.client("codebuild").create_project(
        name=project,
        source={"type": "CODEPIPELINE"},
        artifacts={"type": "CODEPIPELINE"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
        },
        serviceRole=ROLE,
    )
    name = f"report-{kit.unique}"
    build = {
        "name": "Test",
        "actionTypeId": {
            "category": "Test",
            "owner": "AWS",
            "provider": "CodeBuild",
            "version": "1",
        },
        "configuration": {"ProjectName": project},
        "inputArtifacts": [{"name": "Src"}],
    }
    w = kit.pipeline(name, ("Source", [source(repo)]), ("Test", [build]))
    wait_status(w, w.latest(), "Succeeded", timeout=120)
    page.goto(kit.url(name))
    action_card(page, "Test", "Test").get_by_role("link", name="Logs").click()
    report = page.locator("#report .report")
    expect(report.locator(".counts")).to_contain_text("1 passed · 1 failed · 1 skipped")
    expect(report.locator(".failing")).to_contain_text("calculator.test_divide")
    expect(report.locator(".failing pre")).to_contain_text("expected 2 but got 3")
    expect(page.locator("ol#log li", has_text="running the tests").first).to_be_visible()


def line(log: Any, text: str) -> Any:
    """The log's lines that are exactly ``text``."""
    return log.locator("li").filter(has_text=re.compile(f"^{re.escape(text)}$"))
