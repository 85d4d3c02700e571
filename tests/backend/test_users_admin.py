from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from neurotriage.audit.models import AuditEvent
from neurotriage.auth.known_device import DEVICE_COOKIE
from neurotriage.auth.models import ApiToken, LoginAttempt
from neurotriage.core.errors import Unprocessable
from neurotriage.db import utcnow
from neurotriage.users.service import create_user
from sqlalchemy import select, update

from tests.backend.conftest import PASSWORD, ApiClient
from tests.backend.helpers import upload_case


def test_admin_creates_user_who_can_sign_in(admin: ApiClient, app) -> None:  # type: ignore[no-untyped-def]
    response = admin.post("/api/users", json={"username": "newdoc", "password": "a long password", "roles": ["clinician"]})
    assert response.status_code == 201, response.text
    assert response.json()["roles"] == ["clinician"] and response.json()["disabled"] is False
    newdoc = ApiClient(app)
    newdoc.login("newdoc", "a long password")
    assert newdoc.get("/api/me").json()["roles"] == ["clinician"]


def test_names_that_differ_only_in_capitals_and_guessable_passwords_are_refused(admin: ApiClient, db) -> None:  # type: ignore[no-untyped-def]
    twin = admin.post("/api/users", json={"username": "CLIN", "password": "a long password", "roles": ["admin"]})
    assert twin.status_code == 409 and "'clin' already exists" in twin.json()["detail"]
    assert "capital letters" in twin.json()["detail"]
    for password, why in (("password123", "first ones guessed"), ("aaaaaaaaaaaa", "first ones guessed"),
                          ("NewDoc-2026-secret", "must not contain the username")):
        weak = admin.post("/api/users", json={"username": "newdoc", "password": password, "roles": ["clinician"]})
        assert weak.status_code == 422 and why in weak.json()["detail"], password
    spaced = admin.post("/api/users", json={"username": "new doc", "password": "a long password", "roles": ["clinician"]})
    assert spaced.status_code == 422
    assert spaced.json()["detail"][0]["msg"] == "use only unaccented letters, digits and . _ @ - (no spaces)"
    # the command line's accounts too: SQLite folds only unaccented capitals, and sign-in ignores capitals
    with pytest.raises(Unprocessable, match="unaccented letters"):
        create_user(db, "Åsa", "a long password", ["clinician"])


def test_duplicate_username_and_short_password_are_refused(admin: ApiClient) -> None:
    assert admin.post("/api/users", json={"username": "clin", "password": "a long password", "roles": ["admin"]}).status_code == 409
    short = admin.post("/api/users", json={"username": "x", "password": "short", "roles": ["admin"]})
    assert short.status_code == 422 and "at least 10" in short.json()["detail"]


def test_role_change_is_audited_with_before_and_after(admin: ApiClient, users, db) -> None:
    response = admin.patch(f"/api/users/{users['coordinator']}", json={"roles": ["coordinator", "clinician"]})
    assert response.json()["roles"] == ["clinician", "coordinator"]
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "user.roles_changed")).one()
    assert event.detail == {"user_id": users["coordinator"], "before": ["coordinator"], "after": ["clinician", "coordinator"]}


def test_disabling_a_user_ends_their_sessions_and_blocks_login(admin: ApiClient, clinician: ApiClient, users, app) -> None:  # type: ignore[no-untyped-def]
    assert admin.patch(f"/api/users/{users['clinician']}", json={"disabled": True}).json()["disabled"] is True
    assert clinician.get("/api/me").status_code == 401
    again = ApiClient(app)
    assert again.post("/api/auth/login", json={"username": "clin", "password": PASSWORD}).status_code == 403
    assert admin.get("/api/users").status_code == 200  # the user is still listed: disabled, not deleted
    assert any(u["username"] == "clin" and u["disabled"] for u in admin.get("/api/users").json())


def test_admin_cannot_lock_themselves_out(admin: ApiClient, users) -> None:
    assert admin.patch(f"/api/users/{users['admin']}", json={"disabled": True}).status_code == 422
    assert admin.patch(f"/api/users/{users['admin']}", json={"roles": ["clinician"]}).status_code == 422


