"""The login throttle holds under concurrent attempts: each attempt is recorded before its password is checked.

The concurrent tests need real commits on separate connections, which the rolled-back test transaction cannot
give, so they run the app on a throw-away PostgreSQL database of their own (``tests.backend.live``).
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from neurotriage.audit.models import AuditEvent
from neurotriage.auth.models import LoginAttempt
from neurotriage.config import Settings, get_settings
from sqlalchemy import func, select

from tests.backend.conftest import PASSWORD, ApiClient
from tests.backend.live import LiveApi, live, live_api, run_together  # noqa: F401  (fixtures)


def _login(app: FastAPI, username: str, password: str) -> int:
    return TestClient(app).post("/api/auth/login", json={"username": username, "password": password}).status_code


def test_concurrent_wrong_passwords_check_at_most_the_account_limit(live: LiveApi) -> None:
    live.add_user("victim", ["clinician"])
    limit = get_settings().login_failures_per_account
    codes = run_together(12, lambda index: _login(live.app, "victim", f"wrong guess {index}"))
    # 401 means the password was really checked; every other attempt was refused before the check.
    assert set(codes) <= {401, 429} and codes.count(401) <= limit
    with live.sessions() as session:
        failed = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "login.failed"))
        throttled = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "login.throttled")
        )
    assert (failed, throttled) == (codes.count(401), codes.count(429))
    # Attempts refused together may leave checks unused (they saw each other's rows); later ones may use them,
    # one at a time, up to the limit. Then the account is locked for the window, even for its owner.
    later = [_login(live.app, "victim", "another guess") for _ in range(limit - codes.count(401))]
    assert later == [401] * len(later)
    assert _login(live.app, "victim", PASSWORD) == 429


def test_concurrent_guesses_from_one_address_check_at_most_the_address_limit(live: LiveApi) -> None:
    live.app.dependency_overrides[get_settings] = lambda: Settings(login_failures_per_address=3)
    codes = run_together(8, lambda index: _login(live.app, f"ghost{index}", "wrong guess!"))
    assert set(codes) <= {401, 429} and codes.count(401) <= 3
    later = [_login(live.app, f"phantom{index}", "wrong guess!") for index in range(3 - codes.count(401))]
    assert later == [401] * len(later)
    assert _login(live.app, "phantom-last", "wrong guess!") == 429


def test_refused_attempts_do_not_extend_the_lockout(anon: ApiClient, users, db) -> None:  # type: ignore[no-untyped-def]
    for _ in range(5):
        assert anon.post("/api/auth/login", json={"username": "coord", "password": "wrong guess!"}).status_code == 401
    for _ in range(3):
        assert anon.post("/api/auth/login", json={"username": "coord", "password": PASSWORD}).status_code == 429
    # Only the five checked passwords are kept; the refusals would otherwise keep the account locked for ever.
    assert db.scalar(select(func.count()).select_from(LoginAttempt)) == 5
    for attempt in db.scalars(select(LoginAttempt)):
        attempt.at -= timedelta(minutes=16)
    db.commit()
    assert anon.post("/api/auth/login", json={"username": "coord", "password": PASSWORD}).status_code == 200


def test_successful_logins_do_not_count_towards_the_limit(anon: ApiClient, users, db) -> None:  # type: ignore[no-untyped-def]
    for _ in range(7):
        assert anon.post("/api/auth/login", json={"username": "clin", "password": PASSWORD}).status_code == 200
    assert db.scalar(select(func.count()).select_from(LoginAttempt)) == 0


def test_attempts_store_no_typed_text(anon: ApiClient, users, db) -> None:  # type: ignore[no-untyped-def]
    anon.post("/api/auth/login", json={"username": "MySecretPassw0rd!", "password": "clin"})
    attempt = db.scalars(select(LoginAttempt)).one()
    # A keyed hash of the name: the same name always counts together, and the text cannot be read back.
    assert "MySecretPassw0rd" not in attempt.account_key and len(attempt.account_key) == 64
