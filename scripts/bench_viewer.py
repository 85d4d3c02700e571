"""Benchmark: time to first view of a case (scan and anomaly overlay drawn) in Chromium, on loopback.

Starts a live stack (PostgreSQL, Redis, API, worker), uploads a 1 mm synthetic brain, waits for the
analysis, then opens the case page N times in a fresh browser context each (cold cache) and records the
time from navigation start until the scan, anomaly map and flag mask are drawn and their pixels are on the
canvas. Writes a report.

    .venv/bin/python scripts/bench_viewer.py --runs 10 --out frontend/BENCHMARK.md
    .venv/bin/python scripts/bench_viewer.py --runs 10 --gl llvmpipe --out frontend/BENCHMARK-llvmpipe.md

``--gl`` picks the software WebGL renderer, since these machines have no GPU: ``swiftshader`` is the
end-to-end tests' setting (``--disable-gpu``); ``llvmpipe`` is Mesa's multi-threaded software rasteriser
through ANGLE's EGL backend.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# In the page: when the viewer reports ready, read one pixel back from NiiVue's canvas. readPixels
# returns only after every queued WebGL command has run, so this marks when the first view is really
# drawn, not just when its draw calls were issued.
PIXELS_DONE = """
new MutationObserver((_, observer) => {
  if (!document.querySelector('[data-viewer-ready="true"]')) return;
  observer.disconnect();
  const gl = window.__niivue && window.__niivue.gl;
  if (gl) gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
  performance.mark('bench:pixels-done');
}).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-viewer-ready'] });
"""
sys.path.insert(0, str(REPO))

import nibabel as nib  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.stack import PASSWORD, running_stack, wait_for_job  # noqa: E402
from tests.synth import synth_scan  # noqa: E402

RENDERERS = {
    "swiftshader": (CHROMIUM_ARGS, "`--disable-gpu`: SwiftShader, as in the end-to-end tests"),
    "llvmpipe": (
        [arg for arg in CHROMIUM_ARGS if arg != "--disable-gpu"] + ["--use-angle=gl-egl", "--ignore-gpu-blocklist"],
        "`--use-angle=gl-egl`: Mesa llvmpipe through ANGLE",
    ),
}
RENDERER_QUERY = """() => {
  const gl = window.__niivue.gl, info = gl.getExtension('WEBGL_debug_renderer_info');
  return info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
}"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--out", type=Path, default=REPO / "frontend" / "BENCHMARK.md")
    parser.add_argument("--gl", choices=sorted(RENDERERS), default="swiftshader", help="software WebGL renderer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_stack(
        Path(tmp), profile="fast", broker_db=11, users={"bench": "clinician"}
    ) as stack:
        scan = synth_scan(Path(tmp), "lesion", seed=21)
        with stack.client("bench") as client, scan.open("rb") as handle:
            case = client.post("/api/cases", files=[("files", (scan.name, handle))], data={"label": "bench"}).json()
            done = wait_for_job(client, case["id"], stack)
            assert done["status"] == "succeeded", done["error"]
        size_mb = scan.stat().st_size / 1e6
        shape_text = "x".join(str(n) for n in nib.load(scan).shape)
        timings: list[float] = []
        marks: list[dict[str, float]] = []
        layers: list[int] = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=RENDERERS[args.gl][0])
            for _ in range(args.runs):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                context.add_init_script(PIXELS_DONE)
                page = context.new_page()
                page.goto(stack.base_url + "/login")
                page.get_by_label("Username").fill("bench")
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.get_by_role("heading", name="Worklist").wait_for()
                started = time.perf_counter()
                page.goto(f"{stack.base_url}/cases/{case['id']}")
                page.locator('[data-viewer-ready="true"]').wait_for(timeout=60_000)
                timings.append(time.perf_counter() - started)
                marks.append(page.evaluate(
                    "Object.fromEntries(performance.getEntriesByType('mark').map(m => [m.name, m.startTime / 1000]))"
                ))
                names = page.evaluate("window.__niivue.volumes.map(v => v.name)")
                assert names[:2] == ["scan.nii.gz", "anomaly_map.nii.gz"], names
                layers.append(len(names))
                renderer = page.evaluate(RENDERER_QUERY)
                context.close()
            browser.close()
    drawn = [m.get("bench:pixels-done", float("nan")) for m in marks]
    lines = [
        "# Viewer benchmark: first view of a case",
        "",
        f"Command: `.venv/bin/python scripts/bench_viewer.py --runs {args.runs} --gl {args.gl}`",
        f"Machine: {platform.processor() or platform.machine()}, {platform.system()}, {os.cpu_count()} CPUs, no GPU;",
        f"Chromium headless with software WebGL ({RENDERERS[args.gl][1]}); API on loopback.",
        f"WebGL renderer reported by the page: {renderer}.",
        f"Scan: synthetic 1 mm T1 ({shape_text} voxels), {size_mb:.1f} MB gzipped, plus its anomaly map and flag mask",
        f"(layers per run: {', '.join(map(str, layers))}; 3 = with the mask).",
        "Each run opens the case in a fresh browser context (nothing cached), from navigation start (the page's own clock):",
        "files fetched (`nt:files-fetched`); NIfTI parsed by NiiVue (`nt:volumes-decoded`); all layers handed to",
        "NiiVue and drawn (`nt:viewer-ready`); pixels on the canvas (`bench:pixels-done`: a one-pixel readback right",
        "after, which waits until every queued WebGL command has run). The driver column is the test driver's own view",
        "of the page, for reference. Run 1 is also the browser's first page: it compiles NiiVue's shaders and the app's",
        "scripts, which later cases reuse.",
        "",
        "| run | files fetched (s) | volumes decoded (s) | layers drawn (s) | pixels done (s) | seen by the driver (s) |",
        "| --- | --- | --- | --- | --- | --- |",
        *[
            f"| {i + 1} | {m.get('nt:files-fetched', float('nan')):.2f} | {m.get('nt:volumes-decoded', float('nan')):.2f}"
            f" | {m.get('nt:viewer-ready', float('nan')):.2f}"
            f" | {m.get('bench:pixels-done', float('nan')):.2f} | {t:.2f} |"
            for i, (t, m) in enumerate(zip(timings, marks, strict=True))
        ],
        "",
        f"First view (navigation start to pixels done): median {statistics.median(drawn):.2f} s, worst {max(drawn):.2f} s;",
        f"run 1 (fresh browser) {drawn[0]:.2f} s, median of the later runs {statistics.median(drawn[1:] or drawn):.2f} s;",
        "target 2 s.",
        "",
    ]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
