"""A clinician's whole path in a real browser against the real server, worker, database and broker."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ARTIFACTS
from tests.stack import PASSWORD, Stack, running_stack
from tests.synth import synth_scan

pytestmark = pytest.mark.stack

# The shipped fast model on a CPU: allow for a slow, shared CI machine.
JOB_TIMEOUT_MS = 10 * 60 * 1000


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(
        tmp_path_factory.mktemp("e2e-stack"), profile="fast", broker_db=12, users={"clin": "clinician"}
    ) as live:
        yield live


def _sign_in(page: Page, stack: Stack, username: str) -> None:
    page.goto(stack.base_url + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible()


def test_clinician_uploads_reviews_and_the_verdict_is_stored(browser: Browser, stack: Stack, tmp_path: Path) -> None:
    scan = synth_scan(tmp_path, "lesion", seed=11)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        _sign_in(page, stack, "clin")

        page.get_by_label("Scan file").set_input_files(str(scan))
        page.get_by_label("Case label").fill("e2e lesion")
        page.get_by_role("button", name="Upload").click()
        row = page.get_by_role("row").filter(has_text="e2e lesion")
        expect(row).to_be_visible()
        expect(row).to_contain_text(re.compile("succeeded|failed"), timeout=JOB_TIMEOUT_MS)
        expect(row).to_contain_text("succeeded")

        row.get_by_role("link", name="e2e lesion").click()
        expect(page.get_by_role("heading", name="e2e lesion")).to_be_visible()
        expect(page.locator('[data-viewer-ready="true"]')).to_be_visible(timeout=30_000)
        assert page.evaluate("window.__niivue.volumes.length") == 2
        page.screenshot(path=str(ARTIFACTS / "e2e-case-review.png"))

        flags = page.get_by_role("list").filter(has=page.get_by_role("button", name="Reject flag 1"))
        expect(flags.get_by_role("listitem").first).to_be_visible()
        page.get_by_role("button", name="Reject flag 1").click()
        expect(page.get_by_role("status")).to_contain_text("Verdict saved")
        expect(flags.get_by_role("listitem").first).to_contain_text("Rejected")
    finally:
        page.close()

    with stack.client("clin") as client:
        cases = client.get("/api/cases").json()["items"]
        case = next(item for item in cases if item["label"] == "e2e lesion")
        detail = client.get(f"/api/cases/{case['id']}").json()
    first = next(flag for flag in detail["flags"] if flag["label"] == 1)
    assert first["verdict"]["verdict"] == "reject"
    assert first["verdict"]["reviewer"] == "clin"
