"""Time to first view of a case: navigation start -> scan and anomaly overlay drawn.

The viewer sets performance.mark('nt:viewer-ready') once both volumes are loaded; its startTime is
milliseconds since the page's navigation started (a cold load of /cases/{id}, JS included).

    .venv/bin/python frontend/scripts/bench_first_view.py --base http://127.0.0.1:8000 \
        --user NAME --password PW --case 1 --runs 5

Issue 5 asks for <= 2 s on loopback for a 1 mm brain scan. A benchmark, not a timed test.
"""

from __future__ import annotations

import argparse
import statistics

from playwright.sync_api import sync_playwright


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:8000")
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--case", type=int, required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--budget-ms", type=float, default=2000)
    a = ap.parse_args()

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        ctx = browser.new_context(viewport={"width": 1400, "height": 900})
        page = ctx.new_page()
        page.goto(a.base + "/login")
        page.get_by_label("Username").fill(a.user)
        page.get_by_label("Password").fill(a.password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda u: "/login" not in u)
        sizes = page.evaluate(
            """async (id) => {
                const out = {};
                for (const k of ['scan', 'anomaly_map']) {
                  const r = await fetch(`/api/cases/${id}/files/${k}`);
                  out[k] = r.ok ? (await r.arrayBuffer()).byteLength : r.status;
                }
                return out;
            }""",
            a.case,
        )
        print("file sizes (bytes, gzipped):", sizes)
        times = []
        for i in range(a.runs):
            page.goto(f"{a.base}/cases/{a.case}")
            page.wait_for_selector('[data-viewer-ready="true"]', timeout=60_000)
            ms = page.evaluate("performance.getEntriesByName('nt:viewer-ready').at(-1).startTime")
            fetched = page.evaluate("performance.getEntriesByName('nt:files-fetched').at(-1)?.startTime ?? NaN")
            times.append(ms)
            print(f"run {i + 1}: {ms:.0f} ms (files fetched at {fetched:.0f} ms)")
        med = statistics.median(times)
        print(f"median {med:.0f} ms, best {min(times):.0f} ms, worst {max(times):.0f} ms "
              f"(budget {a.budget_ms:.0f} ms: {'OK' if med <= a.budget_ms else 'OVER'})")
        print("note: headless Chromium here renders WebGL in software (SwiftShader); a GPU browser is faster.")
        browser.close()


if __name__ == "__main__":
    main()
