from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

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
