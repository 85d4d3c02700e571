"""The service always keeps an enabled admin, even when two admins demote or disable each other at the same moment.

The concurrent tests run on a throw-away database of their own (``live_api``), where requests really commit on
separate connections; the rolled-back test transaction cannot show a race.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neurotriage.core.errors import Unprocessable
from neurotriage.users.models import User
from neurotriage.users.service import create_user, update_user
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.backend.conftest import PASSWORD
from tests.backend.test_login_throttle import LiveApi, live_api, run_together  # noqa: F401 (live_api: a fixture)


@pytest.fixture
def live(live_api: LiveApi) -> LiveApi:  # noqa: F811
    """``live_api`` with every earlier test's users disabled, so each test's admins are the only enabled ones."""
    with live_api.sessions() as session:
        session.execute(update(User).values(disabled=True))
        session.commit()
    return live_api


def _enabled_admins(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return sorted(u.username for u in session.scalars(select(User)) if "admin" in u.roles and not u.disabled)


def _signed_in(live: LiveApi, username: str) -> TestClient:
    client = TestClient(live.app)
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.cookies["csrftoken"]
    return client


@pytest.mark.parametrize(
    ("first", "second"),
    [({"disabled": True}, {"disabled": True}), ({"roles": ["clinician"]}, {"disabled": True})],
    ids=["both-disable", "demote-and-disable"],
)
def test_two_admins_removing_each_other_at_once_leave_one(live: LiveApi, first: dict, second: dict) -> None:
    tag = "d" if "disabled" in first else "r"
    one, two = live.add_user(f"{tag}admin1", ["admin"]), live.add_user(f"{tag}admin2", ["admin"])
    clients = [(_signed_in(live, f"{tag}admin1"), two, first), (_signed_in(live, f"{tag}admin2"), one, second)]
    answers: list[Any] = [None, None]

    def act(index: int) -> int:
        client, target, body = clients[index]
        answers[index] = client.patch(f"/api/users/{target}", json=body)
        return answers[index].status_code

    codes = run_together(2, act)
    # One wins. The other is refused by the last-admin rule when both got past sign-in checks together (the
    # usual case), or, when the winner committed first, as no longer signed in (401) or no longer admin (403).
    assert codes.count(200) == 1
    refused = next(answer for answer in answers if answer.status_code != 200)
    assert refused.status_code in {401, 403, 422}
    if refused.status_code == 422:
        assert "would leave no enabled admin" in refused.json()["detail"]
    assert len(_enabled_admins(live.sessions)) == 1


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_a_removal_that_waits_for_another_sees_it(database: str, request: pytest.FixtureRequest) -> None:
    """The first change holds its transaction open; the second, started meanwhile, must wait for it and then be
    refused, rather than act on what it read before the first committed."""
    if database == "postgresql":
        sessions = request.getfixturevalue("live").sessions
    else:
        sessions = request.getfixturevalue("sqlite_sessions")
    with sessions() as session:
        one = create_user(session, f"{database}-one", PASSWORD, ["admin"])
        two = create_user(session, f"{database}-two", PASSWORD, ["admin"])
        session.commit()
    first_holds_its_locks = threading.Event()
    outcome: dict[str, Any] = {}

    def first() -> None:
        with sessions() as session:
            update_user(session, session.get(User, one.id), two.id, disabled=True)
            first_holds_its_locks.set()
            threading.Event().wait(0.5)  # the second starts, and must wait for this commit
            session.commit()

    def second() -> None:
        first_holds_its_locks.wait()
        with sessions() as session:
            try:
                update_user(session, session.get(User, two.id), one.id, disabled=True)
                session.commit()
                outcome["second"] = "done"
            except Unprocessable as exc:
                outcome["second"] = exc.message

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert "would leave no enabled admin" in outcome["second"]
    assert _enabled_admins(sessions) == [f"{database}-one"]
