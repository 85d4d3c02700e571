"""The browser is told to run only the app's own script, never to frame it, not to guess content types and not to
send the page's address elsewhere: by the API (and the app as `neurotriage serve` serves it) and by the compose
stack's nginx, with one policy."""

from __future__ import annotations

import re
from pathlib import Path

from neurotriage.core.security_headers import CONTENT_SECURITY_POLICY, OTHER_HEADERS

from tests.backend.conftest import ApiClient

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
