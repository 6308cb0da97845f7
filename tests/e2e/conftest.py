"""The console end to end: a real server process, real git pushes, a real headless Chromium.

Chromium is Debian's (``/usr/bin/chromium``, installed by ``scripts/test``),
driven by Playwright for Python; Playwright's own browser downloads are never
used. Every page is checked for script errors and Content-Security-Policy
violations when its test ends.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.git import GitClient
from tests.support.pipelines import Watcher, declaration, wait_until
from tests.support.server import ServerProcess, start_server

CHROMIUM = Path(os.environ.get("STAGELINE_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The pictures go to build/screenshots/ (ignored by git); `make screenshots` sets
# STAGELINE_SCREENSHOTS=docs/screenshots to refresh the ones the README shows.
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / os.environ.get("STAGELINE_SCREENSHOTS", "build/screenshots")
TIMEOUT_MS = 30_000


# Per module, not per session: while Playwright's sync API is open it keeps an event
# loop running on the main thread, and every later test that calls asyncio.run()
# (Starlette's TestClient among them) would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; scripts/test installs Debian's chromium")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class PageProblems:
    """Script errors and CSP violations a page reported; a console must have none."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def console(self, message: Any) -> None:
        text = message.text
        if message.type == "error" and "Content Security Policy" in text:
            self.items.append(f"CSP: {text}")

    def page_error(self, error: Any) -> None:
        self.items.append(f"script error: {error}")


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    problems = PageProblems()
    page = context.new_page()
    page.on("console", problems.console)
    page.on("pageerror", problems.page_error)
    try:
        yield page
    finally:
        context.close()
    assert problems.items == []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real server whose CodeBuild actions run on this machine (no container engine)."""
    proc = start_server(tmp_path_factory.mktemp("server"), "--build-executor", "host")
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def cp(server: ServerProcess) -> Any:
    return server.client("codepipeline")


@pytest.fixture(scope="module")
def git(tmp_path_factory: pytest.TempPathFactory) -> GitClient:
    return GitClient(tmp_path_factory.mktemp("git-home"))


class Kit:
    """Hosted repositories and pipelines for one test, named after it."""

    def __init__(self, server: ServerProcess, cp: Any, git: GitClient, tmp: Path, unique: str):
        self.server, self.cp, self.git, self.tmp, self.unique = server, cp, git, tmp, unique
        self.console = f"{server.url}/console"

    def repo(self, files: dict[str, str] | None = None, message: str = "Add the app") -> str:
        name = f"repo-{self.unique}"
        self.server.client("codecommit").create_repository(repositoryName=name)
        self.git.push_tree(
            f"{self.server.url}/git/{name}",
            self.tmp / "work",
            files or {"app.py": "print('hello')\n"},
            message,
        )
        return name

    def pipeline(
        self, name: str, *stages: tuple[str, list[dict[str, Any]]], **extra: Any
    ) -> Watcher:
        self.cp.create_pipeline(pipeline=declaration(name, *stages, **extra))
        return Watcher(self.cp, name)

    def url(self, name: str, rest: str = "") -> str:
        return f"{self.console}/pipelines/{name}{rest}"


@pytest.fixture
def kit(server: ServerProcess, cp: Any, git: GitClient, tmp_path: Path, unique: str) -> Kit:
    return Kit(server, cp, git, tmp_path, unique)


def gate_command(gate: Path) -> str:
    """A shell command that waits (up to a minute) for ``gate`` to exist."""
    return f"for i in $(seq 1200); do [ -f {gate} ] && break; sleep 0.05; done; [ -f {gate} ]"


def screenshot(target: Any, name: str) -> None:
    """Keep a picture of the page (for the README with `make screenshots`)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    options = {"full_page": True} if hasattr(target, "goto") else {}
    target.screenshot(path=str(SCREENSHOTS / name), animations="disabled", **options)


def action_card(page: Any, stage: str, action: str) -> Any:
    return page.locator(f'[data-action="{stage}/{action}"]')


def mark_page(page: Any) -> None:
    """Leave a marker in the page's script state: a reload would lose it."""
    page.evaluate("window.__stagelineMarker = 'kept'")


def assert_not_reloaded(page: Any) -> None:
    assert page.evaluate("window.__stagelineMarker") == "kept"


def wait_status(w: Watcher, execution: str, wanted: str, timeout: float = 60.0) -> None:
    wait_until(lambda: w.status(execution) == wanted, timeout)
