"""The review app in a real browser (Debian's Chromium) against the real server, worker, database and
broker: a clinician's whole path, a coordinator's audit and export, a case open in two tabs, a DICOM study
uploaded whole and one of its series chosen, an admin's user management, a refusal, the weaker regions the
FLAIR model leaves out of its flags, a T2 scan that gets the rescan checks alone (no T2 model ships) and is
then deleted by a coordinator, and a profile without weights (not offered, and refused by the worker when asked
all the same). One T1 scan is analysed by the shipped fast model and shared by the first tests, in order (the last one re-runs it); the
FLAIR scan is the weak-regions test's own."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import nibabel as nib
import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import create_engine, text

from tests.backend.dicom_factory import marked_volume, write_series
from tests.backend.volumes import brain_like
from tests.e2e.accessibility import assert_accessible
from tests.e2e.conftest import ARTIFACTS, sign_in
from tests.stack import Stack
from tests.synth import synth_scan, two_lesion_scan

pytestmark = pytest.mark.stack

SHIPPED_WEIGHTS = Path(__file__).resolve().parents[2] / "ml" / "itermask3d" / "weights"

# The fast model on a shared 2-core CPU: allow for a slow CI machine.
JOB_TIMEOUT_MS = 10 * 60 * 1000
LABEL = "e2e two lesions"
# A FLAIR tumour on which the shipped FLAIR model leaves one region of about 400 mm^3 out of its flags:
# its peak anomaly is 0.15 of the strongest flag's, under the model's min_peak_ratio of 0.25.
WEAK_REGION_SCAN = {"kind": "lesion", "seed": 5, "sequence": "flair"}
# Fraction of non-black pixels NiiVue draws for its current view (read back before the frame is shown).
DRAWN_FRACTION = """() => {
  const nv = window.__niivue, gl = nv.gl, w = gl.drawingBufferWidth, h = gl.drawingBufferHeight;
  nv.drawScene();
  const px = new Uint8Array(w * h * 4);
  gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, px);
  let lit = 0;
  for (let i = 0; i < px.length; i += 4) if (px[i] + px[i + 1] + px[i + 2] > 30) lit++;
  return lit / (w * h);
}"""


@pytest.fixture(scope="module")
def shared() -> dict:
    return {}


def crosshair_mm(page: Page) -> list[float]:
    return page.evaluate("Array.from(window.__niivue.frac2mm(window.__niivue.scene.crosshairPos)).slice(0, 3)")


def upload_and_wait(page: Page, scan: Path, label: str, sequence: str = "t1") -> Locator:
    """Upload ``scan`` from the worklist and wait for its job to end; the row of the case."""
    page.get_by_label("Scan file").set_input_files(str(scan))
    page.get_by_label("Case label").fill(label)
    page.get_by_label("Sequence").select_option(sequence)
    page.get_by_role("button", name="Upload").click()
    row = page.get_by_role("row").filter(has_text=label)
    expect(row).to_contain_text(re.compile(r"running \d+%"), timeout=JOB_TIMEOUT_MS)  # live progress
    expect(row).to_contain_text(re.compile("succeeded|failed"), timeout=JOB_TIMEOUT_MS)
    expect(row).to_contain_text("succeeded")
    return row


def test_clinician_uploads_reviews_by_keyboard_and_verdicts_are_stored(
    page: Page, stack: Stack, shared: dict, tmp_path: Path
) -> None:
    scan = two_lesion_scan(tmp_path, seed=5)
    sign_in(page, stack, "clin")
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible()

    row = upload_and_wait(page, scan, LABEL)
    shared["case_id"] = int(row.get_attribute("data-case-id") or 0)
    assert_accessible(page, "the worklist")

    row.get_by_role("link", name=LABEL).click()
    expect(page.get_by_role("heading", name=LABEL)).to_be_visible()
    expect(page.locator('[data-viewer-ready="true"]')).to_be_visible(timeout=60_000)
    assert_accessible(page, "the case page, for a clinician")
    names = page.evaluate("window.__niivue.volumes.map(v => v.name)")
    assert names[:2] == ["scan.nii.gz", "anomaly_map.nii.gz"]
    page.screenshot(path=str(ARTIFACTS / "e2e-case-review.png"))
    # The 2D first view skips NiiVue's gradient texture (frontend/patches); the 3D render builds it.
    assert page.evaluate("window.__niivue.gradientStale") is True
    page.get_by_role("button", name="3D render").click()
    expect(page.get_by_role("button", name="3D render")).to_have_attribute("aria-pressed", "true")
    page.wait_for_function("window.__niivue.opts.sliceType === 4 && window.__niivue.gradientStale === false")
    assert page.evaluate(DRAWN_FRACTION) > 0.05, "the 3D render drew nothing"
    page.screenshot(path=str(ARTIFACTS / "e2e-case-review-3d.png"))
    page.get_by_role("button", name="3D render").click()
    page.wait_for_function("window.__niivue.opts.sliceType !== 4")

    with stack.client("clin") as client:
        flags = client.get(f"/api/cases/{shared['case_id']}").json()["flags"]
    assert len(flags) >= 2, f"the model flagged {len(flags)} region(s) on a scan with two large lesions"

    # beside the flags, what the shipped model found on the benchmark (recorded in its weights' metadata)
    recorded = json.loads((SHIPPED_WEIGHTS / "fast_t1.json").read_text())["validation"]
    tested = page.get_by_role("region", name="What this model found in testing")
    expect(tested).to_contain_text(f"{recorded['cases']} synthetic T1 scans made by the engine's generator")
    tumour = next(r for r in recorded["lesions"] if r["kind"] == "tumour" and r["diameter_mm"] == 10.0)
    expect(tested.get_by_role("row", name=re.compile(r"Tumour, 1\.0 cm"))).to_contain_text(
        f"{tumour['found']} of {tumour['total']}")
    expect(tested.get_by_role("note")).to_have_count(0)  # the scan has flags: no "no flag" warning

    page.get_by_role("button", name="Go to flag 1", exact=True).click()
    # the anchor: where the flag's anomaly is strongest (a voxel of the flag), which the engine reports
    assert max(abs(a - b) for a, b in zip(crosshair_mm(page), flags[0]["anchor_mm"], strict=True)) < 3.0

    items = page.get_by_role("list", name="Flags").get_by_role("listitem")
    page.keyboard.press("a")
    expect(items.nth(0)).to_contain_text("Accepted")
    page.keyboard.press("n")
    page.keyboard.press("r")
    expect(items.nth(1)).to_contain_text("Rejected")
    expect(page.get_by_role("status").filter(has_text="Verdict saved")).to_be_visible()

    # "Normal" against a flag the reader accepted as a lesion is asked about before anything is saved
    page.get_by_role("radio", name="Normal", exact=True).check()
    page.get_by_role("button", name="Save case verdict").click()
    expect(page.get_by_test_id("case-verdict-normal-check")).to_contain_text("You accepted flag 1 as a lesion.")
    expect(page.get_by_role("button", name="Save Normal anyway")).to_be_visible()
    page.get_by_role("radio", name="Abnormal").check()
    page.get_by_label("Case comment").fill("two lesions")
    page.get_by_role("button", name="Save case verdict").click()
    expect(page.get_by_role("status").filter(has_text="Case verdict saved")).to_be_visible()

    with stack.client("clin") as client:
        detail = client.get(f"/api/cases/{shared['case_id']}").json()
    verdicts = {flag["label"]: flag["verdict"]["verdict"] if flag["verdict"] else None for flag in detail["flags"]}
    assert verdicts[1] == "accept" and verdicts[2] == "reject"
    assert detail["case_verdict"]["verdict"] == "abnormal"
    assert detail["case_verdict"]["comment"] == "two lesions"
    # the case is read: the page gave up the reader's claim, so the worklist does not show it held for 30 minutes
    deadline = time.monotonic() + 15
    while detail["claimed_by"] is not None and time.monotonic() < deadline:
        time.sleep(0.5)
        with stack.client("clin") as client:
            detail = client.get(f"/api/cases/{shared['case_id']}").json()
    assert detail["claimed_by"] is None


def test_coordinator_sees_the_verdicts_in_the_audit_trail_and_exports_csv(
    page: Page, stack: Stack, shared: dict
) -> None:
    if "case_id" not in shared:
        pytest.fail("needs the reviewed case of the clinician test")
    sign_in(page, stack, "coord")
    page.goto(stack.base_url + "/audit")
    page.get_by_label("Case ID").fill(str(shared["case_id"]))
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator('[data-action="case.verdict"]')).to_have_count(1)
    expect(page.locator('[data-action="flag.verdict"]')).to_have_count(2)
    assert_accessible(page, "the audit trail")

    with page.expect_download() as audit_download:
        page.get_by_role("button", name="Download audit CSV").click()
    audit_rows = list(csv.DictReader(io.StringIO(Path(audit_download.value.path()).read_text())))
    assert sum("flag.verdict" in row.values() for row in audit_rows) == 2

    with page.expect_download() as cases_download:
        page.get_by_role("link", name="Export cases CSV").click()
    cases = list(csv.DictReader(io.StringIO(Path(cases_download.value.path()).read_text())))
    row = next(row for row in cases if row["label"] == LABEL)
    assert row["flags_accepted"] == "1" and row["flags_rejected"] == "1"
    assert row["case_verdicts"] == "clin: abnormal"

    # auditing the case itself: the readers' verdicts, not "not reviewed"
    page.goto(f"{stack.base_url}/cases/{shared['case_id']}")
    expect(page.get_by_role("group", name="Other readers' case verdicts")).to_contain_text("clin: Abnormal")
    expect(page.get_by_role("group", name="Other readers' verdicts on flag 1")).to_contain_text("clin: Accepted")
    expect(page.get_by_test_id("flags-reviewed")).to_contain_text("reviewed by readers")
    assert_accessible(page, "the case page, for a coordinator")

    page.goto(stack.base_url + "/stats")
    expect(page.get_by_role("heading", name="Statistics")).to_be_visible()
    expect(page.get_by_text("Loading")).to_have_count(0)
    assert_accessible(page, "the statistics")


def _claim_holder(stack: Stack, case_id: int) -> str | None:
    with stack.client("clin") as client:
        return client.get(f"/api/cases/{case_id}").json()["claimed_by"]


def test_a_case_open_in_two_tabs_stays_claimed_until_the_last_one_leaves_it(
    browser: Browser, stack: Stack, shared: dict
) -> None:
    if "case_id" not in shared:
        pytest.fail("needs the case of the clinician test")
    case_url = f"{stack.base_url}/cases/{shared['case_id']}"
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        first = context.new_page()
        sign_in(first, stack, "clin")
        first.goto(case_url)
        # clin read this case in the first test: it opens unclaimed, so it keeps no second reader out ...
        expect(first.get_by_text("Not claimed")).to_be_visible()
        assert _claim_holder(stack, shared["case_id"]) is None
        # ... until clin claims it again (to revise, say), in both tabs
        first.get_by_role("button", name="Claim case").click()
        expect(first.get_by_text("Claimed by you")).to_be_visible()
        second = context.new_page()
        second.goto(case_url)
        second.get_by_role("button", name="Claim case").click()
        expect(second.get_by_text("Claimed by you")).to_be_visible()
        # The first tab loads another page: its case page is hidden (pagehide), as when the tab closes. (A
        # closed tab's renderer may be stopped before it sends; under load in CI that made a test on close flaky.)
        first.goto(stack.base_url + "/")
        expect(first.get_by_role("heading", name="Worklist")).to_be_visible()
        time.sleep(3)  # the release the first tab would send has long arrived by now
        assert _claim_holder(stack, shared["case_id"]) == "clin"
        # the last tab showing the case leaves it: the claim goes
        second.goto(stack.base_url + "/")
        deadline = time.monotonic() + 15
        while _claim_holder(stack, shared["case_id"]) is not None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _claim_holder(stack, shared["case_id"]) is None
    finally:
        context.close()


def test_a_study_uploaded_as_one_folder_asks_which_series_to_analyse(
    page: Page, stack: Stack, tmp_path: Path
) -> None:
    study = tmp_path / "study"
    write_series(study / "series4", marked_volume(), series_number=4)
    write_series(study / "series7", brain_like((40, 48, 24), seed=3), series_number=7)  # 24 slices, not 20
    label = "e2e chosen series"
    sign_in(page, stack, "clin")
    page.get_by_label("Scan folder").set_input_files(str(study))
    expect(page.get_by_test_id("upload-chosen")).to_contain_text("study (44 files)")  # one request: the whole study
    page.get_by_label("Case label").fill(label)
    page.get_by_label("Sequence").select_option("t1")
    page.get_by_role("button", name="Upload").click()
    chooser = page.get_by_role("group", name="This upload holds 2 series. Choose the one to analyse:")
    expect(chooser).to_contain_text("Series 4 · *tfl3d1 · 3D · axial · 20 images · 3 mm")
    chooser.get_by_role("radio", name=re.compile("Series 7")).check()
    chooser.get_by_role("button", name="Upload series 7").click()
    expect(page.get_by_role("status").filter(has_text="Uploaded; queued for analysis.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=label)
    case_id = int(row.get_attribute("data-case-id") or 0)
    with stack.client("clin") as client:
        detail = client.get(f"/api/cases/{case_id}").json()
        scan = client.get(f"/api/cases/{case_id}/files/scan").content
    assert detail["source_format"] == "dicom"
    assert 24 in nib.Nifti1Image.from_bytes(gzip.decompress(scan)).shape  # series 7, the one chosen

    # The study's other series, uploaded on its own, is the same patient's: each case page links the other.
    series4 = sorted((study / "series4").iterdir())
    handles = [path.open("rb") for path in series4]
    try:
        with stack.client("clin") as client:
            other = client.post("/api/cases", files=[("files", (p.name, h)) for p, h in zip(series4, handles)],
                                data={"label": "e2e other series", "sequence": "t1"})
    finally:
        for handle in handles:
            handle.close()
    assert other.status_code == 201, other.text
    page.goto(f"{stack.base_url}/cases/{case_id}")
    scan_panel = page.get_by_role("region", name="Scan")
    expect(scan_panel).to_contain_text("DICOM series")
    scan_panel.get_by_role("link", name="e2e other series").click()
    expect(page).to_have_url(re.compile(rf"/cases/{other.json()['id']}$"))
    expect(page.get_by_role("region", name="Scan").get_by_role("link", name=label)).to_be_visible()


def test_admin_creates_a_user_who_chooses_their_own_password_then_is_disabled_and_cannot_sign_in(
    page: Page, browser: Browser, stack: Stack
) -> None:
    page.goto(stack.base_url + "/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_accessible(page, "the sign-in page")
    sign_in(page, stack, "adm")
    page.goto(stack.base_url + "/account")
    expect(page.get_by_role("heading", name="Account")).to_be_visible()
    assert_accessible(page, "the account page")
    page.goto(stack.base_url + "/admin/users")
    page.get_by_label("New username").fill("locum")
    page.get_by_label("Initial password").fill("first day password 1")
    page.get_by_role("button", name="Create user").click()
    disable = page.get_by_role("button", name="Disable locum", exact=True)
    expect(disable).to_be_visible()

    expect(page.get_by_role("row", name=re.compile("^locum"))).to_contain_text("password to change")

    # The admin knows the password they set: the new user chooses their own before anything else.
    other = browser.new_context().new_page()
    sign_in(other, stack, "locum", "first day password 1")
    expect(other).to_have_url(re.compile(r"/account$"))
    expect(other.get_by_test_id("password-change-required")).to_be_visible()
    other.get_by_label("Current password").fill("first day password 1")
    other.get_by_label("New password", exact=True).fill("my own password 2")
    other.get_by_label("Confirm new password").fill("my own password 2")
    other.get_by_role("button", name="Change password").click()
    expect(other).to_have_url(re.compile(r"/login"))
    sign_in(other, stack, "locum", "my own password 2")
    expect(other.get_by_role("heading", name="Worklist")).to_be_visible()

    disable.click()  # asks first: it signs the user out everywhere
    page.get_by_role("button", name="Disable locum now").click()
    expect(page.get_by_role("button", name="Enable locum", exact=True)).to_be_visible()
    other.reload()
    expect(other.get_by_role("heading", name="Worklist")).not_to_be_visible()
    sign_in(other, stack, "locum", "my own password 2", expect_success=False)
    # the right password of a disabled account: told so, rather than sent to retry into the lockout
    expect(other.get_by_role("alert")).to_contain_text("This account is disabled. Ask an administrator.")
    other.context.close()
    # The admin also sees what the worker reported it can run: the shipped fast T1 and FLAIR models, no T2, no paper.
    models = page.get_by_role("table", name="Installed models")
    expect(models.get_by_role("row", name=re.compile("^fast"))).to_have_text(
        re.compile("fast\\s*installed\\s*not installed\\s*installed"))
    expect(models.get_by_role("row", name=re.compile("^paper"))).to_have_text(
        re.compile("paper\\s*not installed\\s*not installed\\s*not installed"))
    expect(page.get_by_test_id("checks-only-sequences")).to_contain_text("T2 scans get the rescan checks alone")
    # ... and the worker itself, running by its heartbeat (nobody is told that analysis is on hold)
    workers = page.get_by_role("table", name="Workers")
    expect(workers.get_by_role("row", name=re.compile("^celery@"))).to_contain_text("housekeeping, analysesrunning")
    expect(page.get_by_test_id("no-inference-worker")).to_have_count(0)
    expect(page.get_by_test_id("queue-notice")).to_have_count(0)
    # ... and the storage's disk
    expect(page.get_by_test_id("storage-space")).to_contain_text(re.compile(r"^[\d.]+ [MGT]B free of [\d.]+ [MGT]B\."))
    expect(page.get_by_test_id("retention")).to_contain_text("kept until a coordinator deletes them")
    assert_accessible(page, "the users page")


def test_clinician_opening_the_admin_page_is_refused(page: Page, stack: Stack) -> None:
    sign_in(page, stack, "clin")
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible()
    page.goto(stack.base_url + "/admin/users")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_role("alert")).to_be_visible()


def test_clinician_sees_the_weaker_regions_apart_from_the_flags_and_can_go_to_them(
    page: Page, stack: Stack, tmp_path: Path
) -> None:
    scan = synth_scan(tmp_path, WEAK_REGION_SCAN["kind"], WEAK_REGION_SCAN["seed"], WEAK_REGION_SCAN["sequence"],
                      "--lesion-type", "tumour")
    sign_in(page, stack, "clin")
    row = upload_and_wait(page, scan, "e2e weak region", sequence="flair")
    case_id = int(row.get_attribute("data-case-id") or 0)
    with stack.client("clin") as client:
        detail = client.get(f"/api/cases/{case_id}").json()
    weak, flags = detail["weak_regions"], detail["flags"]
    assert weak, "the FLAIR model left no weaker region on the scan chosen for having one"

    row.get_by_role("link", name="e2e weak region").click()
    expect(page.locator('[data-viewer-ready="true"]')).to_be_visible(timeout=60_000)
    panel = page.get_by_role("region", name="Weaker regions, not flagged")
    expect(panel.get_by_role("listitem")).to_have_count(len(weak))
    expect(panel).to_contain_text(f"peak {round(weak[0]['peak_ratio'] * 100)} %")
    # They are not findings: the flag list, which takes the verdicts, holds the flags alone.
    expect(page.get_by_role("list", name="Flags").get_by_role("listitem")).to_have_count(len(flags))
    panel.get_by_role("button", name="Go to weaker region 1").click()
    assert max(abs(a - b) for a, b in zip(crosshair_mm(page), weak[0]["centroid_mm"], strict=True)) < 3.0
    page.screenshot(path=str(ARTIFACTS / "e2e-weak-regions.png"))


def test_a_t2_scan_gets_the_rescan_checks_alone_and_is_never_shown_as_screened(
    page: Page, stack: Stack, tmp_path: Path, shared: dict
) -> None:
    # No T2 weights ship: the worker reported T2 as a sequence no profile reads, so T2 uploads get the checks alone.
    assert not (SHIPPED_WEIGHTS / "fast_t2.pt").exists()
    scan = synth_scan(tmp_path, "normal", 8, "t2")
    label = "e2e t2 checks"
    sign_in(page, stack, "clin")
    expect(page.get_by_role("option", name="T2 (rescan checks only)")).to_be_enabled()
    page.get_by_label("Scan file").set_input_files(str(scan))
    page.get_by_label("Case label").fill(label)
    page.get_by_label("Sequence").select_option("t2")
    expect(page.get_by_test_id("checks-only-note")).to_contain_text("not screened for lesions")
    page.get_by_role("button", name="Upload").click()
    row = page.get_by_role("row").filter(has_text=label)
    expect(row).to_contain_text(re.compile("succeeded|failed"), timeout=JOB_TIMEOUT_MS)
    expect(row).to_contain_text("succeeded")
    # a scan nobody screened goes to review, never routine, and says why
    expect(row.locator(".chip.triage-review")).to_be_visible()
    expect(row.locator(".chip-checks")).to_have_text("not screened")
    expect(row.get_by_role("cell").nth(4)).to_have_text("—")  # no flag count: no lesion search ran
    case_id = int(row.get_attribute("data-case-id") or 0)
    page.screenshot(path=str(ARTIFACTS / "e2e-checks-only-worklist.png"))

    row.get_by_role("link", name=label).click()
    expect(page.get_by_role("note", name="Not screened for lesions")).to_contain_text("No model reads T2 scans here")
    expect(page.locator('[data-viewer-ready="true"]')).to_be_visible(timeout=60_000)
    assert page.evaluate("window.__niivue.volumes.map(v => v.name)") == ["scan.nii.gz"]  # no maps to overlay
    expect(page.get_by_text("No flags: no lesion search ran on this scan (rescan checks only).")).to_be_visible()
    expect(page.get_by_role("list", name="Run history")).to_contain_text("rescan checks only")
    page.screenshot(path=str(ARTIFACTS / "e2e-checks-only.png"))
    with stack.client("clin") as client:
        detail = client.get(f"/api/cases/{case_id}").json()
    assert detail["screening"] == "checks" and detail["model"]["name"] == "itermask3d-rescan-checks"
    assert detail["triage"] == "review"
    assert detail["quality"] == [] and detail["flags"] == [] and detail["score"] is None
    shared["t2_case_id"] = case_id


def test_coordinator_deletes_a_case_with_a_reason_and_the_audit_trail_keeps_it(
    page: Page, stack: Stack, shared: dict
) -> None:
    if "t2_case_id" not in shared:
        pytest.fail("needs the case of the T2 test")
    case_id = shared["t2_case_id"]
    sign_in(page, stack, "coord")
    page.goto(f"{stack.base_url}/cases/{case_id}")
    page.get_by_role("button", name="Delete case…").click()
    page.get_by_label(re.compile("^Reason")).fill("Uploaded under the wrong study")
    assert_accessible(page, "the delete-case form")
    page.get_by_role("button", name=f"Delete case {case_id}").click()
    expect(page.get_by_role("status").filter(has_text="was deleted")).to_have_text(
        f"Case {case_id} (e2e t2 checks) was deleted.")
    expect(page.get_by_role("row").filter(has_text="e2e t2 checks")).to_have_count(0)
    assert not (Path(stack.env["NEUROTRIAGE_STORAGE_DIR"]) / "cases" / str(case_id)).exists()
    with stack.client("coord") as client:
        assert client.get(f"/api/cases/{case_id}").status_code == 404

    page.goto(stack.base_url + "/audit")
    page.get_by_label("Case ID").fill(str(case_id))
    page.get_by_role("button", name="Apply filters").click()
    deleted = page.locator('[data-action="case.deleted"]')
    expect(deleted).to_contain_text("Uploaded under the wrong study")
    expect(page.locator('[data-action="case.uploaded"]')).to_have_count(1)


def test_a_profile_without_weights_is_not_offered_and_the_worker_refuses_it_too(
    page: Page, stack: Stack, shared: dict
) -> None:
    # No paper-profile weights are shipped: a run with random weights would look like any other result.
    assert not (SHIPPED_WEIGHTS / "paper_t1.pt").exists()
    case_id = shared["case_id"]
    with stack.client("clin") as client:
        before = client.get(f"/api/cases/{case_id}").json()
    sign_in(page, stack, "clin")
    page.goto(f"{stack.base_url}/cases/{case_id}")
    # The worker reported what it can run when it started: the menu offers paper, but not for this T1 scan.
    expect(page.get_by_role("option", name="paper (no T1 model installed)")).to_be_disabled()
    expect(page.get_by_label("Model profile")).to_have_value("fast")

    # Without a report (say the database was restored from before it), paper is offered and the worker refuses.
    engine = create_engine(stack.env["NEUROTRIAGE_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM installed_models"))
    engine.dispose()
    page.reload()
    page.get_by_label("Model profile").select_option("paper")
    page.get_by_role("button", name="Re-run").click()
    # the reader's flag verdicts (given above) stay with the shown run: the re-run asks first
    own = sum(1 for flag in before["flags"] if flag["verdict"])
    others_read = before["other_verdicts_hidden"] and before["other_readers"] > 0
    if own or others_read or any(flag["other_verdicts"] for flag in before["flags"]):
        ask = page.get_by_role("group", name="Re-run a case that has verdicts?")
        expect(ask).to_contain_text("flags have verdicts")
        ask.get_by_role("button", name="Re-run anyway").click()
    failed = page.get_by_role("list", name="Run history").locator('li[data-status="failed"]')
    expect(failed).to_contain_text("No trained T1 model is installed for the 'paper' profile", timeout=60_000)
    with stack.client("clin") as client:
        after = client.get(f"/api/cases/{case_id}").json()
    assert after["status"] == "failed"
    assert after["result_run_id"] == before["result_run_id"]
    assert [flag["id"] for flag in after["flags"]] == [flag["id"] for flag in before["flags"]]