def test_password_reset_ends_sessions_and_sets_the_new_password(admin: ApiClient, clinician: ApiClient, users, app) -> None:  # type: ignore[no-untyped-def]
    assert admin.post(f"/api/users/{users['clinician']}/password", json={"new_password": "brand new secret"}).status_code == 200
    assert clinician.get("/api/me").status_code == 401
    fresh = ApiClient(app)
    fresh.login("clin", "brand new secret")


def test_own_password_change_needs_the_current_one_and_ends_sessions(clinician: ApiClient, app) -> None:  # type: ignore[no-untyped-def]
    wrong = clinician.post("/api/me/password", json={"current_password": "nope", "new_password": "another long one"})
    assert wrong.status_code == 422
    other_device = ApiClient(app)
    other_device.login("clin")
    ok = clinician.post("/api/me/password", json={"current_password": PASSWORD, "new_password": "another long one"})
    assert ok.status_code == 200 and ok.json() == {"tokens_revoked": 0}  # the page says nothing of tokens
    assert other_device.get("/api/me").status_code == 401


def test_guessing_the_current_password_is_limited_like_signing_in(clinician: ApiClient, anon: ApiClient, users, db) -> None:  # type: ignore[no-untyped-def]
    """A stolen session or API token must not become a way to guess the account's password without limit."""
    change = {"current_password": "wrong guess!", "new_password": "another long one"}
    for _ in range(5):
        assert clinician.post("/api/me/password", json=change).status_code == 422
    blocked = clinician.post("/api/me/password", json={**change, "current_password": PASSWORD})
    assert blocked.status_code == 429 and "password checks" in blocked.json()["detail"]
    assert 880 < int(blocked.headers["Retry-After"]) <= 900
    # The password did not change, and sign-in from the same browser shares the limit (its known-device bucket).
    assert clinician.post("/api/auth/login", json={"username": "clin", "password": PASSWORD}).status_code == 429
    # Without the browser's known-device proof the guesses count on the account's shared bucket.
    clinician.cookies.delete(DEVICE_COOKIE)
    for _ in range(5):
        assert clinician.post("/api/me/password", json=change).status_code == 422
    assert anon.post("/api/auth/login", json={"username": "clin", "password": PASSWORD}).status_code == 429
    actions = db.scalars(
        select(AuditEvent.action).where(AuditEvent.actor_id == users["clinician"], AuditEvent.action.like("user.password%"))
    ).all()
    assert actions == (["user.password_change_failed"] * 5 + ["user.password_change_throttled"]
                       + ["user.password_change_failed"] * 5)


