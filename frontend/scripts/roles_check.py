"""Role pages in Debian's Chromium: coordinator audit + CSV + statistics, admin users, refusals.

    .venv/bin/python frontend/scripts/roles_check.py --base http://127.0.0.1:8000 \
        --coordinator coord:PW --admin adm:PW --clinician clin:PW --shots /tmp/shots
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright


def login(page: Page, base: str, cred: str) -> None:
    user, pw = cred.split(":", 1)
    page.goto(base + "/login")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(pw)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def logout(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:8000")
    ap.add_argument("--coordinator", required=True)
    ap.add_argument("--admin", required=True)
    ap.add_argument("--clinician", required=True)
    ap.add_argument("--shots", default="/tmp/nt-shots")
    a = ap.parse_args()
    shots = Path(a.shots)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)

        login(page, a.base, a.coordinator)
        nav = page.get_by_role("navigation", name="Main")
        print("coordinator nav:", nav.get_by_role("link").all_inner_texts())
        nav.get_by_role("link", name="Audit").click()
        expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
        page.get_by_label("Action").fill("flag.")
        page.get_by_role("button", name="Apply filters").click()
        rows = page.locator("tr[data-audit-id]")
        expect(rows.first).to_be_visible()
        print("flag.* events:", rows.count(), rows.first.inner_text().replace("\t", " | "))
        with page.expect_download() as dl:
            page.get_by_role("button", name="Download audit CSV").click()
        path = shots / "audit.csv"
        dl.value.save_as(path)
        print("audit CSV:", path.read_text().splitlines()[:2])
        with page.expect_download() as dl2:
            page.get_by_role("link", name="Export cases CSV").click()
        dl2.value.save_as(shots / "cases.csv")
        print("cases CSV:", (shots / "cases.csv").read_text().splitlines()[:2])
        page.screenshot(path=str(shots / "audit.png"))
        nav.get_by_role("link", name="Statistics").click()
        expect(page.get_by_role("heading", name="Statistics")).to_be_visible()
        page.wait_for_timeout(500)
        page.screenshot(path=str(shots / "stats.png"))
        page.goto(a.base + "/admin/users")
        expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        print("coordinator on /admin/users: Not allowed")
        logout(page)

        login(page, a.base, a.admin)
        expect(page.get_by_role("heading", name="Users")).to_be_visible()
        print("admin landed on", page.url)
        name = f"temp{int(time.time()) % 100000}"
        page.get_by_label("New username").fill(name)
        page.get_by_label("Initial password").fill("Temp-password-123")
        page.get_by_role("button", name="Create user").click()
        expect(page.get_by_role("status")).to_have_text(f"User {name} created.")
        page.get_by_role("button", name=f"Disable {name}").click()
        expect(page.get_by_role("status")).to_have_text(f"{name} disabled.")
        print("created and disabled", name)
        page.screenshot(path=str(shots / "users.png"))
        logout(page)
        page.get_by_label("Username").fill(name)
        page.get_by_label("Password").fill("Temp-password-123")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_be_visible()
        print("disabled user sign-in ->", page.get_by_role("alert").inner_text())

        login(page, a.base, a.clinician)
        page.goto(a.base + "/admin/users")
        expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        print("clinician on /admin/users:", page.get_by_role("alert").inner_text())
        page.goto(a.base + "/stats")
        expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        print("clinician on /stats: Not allowed")
        browser.close()


if __name__ == "__main__":
    main()
