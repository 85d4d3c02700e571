from __future__ import annotations

from datetime import timedelta

from neurotriage.audit.models import AuditEvent
from neurotriage.auth.known_device import DEVICE_COOKIE
from neurotriage.auth.models import BrowserSession
from sqlalchemy import select

from tests.backend.conftest import PASSWORD, ApiClient


def test_login_sets_httponly_session_and_readable_csrf_cookie(anon: ApiClient, users) -> None:
    response = anon.post("/api/auth/login", json={"username": "clin", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json() == {"id": users["clinician"], "username": "clin", "roles": ["clinician"],
                               "password_change_required": False}
    set_cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in set_cookies if c.startswith("nt_session="))
    csrf_cookie = next(c for c in set_cookies if c.startswith("csrftoken="))
    assert "HttpOnly" in session_cookie and "samesite=lax" in session_cookie.lower()
    assert "HttpOnly" not in csrf_cookie
    assert anon.get("/api/me").json()["username"] == "clin"


def test_wrong_password_is_refused_and_audited(anon: ApiClient, users, db) -> None:
    response = anon.post("/api/auth/login", json={"username": "clin", "password": "wrong password!"})
    assert response.status_code == 401
    assert response.json()["detail"] == "Wrong username or password."
    failed = db.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed")).all()
    assert [event.detail["username_attempted"] for event in failed] == ["clin"]
    assert "wrong password" not in str(failed[0].detail)


def test_disabled_user_cannot_log_in(anon: ApiClient, users, db) -> None:
    from neurotriage.users.models import User

    db.get(User, users["clinician"]).disabled = True
    db.commit()
    assert anon.post("/api/auth/login", json={"username": "clin", "password": PASSWORD}).status_code == 403  # refused, saying why (test_users_admin)


def test_mutating_request_without_csrf_header_is_forbidden(clinician: ApiClient) -> None:
    del clinician.headers["X-CSRF-Token"]
    response = clinician.put("/api/flags/1/verdict", json={"verdict": "accept"})
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_logout_ends_the_session(clinician: ApiClient) -> None:
    assert clinician.post("/api/auth/logout").status_code == 204
    clinician.cookies.clear()
    assert clinician.get("/api/me").status_code == 401


def test_logged_out_token_cannot_be_replayed(app, users) -> None:
    client = ApiClient(app)
    client.login("clin")
    token = client.cookies["nt_session"]
    client.post("/api/auth/logout")
    replay = ApiClient(app, cookies={"nt_session": token})
    refused = replay.get("/api/me")
    assert refused.status_code == 401 and refused.json()["reason"] == "ended"
    assert refused.json()["detail"].startswith("Your session was ended: you signed out")


def test_idle_session_expires(clinician: ApiClient, db) -> None:
    record = db.scalars(select(BrowserSession)).one()
    record.last_seen_at = record.last_seen_at - timedelta(hours=5)
    db.commit()
    response = clinician.get("/api/me")
    assert response.status_code == 401
    assert response.json() == {"reason": "idle", "detail": "Your session ended after 60 minutes without activity. "
                                "Please sign in again."}


def test_session_cookies_last_only_as_long_as_the_browser(anon: ApiClient, users) -> None:
    # No Max-Age or Expires: on a shared workstation, closing the browser signs the user out.
    response = anon.post("/api/auth/login", json={"username": "clin", "password": PASSWORD})
    session_cookies = [c for c in response.headers.get_list("set-cookie") if not c.startswith(f"{DEVICE_COOKIE}=")]
    assert len(session_cookies) == 2
    for cookie in session_cookies:
        assert "max-age" not in cookie.lower() and "expires" not in cookie.lower(), cookie
    # The known-device cookie outlives the browser (that is its point), but grants nothing by itself.
    (device,) = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{DEVICE_COOKIE}=")]
    assert "httponly" in device.lower() and "path=/api" in device.lower()


def test_a_session_ends_after_its_lifetime_however_busy(clinician: ApiClient, db) -> None:
    from neurotriage.config import get_settings

    record = db.scalars(select(BrowserSession)).one()
    record.created_at = record.created_at - timedelta(hours=get_settings().session_max_hours, minutes=1)
    db.commit()  # last_seen_at stays recent: the idle limit alone would let it live
    response = clinician.get("/api/me")
    assert response.status_code == 401
    assert response.json()["reason"] == "lifetime"
    assert response.json()["detail"] == (f"Your session reached its limit of {get_settings().session_max_hours} hours. "
                                         "Please sign in again.")
    assert db.scalars(select(BrowserSession)).one().ended_at is not None


def test_a_disabled_accounts_session_says_so(clinician: ApiClient, admin: ApiClient, users) -> None:
    assert admin.patch(f"/api/users/{users['clinician']}", json={"disabled": True}).status_code == 200
    response = clinician.get("/api/me")
    assert response.status_code == 401
    assert response.json() == {"reason": "disabled", "detail": "Your account is disabled. Ask an administrator."}


def test_a_password_typed_as_the_username_stays_out_of_the_audit_trail(anon: ApiClient, users, db) -> None:
    for _ in range(6):  # five checked and failed, then refused by the throttle
        anon.post("/api/auth/login", json={"username": "MySecretPassw0rd!", "password": "clin"})
    events = db.scalars(select(AuditEvent).where(AuditEvent.action.startswith("login."))).all()
    assert [event.action for event in events] == ["login.failed"] * 5 + ["login.throttled"]
    assert all(event.detail == {"username_attempted": "unknown user"} for event in events)
    assert "MySecretPassw0rd" not in str([(event.detail, event.client_ip) for event in events])


def test_a_password_hashed_with_older_parameters_is_rehashed_at_sign_in(anon: ApiClient, db) -> None:
    """Raising argon2's cost protects old accounts too, from their next sign-in on."""
    from neurotriage.users.service import create_user, password_hasher
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    user = create_user(db, "old-hash", PASSWORD, ["clinician"])
    user.password_hash = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8 * 1024),)).hash(PASSWORD)
    old = user.password_hash
    db.commit()
    assert password_hasher.verify_and_update(PASSWORD, old)[1] is not None  # today's parameters differ
    assert anon.post("/api/auth/login", json={"username": "old-hash", "password": PASSWORD}).status_code == 200
    db.refresh(user)
    assert user.password_hash != old and password_hasher.verify_and_update(PASSWORD, user.password_hash) == (True, None)