def test_a_right_current_password_does_not_count_towards_the_limit(clinician: ApiClient) -> None:
    wrong = {"current_password": "wrong guess!", "new_password": "a fine new password"}
    # the account's shared limit throughout (a known browser's bucket would start afresh with the new password)
    clinician.cookies.delete(DEVICE_COOKIE)
    for _ in range(4):
        assert clinician.post("/api/me/password", json=wrong).status_code == 422
    short = clinician.post("/api/me/password", json={"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 422 and "at least 10" in short.json()["detail"]
    changed = clinician.post("/api/me/password", json={"current_password": PASSWORD, "new_password": "new password one"})
    assert changed.status_code == 200
    clinician.login("clin", "new password one")  # the change ended the session
    clinician.cookies.delete(DEVICE_COOKIE)
    # The fifth failure is still checked (422); had the right password counted, it would be the sixth (429).
    assert clinician.post("/api/me/password", json=wrong).status_code == 422
    assert clinician.post("/api/me/password", json=wrong).status_code == 429


def test_login_is_rate_limited_per_account(anon: ApiClient, users) -> None:
    for _ in range(5):
        assert anon.post("/api/auth/login", json={"username": "coord", "password": "wrong guess!"}).status_code == 401
    blocked = anon.post("/api/auth/login", json={"username": "coord", "password": PASSWORD})
    assert blocked.status_code == 429
    assert 880 < int(blocked.headers["Retry-After"]) <= 900  # the failures were just made: nearly the window
    assert blocked.json()["detail"] == "Too many failed sign-ins; try again in 15 minutes."
    # Another account from elsewhere is unaffected.
    assert anon.post("/api/auth/login", json={"username": "clin", "password": PASSWORD}).status_code == 200


def test_the_wait_named_is_until_the_oldest_failures_leave_the_window(  # type: ignore[no-untyped-def]
    anon: ApiClient, users, db
) -> None:
    """The window slides: failures made ten minutes ago hold the account for five more, not fifteen."""
    for _ in range(5):
        assert anon.post("/api/auth/login", json={"username": "coord", "password": "wrong guess!"}).status_code == 401
    db.execute(update(LoginAttempt).values(at=utcnow() - timedelta(minutes=10)))
    db.commit()
    blocked = anon.post("/api/auth/login", json={"username": "coord", "password": PASSWORD})
    assert blocked.status_code == 429
    assert 280 < int(blocked.headers["Retry-After"]) <= 300
    assert blocked.json()["detail"] == "Too many failed sign-ins; try again in 5 minutes."


def test_login_is_rate_limited_per_address(anon: ApiClient, users) -> None:
    for attempt in range(20):
        anon.post("/api/auth/login", json={"username": f"ghost{attempt}", "password": "wrong guess!"})
    assert anon.post("/api/auth/login", json={"username": "clin", "password": PASSWORD}).status_code == 429


def test_api_token_authenticates_without_csrf_and_can_be_revoked(clinician: ApiClient, app) -> None:  # type: ignore[no-untyped-def]
    created = clinician.post("/api/me/tokens", json={"name": "pacs bridge"})
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("ntk_") and created.json()["prefix"] == token[:12]
    machine = ApiClient(app, headers={"Authorization": f"Bearer {token}"})
    assert machine.get("/api/me").json()["username"] == "clin"
    # Bearer requests carry no cookie, so no CSRF token is needed for writes.
    assert machine.put("/api/flags/424242/verdict", json={"verdict": "accept"}).status_code == 404
    listed = clinician.get("/api/me/tokens").json()
    assert [t["name"] for t in listed] == ["pacs bridge"] and "token" not in listed[0]
    assert clinician.delete(f"/api/me/tokens/{created.json()['id']}").status_code == 204
    refused = machine.get("/api/me")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert refused.json()["detail"].startswith("The API token 'pacs bridge' was revoked on ")
    unknown = ApiClient(app, headers={"Authorization": "Bearer ntk_made-up"}).get("/api/me")
    assert unknown.status_code == 401 and unknown.json()["detail"] == "Unknown API token."


def test_two_working_api_tokens_never_share_a_name(clinician: ApiClient) -> None:
    """The list and a refusal name a token by its name: two that work must be told apart."""
    first = clinician.post("/api/me/tokens", json={"name": "Nightly export"}).json()
    twin = clinician.post("/api/me/tokens", json={"name": " nightly EXPORT "})
    assert twin.status_code == 422
    assert twin.json()["detail"] == ("You already have a working API token named 'nightly EXPORT'; choose another "
                                     "name, or revoke that one first.")
    assert [t["name"] for t in clinician.get("/api/me/tokens").json()] == ["Nightly export"]
    assert clinician.delete(f"/api/me/tokens/{first['id']}").status_code == 204
    # the old one is revoked: the name is free again
    assert clinician.post("/api/me/tokens", json={"name": "Nightly export"}).status_code == 201


def test_an_api_token_works_for_the_days_chosen_and_is_then_refused_in_words(
    clinician: ApiClient, app, db  # type: ignore[no-untyped-def]
) -> None:
    default = clinician.post("/api/me/tokens", json={"name": "nightly export"}).json()
    lifetime = datetime.fromisoformat(default["expires_at"]) - datetime.fromisoformat(default["created_at"])
    assert lifetime == timedelta(days=90)
    short = clinician.post("/api/me/tokens", json={"name": "one-off", "valid_days": 1}).json()
    assert datetime.fromisoformat(short["expires_at"]) - datetime.fromisoformat(short["created_at"]) == timedelta(days=1)
    for days in (0, 366, "forever"):
        assert clinician.post("/api/me/tokens", json={"name": "x", "valid_days": days}).status_code == 422, days
    assert db.scalar(select(AuditEvent.detail).where(AuditEvent.action == "token.created")
                     .order_by(AuditEvent.id.desc()).limit(1))["valid_days"] == 1

    machine = ApiClient(app, headers={"Authorization": f"Bearer {short['token']}"})
    assert machine.get("/api/me").status_code == 200
    token = db.get(ApiToken, short["id"])
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    refused = machine.get("/api/me")
    assert refused.status_code == 401
    assert "'one-off' expired on" in refused.json()["detail"] and "Account page" in refused.json()["detail"]
    # the other token still works
    assert ApiClient(app, headers={"Authorization": f"Bearer {default['token']}"}).get("/api/me").status_code == 200


def test_admin_lists_and_revokes_another_users_token(clinician: ApiClient, admin: ApiClient, users, app) -> None:  # type: ignore[no-untyped-def]
    created = clinician.post("/api/me/tokens", json={"name": "script"}).json()
    tokens = admin.get(f"/api/users/{users['clinician']}/tokens").json()
    assert [t["id"] for t in tokens] == [created["id"]]
    assert admin.delete(f"/api/users/{users['clinician']}/tokens/{created['id']}").status_code == 204
    machine = ApiClient(app, headers={"Authorization": f"Bearer {created['token']}"})
    assert machine.get("/api/me").status_code == 401
    assert clinician.delete(f"/api/me/tokens/{created['id'] + 1000}").status_code == 404


def _token_client(client: ApiClient, app) -> ApiClient:  # type: ignore[no-untyped-def]
    """A machine client with a fresh API token of the user signed in to ``client``."""
    token = client.post("/api/me/tokens", json={"name": "script"}).json()["token"]
    machine = ApiClient(app, headers={"Authorization": f"Bearer {token}"})
    assert machine.get("/api/me").status_code == 200
    return machine


def test_password_reset_revokes_the_users_api_tokens(admin: ApiClient, clinician: ApiClient, users, app, db) -> None:  # type: ignore[no-untyped-def]
    machine = _token_client(clinician, app)
    reset = admin.post(f"/api/users/{users['clinician']}/password", json={"new_password": "brand new secret"})
    assert reset.status_code == 200 and reset.json() == {"tokens_revoked": 1}
    assert machine.get("/api/me").status_code == 401
    assert all(t["revoked_at"] for t in admin.get(f"/api/users/{users['clinician']}/tokens").json())
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "user.password_reset")).one()
    assert event.detail == {"user_id": users["clinician"], "tokens_revoked": 1}


