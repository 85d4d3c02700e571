"""Every API route, every role: who is let in, who gets 401 and who gets 403."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from neurotriage.main import API_ROUTERS

from tests.backend.conftest import ApiClient

PUBLIC = {("POST", "/api/auth/login"), ("GET", "/api/health")}
ALL = {"clinician", "coordinator", "admin"}
READERS = {"clinician", "coordinator"}

# Which roles may use each route. A new route must be added here, or test_every_route_is_listed fails.
CLINICIAN = {"clinician"}
COORDINATOR = {"coordinator"}
ADMIN = {"admin"}
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("POST", "/api/auth/logout"): ALL,
    ("GET", "/api/me"): ALL,
    ("GET", "/api/models"): ALL,
    ("GET", "/api/queue"): ALL,
    ("GET", "/api/storage"): ADMIN,
    ("POST", "/api/me/password"): ALL,
    ("GET", "/api/me/tokens"): ALL,
    ("POST", "/api/me/tokens"): ALL,
    ("DELETE", "/api/me/tokens/{token_id}"): ALL,
    ("GET", "/api/users"): ADMIN,
    ("POST", "/api/users"): ADMIN,
    ("PATCH", "/api/users/{user_id}"): ADMIN,
    ("POST", "/api/users/{user_id}/password"): ADMIN,
    ("GET", "/api/users/{user_id}/tokens"): ADMIN,
    ("DELETE", "/api/users/{user_id}/tokens/{token_id}"): ADMIN,
    ("POST", "/api/cases"): READERS,
    ("GET", "/api/cases"): READERS,
    ("GET", "/api/cases/{case_id}"): READERS,
    ("DELETE", "/api/cases/{case_id}"): COORDINATOR,
    ("GET", "/api/cases/{case_id}/files/{kind}"): READERS,
    ("GET", "/api/cases/{case_id}/runs"): READERS,
    ("POST", "/api/cases/{case_id}/runs"): READERS,
    ("POST", "/api/jobs/{job_id}/cancel"): READERS,
    ("PUT", "/api/flags/{flag_id}/verdict"): CLINICIAN,
    ("PUT", "/api/cases/{case_id}/verdict"): CLINICIAN,
    ("POST", "/api/cases/{case_id}/claim"): CLINICIAN,
    ("DELETE", "/api/cases/{case_id}/claim"): CLINICIAN,
    ("POST", "/api/cases/{case_id}/findings"): CLINICIAN,
    ("DELETE", "/api/findings/{finding_id}"): CLINICIAN,
    ("POST", "/api/cases/{case_id}/review-time"): CLINICIAN,
    ("GET", "/api/audit"): {"coordinator", "admin"},
    ("GET", "/api/stats"): COORDINATOR,
    ("GET", "/api/export.csv"): COORDINATOR,
    ("GET", "/api/export.json"): COORDINATOR,
    # The API's description, served behind sign-in and left out of itself.
    ("GET", "/api/openapi.json"): ALL,
    ("GET", "/api/docs"): ALL,
    ("GET", "/api/docs/start.js"): ALL,
    ("GET", "/api/docs/{name}"): ALL,
}
HIDDEN = {("GET", path) for path in ("/api/openapi.json", "/api/docs", "/api/docs/start.js", "/api/docs/{name}")}


def _api_routes() -> set[tuple[str, str]]:
    """Every route of the routers the app mounts under /api, those left out of the OpenAPI document included."""
    return {
        (method, "/api" + route.path)
        for router in API_ROUTERS for route in router.routes if isinstance(route, APIRoute)
        for method in route.methods
    }


def _concrete(path: str) -> str:
    return re.sub(r"\{kind\}", "scan", re.sub(r"\{\w+_id\}", "424242", path))


def test_every_route_is_listed() -> None:
    assert _api_routes() == set(ALLOWED) | PUBLIC


def test_the_api_description_lists_every_route_but_its_own(app) -> None:  # type: ignore[no-untyped-def]
    documented = {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}
    assert documented == _api_routes() - HIDDEN


@pytest.mark.parametrize(("method", "path"), sorted(ALLOWED))
def test_unauthenticated_requests_get_401(anon: ApiClient, method: str, path: str) -> None:
    response = anon.request(method, _concrete(path))
    assert response.status_code == 401, response.text


@pytest.mark.parametrize("role", sorted(ALL))
@pytest.mark.parametrize(("method", "path"), sorted(ALLOWED))
def test_role_matrix(request, role: str, method: str, path: str) -> None:  # type: ignore[no-untyped-def]
    client: ApiClient = request.getfixturevalue(role)
    # Bodies are deliberately incomplete: an allowed role gets past the role check to a 404 or 422.
    response = client.request(method, _concrete(path), json={"verdict": "accept"} if method == "PUT" else None)
    if role in ALLOWED[(method, path)]:
        assert response.status_code not in (401, 403), f"{role} refused on {method} {path}: {response.text}"
    else:
        assert response.status_code == 403, f"{role} let in on {method} {path}: {response.status_code}"


def test_health_needs_no_login(anon: ApiClient) -> None:
    assert anon.get("/api/health").json() == {"status": "ok", "database": "ok"}


def test_unknown_api_path_is_json_404(anon: ApiClient) -> None:
    response = anon.get("/api/nope")
    assert response.status_code == 404 and "detail" in response.json()


@pytest.mark.parametrize("path", ["/api/openapi.json", "/api/docs", "/api/docs/start.js", "/api/docs/swagger-ui.css"])
def test_the_api_description_is_for_signed_in_users_only(anon: ApiClient, admin: ApiClient, path: str) -> None:
    assert anon.get(path).status_code == 401
    assert admin.get(path).status_code == 200
    # FastAPI's unauthenticated default is not served (the app's page or a 404 instead).
    assert '"paths"' not in anon.get("/openapi.json").text


def test_the_signed_in_description_is_the_documented_one(clinician: ApiClient, app) -> None:  # type: ignore[no-untyped-def]
    assert clinician.get("/api/openapi.json").json() == app.openapi()
