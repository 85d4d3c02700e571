"""The browser is told to run only the app's own script, never to frame it, not to guess content types and not to
send the page's address elsewhere: by the API (and the app as `neurotriage serve` serves it) and by the compose
stack's nginx, with one policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from neurotriage.config import get_settings
from neurotriage.core.cross_site import REFUSAL
from neurotriage.core.security_headers import CONTENT_SECURITY_POLICY, OTHER_HEADERS
from neurotriage.main import create_app

from tests.backend.conftest import ApiClient
from tests.backend.helpers import upload_case

REPO = Path(__file__).resolve().parents[2]


def _assert_protected(headers, policy: str = CONTENT_SECURITY_POLICY) -> None:  # type: ignore[no-untyped-def]
    assert headers["content-security-policy"] == policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    for name, value in OTHER_HEADERS.items():
        assert headers[name] == value, name


def test_api_answers_carry_the_security_headers(anon: ApiClient, clinician: ApiClient) -> None:
    _assert_protected(anon.get("/api/health").headers)
    _assert_protected(anon.get("/api/cases").headers)  # a refusal too (401)
    _assert_protected(clinician.get("/api/cases").headers)


def test_no_api_answer_is_kept_in_the_browsers_cache(anon: ApiClient, clinician: ApiClient, tmp_path: Path) -> None:
    """Case labels, DICOM facts and verdicts must not stay on a shared workstation's disk."""
    assert clinician.get("/api/cases").headers["cache-control"] == "no-store"
    assert anon.get("/api/cases").headers["cache-control"] == "no-store"
    case_id = upload_case(clinician, tmp_path)
    assert clinician.get(f"/api/cases/{case_id}").headers["cache-control"] == "no-store"
    # a download keeps its own (equally strict) rule; the app's page is revalidated, not forbidden
    assert clinician.get(f"/api/cases/{case_id}/files/scan").headers["cache-control"] == "private, no-store"
    assert "no-store" not in anon.get("/login").headers.get("cache-control", "")


@pytest.mark.parametrize("secure", [False, True])
def test_https_is_demanded_exactly_where_cookies_are_secure(secure: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("neurotriage.main.get_settings",
                        lambda: get_settings().model_copy(update={"cookie_secure": secure}))
    answer = TestClient(create_app()).get("/api/no-such-route")
    assert answer.status_code == 404
    assert ("strict-transport-security" in answer.headers) is secure


def test_another_sites_page_cannot_make_the_browser_call_the_api(clinician: ApiClient, tmp_path: Path) -> None:
    """A link elsewhere to a case or the export would otherwise be answered, and audited, in the reader's name."""
    case_id = upload_case(clinician, tmp_path)
    for path in (f"/api/cases/{case_id}", f"/api/cases/{case_id}/files/scan", "/api/me"):
        refused = clinician.get(path, headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
        assert refused.status_code == 403 and refused.json()["detail"] == REFUSAL, path
        _assert_protected(refused.headers)
    assert clinician.post(f"/api/cases/{case_id}/claim", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    # the app's own requests, a typed address or bookmark, and scripts (no such header) are answered
    for site in ("same-origin", "none", None):
        headers = {"Sec-Fetch-Site": site} if site else {}
        assert clinician.get(f"/api/cases/{case_id}", headers=headers).status_code == 200, site
    # the app's pages themselves may be linked from anywhere (an e-mail, the hospital's portal)
    assert clinician.get(f"/cases/{case_id}", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200


def test_the_app_page_carries_them_and_allows_no_script_from_elsewhere(anon: ApiClient) -> None:
    page = anon.get("/login")
    _assert_protected(page.headers)
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY and "unsafe" not in CONTENT_SECURITY_POLICY


def test_the_api_docs_run_under_the_same_policy_from_this_server_alone(clinician: ApiClient) -> None:
    """Swagger UI's files are served here (a hospital network may reach no CDN), so the page needs no exception."""
    docs = clinician.get("/api/docs")
    assert docs.status_code == 200
    _assert_protected(docs.headers)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", docs.text, re.S)
    assert scripts and all(body.strip() == "" and 'src="/api/docs/' in attributes for attributes, body in scripts)
    assert "http" not in docs.text
    for name, kind in [("swagger-ui-bundle.js", "javascript"), ("swagger-ui.css", "css"), ("start.js", "javascript")]:
        asset = clinician.get(f"/api/docs/{name}")
        assert asset.status_code == 200 and kind in asset.headers["content-type"] and len(asset.content) > 200, name
        _assert_protected(asset.headers)
    assert b"SwaggerUIBundle" in clinician.get("/api/docs/swagger-ui-bundle.js").content


def test_nginx_sends_the_same_policy_for_the_files_it_serves() -> None:
    conf = (REPO / "docker" / "nginx.conf").read_text()
    sent = dict(re.findall(r'add_header\s+([\w-]+)\s+"([^"]*)"\s+always;', conf))
    assert sent == {"Content-Security-Policy": CONTENT_SECURITY_POLICY, **OTHER_HEADERS}
