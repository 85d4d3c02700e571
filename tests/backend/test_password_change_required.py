"""A password an admin set (a new account, a reset) is known to that admin: until the user chooses their own, the
service does nothing for them but show their account, take the new password and sign them out."""

from __future__ import annotations

import pytest
from neurotriage.auth.deps import PASSWORD_CHANGE_FIRST
from neurotriage.users.models import User
from neurotriage.users.service import create_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.backend.conftest import PASSWORD, ApiClient
from tests.backend.test_roles import ALLOWED, _concrete

SET_BY_ADMIN = "set by the admin 1"
OWN = "chosen by myself 1"
# What a user whose password an admin set may still do.
STILL_ALLOWED = {("GET", "/api/me"), ("POST", "/api/me/password"), ("POST", "/api/auth/logout")}


def _created_by_admin(app, admin: ApiClient, name: str = "locum") -> ApiClient:  # type: ignore[no-untyped-def]
    roles = ["clinician", "coordinator", "admin"]
    response = admin.post("/api/users", json={"username": name, "password": SET_BY_ADMIN, "roles": roles})
    assert response.status_code == 201, response.text
    assert response.json()["password_change_required"] is True
    client = ApiClient(app)
    client.login(name, SET_BY_ADMIN)
    return client


def test_a_new_user_chooses_their_own_password_before_anything_else(app, admin: ApiClient) -> None:  # type: ignore[no-untyped-def]
    locum = _created_by_admin(app, admin)
    assert locum.get("/api/me").json()["password_change_required"] is True
    refused = locum.get("/api/cases")
    assert refused.status_code == 403 and refused.json()["detail"] == PASSWORD_CHANGE_FIRST
    assert locum.post("/api/me/tokens", json={"name": "script"}).status_code == 403

    same = locum.post("/api/me/password", json={"current_password": SET_BY_ADMIN, "new_password": SET_BY_ADMIN})
    assert same.status_code == 422 and "differ from the one an administrator set" in same.json()["detail"]
    changed = locum.post("/api/me/password", json={"current_password": SET_BY_ADMIN, "new_password": OWN})
    assert changed.status_code == 200

    again = ApiClient(app)
    again.login("locum", OWN)
    assert again.get("/api/me").json()["password_change_required"] is False
    assert again.get("/api/cases").status_code == 200
    listed = {user["username"]: user for user in admin.get("/api/users").json()}
    assert listed["locum"]["password_change_required"] is False


def test_a_reset_by_an_admin_asks_for_a_new_own_password_again(app, admin: ApiClient, db: Session) -> None:  # type: ignore[no-untyped-def]
    create_user(db, "reader", PASSWORD, ["clinician"])
    db.commit()
    reader = ApiClient(app)
    reader.login("reader")
    assert reader.get("/api/cases").status_code == 200
    user_id = db.scalars(select(User.id).where(User.username == "reader")).one()

    assert admin.post(f"/api/users/{user_id}/password", json={"new_password": SET_BY_ADMIN}).status_code == 200
    after_reset = ApiClient(app)
    after_reset.login("reader", SET_BY_ADMIN)
    assert after_reset.get("/api/me").json()["password_change_required"] is True
    assert after_reset.get("/api/cases").status_code == 403
    assert after_reset.post("/api/auth/logout").status_code == 204


def test_accounts_from_the_command_line_are_the_operators_own(db: Session) -> None:
    # `neurotriage user add` (the first admin) and `make demo`'s seed: the person typing the password is its user.
    user = create_user(db, "operator", PASSWORD, ["admin"])
    assert user.password_change_required is False


@pytest.mark.parametrize(("method", "path"), sorted(set(ALLOWED) - STILL_ALLOWED))
def test_every_other_route_refuses_until_then(app, admin: ApiClient, method: str, path: str) -> None:  # type: ignore[no-untyped-def]
    locum = _created_by_admin(app, admin)  # every role: only the pending password change can refuse it
    response = locum.request(method, _concrete(path), json={"verdict": "accept"} if method == "PUT" else None)
    assert response.status_code == 403, f"{method} {path}: {response.status_code}"
    assert response.json()["detail"] == PASSWORD_CHANGE_FIRST