def test_own_password_change_revokes_own_api_tokens(clinician: ApiClient, app) -> None:  # type: ignore[no-untyped-def]
    machine = _token_client(clinician, app)
    ok = clinician.post("/api/me/password", json={"current_password": PASSWORD, "new_password": "another long one"})
    assert ok.status_code == 200 and ok.json() == {"tokens_revoked": 1}
    assert machine.get("/api/me").status_code == 401


def test_an_api_token_cannot_make_more_tokens(clinician: ApiClient, app) -> None:  # type: ignore[no-untyped-def]
    """A leaked token that could mint others would outlive its own revocation through them."""
    machine = _token_client(clinician, app)
    refused = machine.post("/api/me/tokens", json={"name": "offspring"})
    assert refused.status_code == 403 and "browser session" in refused.json()["detail"]
    assert [t["name"] for t in clinician.get("/api/me/tokens").json()] == ["script"]


def test_disabling_a_user_revokes_their_tokens_for_good(admin: ApiClient, clinician: ApiClient, users, app, db) -> None:  # type: ignore[no-untyped-def]
    machine = _token_client(clinician, app)
    assert admin.patch(f"/api/users/{users['clinician']}", json={"disabled": True}).status_code == 200
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "user.disabled")).one()
    assert event.detail == {"user_id": users["clinician"], "tokens_revoked": 1}
    # the script's log says why, and nothing its owner could do alone ("make a new one" is not open to them)
    disabled = machine.get("/api/me")
    assert disabled.status_code == 401 and disabled.json()["detail"] == (
        "The API token's account is disabled; ask an administrator.")
    assert admin.patch(f"/api/users/{users['clinician']}", json={"disabled": False}).status_code == 200
    # Enabled again, the owner signs in anew; a token made before the account was disabled stays dead.
    assert machine.get("/api/me").status_code == 401
    assert all(t["revoked_at"] for t in admin.get(f"/api/users/{users['clinician']}/tokens").json())


