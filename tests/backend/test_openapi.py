from __future__ import annotations

import json
from pathlib import Path

from neurotriage.openapi_export import openapi_document

REPO = Path(__file__).resolve().parents[2]


def test_frontend_client_is_generated_from_the_current_api() -> None:
    committed = json.loads((REPO / "frontend" / "openapi.json").read_text())
    assert committed == json.loads(json.dumps(openapi_document())), (
        "frontend/openapi.json is stale: run `make openapi` and commit the result"
    )


def test_every_protected_route_documents_its_auth_errors() -> None:
    public = {("post", "/api/auth/login"), ("get", "/api/health")}
    for path, item in openapi_document()["paths"].items():
        for method, operation in item.items():
            if (method, path) in public:
                continue
            assert "401" in operation["responses"], f"{method} {path} does not document 401"
            if method != "get":  # a cookie request without the CSRF header is refused
                assert "403" in operation["responses"], f"{method} {path} does not document 403"
