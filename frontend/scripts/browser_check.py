"""Click through the app in Debian's Chromium (headless) the way the e2e test does.

Usage (repo root venv has playwright):
    .venv/bin/python frontend/scripts/browser_check.py --base http://127.0.0.1:8010 \
        --user clin --password clinpass --scan /path/to/scan.nii.gz --shots /tmp/shots

Not a test suite: a developer's smoke check that prints each step and saves screenshots.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from playwright.sync_api import expect, sync_playwright


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:8010")
    ap.add_argument("--user", default="clin")
    ap.add_argument("--password", default="clinpass")
    ap.add_argument("--scan")
    ap.add_argument("--label", default=f"browser check {int(time.time())}")
    ap.add_argument("--shots", default="/tmp/nt-shots")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--no-worker", action="store_true", help="no worker runs: only check the queued case page")
    ap.add_argument("--open-early", action="store_true", help="open the case page while the job runs")
    ap.add_argument("--case", type=int, help="review this existing case instead of uploading")
    ap.add_argument("--skip-wrong-password", action="store_true", help="the server rate-limits failed sign-ins")
    a = ap.parse_args()
    shots = Path(a.shots)
    shots.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        logs: list[str] = []
        page.on("console", lambda m: logs.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: logs.append(f"pageerror: {e}"))

        page.goto(a.base + "/")
        expect(page).to_have_url(re.compile(r"/login"))
        page.get_by_label("Username").fill(a.user)
        if not a.skip_wrong_password:
            page.get_by_label("Password").fill("wrong-password")
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("alert")).to_be_visible()
            print("wrong password ->", page.get_by_role("alert").inner_text())
        page.get_by_label("Password").fill(a.password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Worklist")).to_be_visible()
        print("signed in; header user:", page.get_by_test_id("user-name").inner_text())

        if a.case:
            case_id = str(a.case)
            page.goto(f"{a.base}/cases/{case_id}")
            a.label = page.get_by_role("heading", level=1).inner_text()
        else:
            case_id = upload_and_wait(page, a, shots)
        if case_id:
            review(page, a, shots, case_id)
        browser.close()


def upload_and_wait(page, a, shots) -> str | None:
    if True:
        # a wrong file type first: the server's message must show
        bad = shots / "not-a-scan.txt"
        bad.write_text("hello")
        page.get_by_label("Scan file").set_input_files(str(bad))
        page.get_by_role("button", name="Upload").click()
        expect(page.get_by_role("alert")).to_be_visible()
        print("bad upload ->", page.get_by_role("alert").inner_text())

        page.get_by_label("Scan file").set_input_files(a.scan)
        page.get_by_label("Case label").fill(a.label)
        page.get_by_role("button", name="Upload").click()
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name=a.label))
        expect(row).to_be_visible()
        case_id = row.get_attribute("data-case-id")
        print("uploaded case", case_id)
        if a.no_worker:
            print("  status:", row.get_by_role("cell").nth(2).inner_text().strip())
            row.get_by_role("link", name=a.label).click()
            expect(page.get_by_role("heading", name=a.label, level=1)).to_be_visible()
            page.wait_for_function("window.__niivue && window.__niivue.volumes.length === 1", timeout=30_000)
            print("queued case page: scan drawn, ready =", page.locator("[data-viewer-ready]").get_attribute("data-viewer-ready"))
            page.screenshot(path=str(shots / "case-queued.png"))
            return None
        if a.open_early:
            row.get_by_role("link", name=a.label).click()
            bar = page.get_by_role("progressbar")
            expect(bar).to_be_visible(timeout=20_000)
            print("case page shows progress:", bar.get_attribute("aria-valuenow"), "%")
            page.screenshot(path=str(shots / "case-running.png"))
            page.go_back()
        seen = set()
        deadline = time.time() + a.timeout
        while time.time() < deadline:
            status = row.get_by_role("cell").nth(2).inner_text().strip()
            if status not in seen:
                print("  status:", status)
                seen.add(status)
                if status.startswith("running"):
                    page.screenshot(path=str(shots / "worklist-running.png"))
            if status in ("succeeded", "failed"):
                break
            time.sleep(0.5)
        page.screenshot(path=str(shots / "worklist.png"))
        row.get_by_role("link", name=a.label).click()
        return case_id


def review(page, a, shots, case_id: str) -> None:
    logs: list[str] = []
    page.on("console", lambda m: logs.append(f"{m.type}: {m.text}"))
    if True:
        expect(page.get_by_role("heading", name=a.label, level=1)).to_be_visible()
        viewer = page.locator("[data-viewer-ready]")
        expect(viewer).to_have_attribute("data-viewer-ready", "true", timeout=30_000)
        n = page.evaluate("window.__niivue.volumes.length")
        print("viewer ready; volumes:", n, page.evaluate("window.__niivue.volumes.map(v => v.name)"))
        expect(page.get_by_label("Image viewer")).to_be_visible()
        flags = page.get_by_role("list", name="Flags").get_by_role("listitem")
        print("flags:", flags.count())
        if flags.count():
            before = page.evaluate("Array.from(window.__niivue.scene.crosshairPos)")
            page.get_by_text("Flag 1", exact=True).click()
            after = page.evaluate("Array.from(window.__niivue.scene.crosshairPos)")
            mm = page.evaluate("Array.from(window.__niivue.frac2mm(window.__niivue.scene.crosshairPos)).slice(0,3)")
            print("crosshair frac", before, "->", after, "mm", [round(x, 1) for x in mm])
            page.get_by_role("button", name="Reject flag 1").click()
            expect(page.get_by_role("status").filter(has_text="Verdict saved")).to_be_visible()
            expect(flags.first).to_contain_text("Rejected")
            print("flag 1 rejected (click)")
            if flags.count() > 1:
                page.keyboard.press("n")
                page.keyboard.press("a")
                expect(flags.nth(1)).to_contain_text("Accepted")
                print("flag 2 accepted (keyboard n, a)")
        if page.get_by_role("radiogroup", name="Case verdict").count():
            page.get_by_role("radio", name="Abnormal").check()
            page.get_by_label("Case comment").fill("checked by browser_check")
            page.get_by_role("button", name="Save case verdict").click()
            expect(page.get_by_role("status").filter(has_text="Case verdict saved")).to_be_visible()
            print("case verdict saved")
        if page.get_by_role("button", name="Mark finding at crosshair").count():
            box = page.get_by_label("Image viewer").bounding_box()
            page.mouse.click(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.3)
            page.keyboard.press("m")
            expect(page.get_by_role("button", name="Go to finding 1")).to_be_visible()
            print("missed finding marked (click + m)")
        op = page.evaluate("window.__niivue.volumes[1].opacity")
        page.keyboard.press("o")
        print("overlay opacity", op, "-> after O", page.evaluate("window.__niivue.volumes[1].opacity"))
        page.keyboard.press("o")
        if True:
            data = page.evaluate(
                "async (id) => (await fetch('/api/cases/' + id, {credentials: 'same-origin'})).json()", case_id
            )
            print("API verdicts:", json.dumps([(f["label"], (f["verdict"] or {}).get("verdict")) for f in data["flags"]]),
                  "case:", (data.get("case_verdict") or {}).get("verdict"), "claimed_by:", data.get("claimed_by"),
                  "findings:", len(data.get("findings") or []))
        page.screenshot(path=str(shots / "case.png"))
        page.keyboard.press("?")
        expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
        page.screenshot(path=str(shots / "help.png"))
        page.keyboard.press("Escape")
        page.get_by_role("link", name="Back to worklist").click()
        expect(page.get_by_role("heading", name="Worklist")).to_be_visible()
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile(r"/login"))
        print("signed out")

        # session expiry path: a deep link while signed out returns there after login
        page.goto(f"{a.base}/cases/{case_id}")
        expect(page).to_have_url(re.compile(r"/login\?next="))
        page.get_by_label("Username").fill(a.user)
        page.get_by_label("Password").fill(a.password)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(rf"/cases/{case_id}$"))
        print("deep link returned after login:", page.url)
        errors = [l for l in logs if l.startswith(("error", "pageerror"))]
        print("console errors:", errors or "none")


if __name__ == "__main__":
    main()