def test_a_disabled_user_with_the_right_password_is_told_the_account_is_disabled(
    admin: ApiClient, users, anon: ApiClient, db  # type: ignore[no-untyped-def]
) -> None:
    assert admin.patch(f"/api/users/{users['clinician']}", json={"disabled": True}).status_code == 200
    for _ in range(6):  # more than the failure limit: knowing the password is no failure, and is never locked out
        refused = anon.post("/api/auth/login", json={"username": "clin", "password": PASSWORD})
        assert refused.status_code == 403 and refused.json()["detail"] == "This account is disabled. Ask an administrator."
    assert "nt_session" not in refused.cookies
    # a wrong password tells nothing of the account
    wrong = anon.post("/api/auth/login", json={"username": "clin", "password": "not the password"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "Wrong username or password."
    assert db.scalar(select(AuditEvent.action).where(AuditEvent.actor_id == users["clinician"])
                     .order_by(AuditEvent.id.desc()).limit(1)) == "login.refused_disabled"


def test_admin_cannot_reset_their_own_password_without_the_current_one(admin: ApiClient, users, app) -> None:  # type: ignore[no-untyped-def]
    response = admin.post(f"/api/users/{users['admin']}/password", json={"new_password": "attacker chosen pw 1"})
    assert response.status_code == 422
    assert "/api/me/password" in response.json()["detail"] and "current password" in response.json()["detail"]
    assert admin.get("/api/me").status_code == 200  # nothing changed: the session lives, the old password works
    ApiClient(app).login("adm")


def test_the_last_enabled_admin_cannot_be_disabled_or_demoted(users, db) -> None:  # type: ignore[no-untyped-def]
    # Through the API an admin acting alone always leaves themselves; this is what a concurrent change or a
    # stale actor would meet (test_admin_safety.py races real requests).
    from neurotriage.core.errors import Unprocessable
    from neurotriage.users.models import User
    from neurotriage.users.service import update_user

    stale_actor = db.get(User, users["coordinator"])
    for change in ({"disabled": True}, {"roles": ["clinician"]}):
        with pytest.raises(Unprocessable, match="would leave no enabled admin; make another user an admin first"):
            update_user(db, stale_actor, users["admin"], **change)
    other = db.get(User, users["clinician"])
    other.roles = ["admin", "clinician"]
    db.commit()
    assert update_user(db, stale_actor, users["admin"], disabled=True).disabled is True


def test_taking_away_the_reading_role_releases_the_readers_claims(  # type: ignore[no-untyped-def]
    admin: ApiClient, coordinator: ApiClient, app, db, tmp_path
) -> None:
    """Without the role their own release is refused, and a colleague would be told the case is being read."""
    reader = create_user(db, "readcoord", PASSWORD, ["clinician", "coordinator"])
    db.commit()
    client = ApiClient(app)
    client.login("readcoord")
    case_id = upload_case(client, tmp_path, "claimed")
    assert client.post(f"/api/cases/{case_id}/claim").status_code == 200
    assert admin.patch(f"/api/users/{reader.id}", json={"roles": ["coordinator"]}).status_code == 200
    assert coordinator.get(f"/api/cases/{case_id}").json()["claimed_by"] is None
    released = db.scalars(select(AuditEvent).where(AuditEvent.action == "case.released")).one()
    assert released.detail == {"reason": "reading role removed", "user_id": reader.id}


def test_users_are_listed_as_people_read_names_whatever_their_capitals(admin: ApiClient, db) -> None:  # type: ignore[no-untyped-def]
    for name in ("Lock1", "mixed", "Beth"):
        create_user(db, name, "a long password", ["clinician"])
    db.commit()
    assert [u["username"] for u in admin.get("/api/users").json()] == ["adm", "Beth", "clin", "coord", "Lock1", "mixed"]
