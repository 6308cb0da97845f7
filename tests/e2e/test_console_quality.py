"""The page's quality: keyboard use, phones, dark mode, and no cross-site form posts."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT_MS, Kit, action_card, wait_status
from tests.support.pipelines import commands, gate, source, wait_until


def test_an_approval_can_be_given_with_the_keyboard_alone(page: Any, kit: Kit) -> None:
    repo = kit.repo()
    name = f"keys-{kit.unique}"
    w = kit.pipeline(name, ("Source", [source(repo)]), ("Approval", [gate("Release")]))
    execution = w.latest()
    page.goto(kit.url(name))
    review = action_card(page, "Approval", "Release").get_by_role("link", name="Review")
    review.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("dialog#dialog")
    expect(dialog.locator("#review-summary")).to_be_focused()
    page.keyboard.press("Escape")  # closes, and focus goes back where it was
    expect(dialog).to_be_hidden()
    expect(review).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog.locator("#review-summary")).to_be_focused()
    page.keyboard.type("ok by keyboard")
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Approve")).to_be_focused()
    page.keyboard.press("Enter")
    expect(action_card(page, "Approval", "Release")).to_have_attribute("data-status", "Succeeded")
    wait_status(w, execution, "Succeeded")


def test_the_pipeline_view_fits_a_phone(browser: Any, kit: Kit) -> None:
    repo = kit.repo()
    name = f"phone-{kit.unique}-with-a-rather-long-name-for-a-small-screen"
    w = kit.pipeline(
        name,
        ("Source", [source(repo)]),
        ("Build", [commands("Unit", ["true"]), commands("Lint", ["true"])]),
    )
    wait_status(w, w.latest(), "Succeeded")
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        phone = context.new_page()
        for path in ("", "/executions", f"/executions/{w.latest()}", "/edit"):
            phone.goto(kit.url(name, path))
            expect(phone.get_by_role("heading", level=1)).to_be_visible()
            width = phone.evaluate("document.scrollingElement.scrollWidth")
            assert width <= 390, f"{path or '/'} is {width}px wide on a 390px screen"
        phone.goto(kit.url(name))
        unit = action_card(phone, "Build", "Unit").bounding_box()
        lint = action_card(phone, "Build", "Lint").bounding_box()
        assert unit is not None and lint is not None
        assert lint["y"] > unit["y"]  # parallel actions stack on a narrow screen
    finally:
        context.close()


def test_dark_mode_follows_the_system_and_the_toggle_is_remembered(browser: Any, kit: Kit) -> None:
    context = browser.new_context(color_scheme="dark")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(f"{kit.console}/")

        def background() -> str:
            return str(page.evaluate("getComputedStyle(document.body).backgroundColor"))

        dark = background()
        assert dark == "rgb(13, 17, 23)"
        toggle = page.get_by_role("button", name="Dark mode: on")
        expect(toggle).to_have_attribute("aria-pressed", "true")
        toggle.click()
        expect(page.get_by_role("button", name="Dark mode: off")).to_be_visible()
        assert background() == "rgb(246, 247, 249)"
        page.reload()
        expect(page.get_by_role("button", name="Dark mode: off")).to_be_visible()
        assert background() == "rgb(246, 247, 249)"
    finally:
        context.close()


def test_forms_posted_from_other_sites_are_refused(kit: Kit) -> None:
    repo = kit.repo()
    name = f"csrf-{kit.unique}"
    w = kit.pipeline(name, ("Source", [source(repo)]), ("Deploy", [commands("Ship", ["true"])]))
    url = kit.url(name, "/transition")
    form = {"stage": "Deploy", "enabled": "false", "reason": "pwned"}
    attempts = [
        {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {},  # no Origin at all: not something a browser sends with a POST
        {"Host": "evil.example", "Origin": "http://evil.example"},  # DNS rebinding
    ]
    for headers in attempts:
        response = httpx.post(url, data=form, headers=headers)
        assert response.status_code == 403, headers
    assert httpx.get(kit.url(name), headers={"Host": "evil.example"}).status_code == 403
    assert w.stage("Deploy")["inboundTransitionState"]["enabled"] is True
    same = httpx.post(
        url, data=form, headers={"Origin": kit.server.url, "Accept": "application/json"}
    )
    assert same.status_code == 200 and same.json()["ok"] is True
    wait_until(lambda: w.stage("Deploy")["inboundTransitionState"]["enabled"] is False)
