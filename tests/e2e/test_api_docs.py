"""The API's documentation page in a real browser: it must work on a hospital network that reaches no other
site, under the app's own Content-Security-Policy (the page fixture fails on anything the policy blocks)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.stack import Stack

pytestmark = pytest.mark.stack


def test_a_signed_in_user_reads_and_tries_the_api_docs_with_nothing_fetched_from_elsewhere(
    page: Page, stack: Stack
) -> None:
    elsewhere: list[str] = []
    page.on("request", lambda request: None if request.url.startswith(stack.base_url) or
            request.url.startswith(("data:", "blob:")) else elsewhere.append(request.url))
    sign_in(page, stack, "clin")
    page.goto(stack.base_url + "/api/docs")
    expect(page.get_by_role("heading", name=re.compile("^NeuroTriage"))).to_be_visible()
    # Every route is listed, e.g. the worklist's; open "who am I" and try it with the session's cookie.
    expect(page.locator(".opblock-summary-path", has_text=re.compile(r"^/api/cases$")).first).to_be_visible()
    me = page.locator(".opblock").filter(has=page.locator(".opblock-summary-path", has_text=re.compile(r"^/api/me$")))
    me.locator(".opblock-summary").first.click()
    me.get_by_role("button", name="Try it out").click()
    me.get_by_role("button", name="Execute").click()
    response = me.locator(".live-responses-table .response").first
    expect(response.locator(".response-col_status")).to_have_text("200")
    expect(response).to_contain_text('"username": "clin"')
    assert not elsewhere, elsewhere
