from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.stack import PASSWORD, Stack, running_stack

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("NEUROTRIAGE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = REPO / "artifacts"
# Playwright waits 5 s for each expectation by default. On a busy 2-core machine (server, worker and browser share
# it) a case page or a menu sometimes took longer. An expectation returns as soon as it holds, so a longer limit
# costs nothing when the page is quick.
expect.set_options(timeout=15_000)
# Debian's Chromium, headless; the background-networking flags stop it calling out of this closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (make test does this)")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One live stack (API, worker, PostgreSQL, Redis db 12) for every browser test, with one user per role."""
    users = {"clin": "clinician", "coord": "coordinator", "adm": "admin"}
    with running_stack(tmp_path_factory.mktemp("e2e-stack"), profile="fast", broker_db=12, users=users) as live:
        yield live


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    # The server's Content-Security-Policy must let the app (and its viewer) do all it does: Chromium reports
    # anything the policy blocked on the console.
    blocked: list[str] = []
    context.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text
               else None)
    yield context.new_page()
    context.close()
    assert not blocked, blocked


def sign_in(page: Page, stack: Stack, username: str, password: str = PASSWORD, expect_success: bool = True) -> None:
    page.goto(stack.base_url + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if expect_success:
        expect(page).not_to_have_url(re.compile(r"/login"))
