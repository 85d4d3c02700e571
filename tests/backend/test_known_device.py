"""A browser where an account signed in before keeps signing in while others' wrong guesses lock the account.

And: sign-in ignores capitals in the name, so "CLIN" is a guess at clin's account, on the same limit.
"""

from __future__ import annotations

from neurotriage.auth.known_device import DEVICE_COOKIE, MAX_ACCOUNTS
from neurotriage.config import Settings, get_settings

from tests.backend.conftest import PASSWORD, ApiClient


def _lock_out(app, username: str, attempts: int = 5) -> None:  # type: ignore[no-untyped-def]
    """Wrong passwords from a browser that never signed in, until the account's shared limit is reached."""
    stranger = ApiClient(app)
    for _ in range(attempts):
        assert stranger.post("/api/auth/login", json={"username": username, "password": "wrong guess!"}).status_code == 401
    assert stranger.post("/api/auth/login", json={"username": username, "password": PASSWORD}).status_code == 429


def _login(client: ApiClient, username: str, password: str = PASSWORD) -> int:
    return client.post("/api/auth/login", json={"username": username, "password": password}).status_code


def test_the_owners_browser_signs_in_while_strangers_are_locked_out(app, users) -> None:  # type: ignore[no-untyped-def]
    owners = ApiClient(app)
    assert _login(owners, "clin") == 200
    cookie = owners.cookies[DEVICE_COOKIE]
    assert "clin" not in cookie  # the cookie names no one
    _lock_out(app, "clin")
    assert _login(owners, "clin") == 200
    assert _login(ApiClient(app), "clin") == 429  # a browser without the proof is still held


def test_a_proof_is_for_its_own_account_only(app, users) -> None:  # type: ignore[no-untyped-def]
    browser = ApiClient(app)
    assert _login(browser, "clin") == 200
    _lock_out(app, "coord")
    assert _login(browser, "coord") == 429


def test_a_forged_or_altered_cookie_counts_as_a_stranger(app, users) -> None:  # type: ignore[no-untyped-def]
    genuine = ApiClient(app)
    assert _login(genuine, "clin") == 200
    value = genuine.cookies[DEVICE_COOKIE]
    _lock_out(app, "clin")
    for forged in (value[:-1] + ("0" if value[-1] != "0" else "1"), "A" * 48, "not a cookie", ""):
        browser = ApiClient(app)
        browser.cookies.set(DEVICE_COOKIE, forged)
        assert _login(browser, "clin") == 429, forged


def test_a_known_browser_has_a_limit_of_its_own(app, users) -> None:  # type: ignore[no-untyped-def]
    limit = get_settings().login_failures_per_account
    browser = ApiClient(app)
    assert _login(browser, "clin") == 200
    for _ in range(limit):
        assert _login(browser, "clin", "wrong guess!") == 401
    assert _login(browser, "clin") == 429
    # ...and its failures did not lock the account for everyone else
    assert _login(ApiClient(app), "clin") == 200


def test_a_known_browser_is_not_held_by_its_addresss_limit(app, users) -> None:  # type: ignore[no-untyped-def]
    # A hospital's workstations often share one address: a guesser behind it must not lock every reader out.
    app.dependency_overrides[get_settings] = lambda: Settings(login_failures_per_address=3)
    browser = ApiClient(app)
    assert _login(browser, "clin") == 200
    guesser = ApiClient(app)
    for index in range(3):
        assert _login(guesser, f"ghost{index}", "wrong guess!") == 401
    assert _login(ApiClient(app), "coord") == 429
    assert _login(browser, "clin") == 200


def test_a_shared_workstation_keeps_a_proof_per_account_up_to_a_bound(app, users) -> None:  # type: ignore[no-untyped-def]
    workstation = ApiClient(app)
    assert _login(workstation, "clin") == 200
    assert _login(workstation, "coord") == 200
    assert len(workstation.cookies[DEVICE_COOKIE].split(".")) == 2
    _lock_out(app, "clin")
    _lock_out(app, "coord")
    assert (_login(workstation, "clin"), _login(workstation, "coord")) == (200, 200)
    # signing in again keeps one proof per account, whose id stays the same
    assert len(workstation.cookies[DEVICE_COOKIE].split(".")) == 2
    padded = ".".join([workstation.cookies[DEVICE_COOKIE]] + ["B" * 16 + "0" * 32] * (MAX_ACCOUNTS + 3))
    workstation.cookies.set(DEVICE_COOKIE, padded, domain="testserver.local", path="/api")
    assert _login(workstation, "adm") == 200
    assert len(workstation.cookies[DEVICE_COOKIE].split(".")) == MAX_ACCOUNTS
    # the newest accounts' proofs are the ones kept: clin and coord still sign in there while locked out elsewhere
    assert (_login(workstation, "clin"), _login(workstation, "coord")) == (200, 200)


def test_sign_in_ignores_capitals_and_counts_them_as_the_same_account(app, users) -> None:  # type: ignore[no-untyped-def]
    browser = ApiClient(app)
    assert _login(browser, "CLIN") == 200
    assert browser.get("/api/me").json()["username"] == "clin"
    stranger = ApiClient(app)
    for name in ("Clin", "cLin", "clIn", "cliN", "CLIN"):
        assert _login(stranger, name, "wrong guess!") == 401
    assert _login(stranger, "clin") == 429


def test_a_known_browsers_failures_do_not_count_against_its_address(app, users) -> None:  # type: ignore[no-untyped-def]
    app.dependency_overrides[get_settings] = lambda: Settings(login_failures_per_address=3)
    browser = ApiClient(app)
    assert _login(browser, "clin") == 200
    for _ in range(3):
        assert _login(browser, "clin", "wrong guess!") == 401  # its own bucket (5), not the address's (3)
    assert _login(ApiClient(app), "coord") == 200  # a colleague behind the same address is not held


def test_a_password_reset_voids_the_proofs_made_before_it(app, users, admin: ApiClient) -> None:  # type: ignore[no-untyped-def]
    """Whoever signed in with the old password (perhaps a phished one) keeps no bucket of guesses of their own."""
    old_browser = ApiClient(app)
    assert _login(old_browser, "clin") == 200
    reset = admin.post(f"/api/users/{users['clinician']}/password", json={"new_password": "a fresh long secret"})
    assert reset.status_code == 200
    _lock_out(app, "clin")
    assert _login(old_browser, "clin", "a fresh long secret") == 429
