"""The app on a throw-away PostgreSQL database of its own, every request in a session that really commits.

Tests of concurrent requests need this: the rolled-back transaction of the other tests is one connection, so
its requests can never overlap or wait on each other's locks."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from neurotriage.auth.models import LoginAttempt
from neurotriage.config import get_settings
from neurotriage.db import get_session, make_engine
from neurotriage.main import create_app
from neurotriage.migrate import upgrade_to_head
from neurotriage.users.service import create_user
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from tests.backend.conftest import PASSWORD
from tests.pg import create_database, database_url, drop_database


@dataclass
class LiveApi:
    app: FastAPI
    sessions: sessionmaker[Session]

    def add_user(self, username: str, roles: list[str]) -> int:
        with self.sessions() as session:
            user_id = create_user(session, username, PASSWORD, roles).id
            session.commit()
        return user_id


@pytest.fixture(scope="module")
def live_api() -> Iterator[LiveApi]:
    """The app on its own PostgreSQL database, every request in its own session that really commits."""
    name = f"nt_live_{uuid.uuid4().hex[:8]}"
    create_database(name)
    url = database_url(name)
    engine = make_engine(url)
    try:
        upgrade_to_head(url)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)

        def request_session() -> Iterator[Session]:
            session = sessions()
            try:
                yield session
            finally:
                session.rollback()
                session.close()

        app = create_app()
        app.dependency_overrides[get_session] = request_session
        yield LiveApi(app=app, sessions=sessions)
    finally:
        engine.dispose()
        drop_database(name)


@pytest.fixture
def live(live_api: LiveApi) -> Iterator[LiveApi]:
    """``live_api`` with no recent login attempts (every test client shares one address) and default settings."""
    with live_api.sessions() as session:
        session.execute(delete(LoginAttempt))
        session.commit()
    yield live_api
    live_api.app.dependency_overrides.pop(get_settings, None)


def run_together(count: int, request: Callable[[int], int]) -> list[int]:
    """Start ``count`` requests at the same moment, each from its own client thread; their status codes."""
    barrier = threading.Barrier(count)
    codes: list[int] = []
    lock = threading.Lock()

    def one(index: int) -> None:
        barrier.wait()
        code = request(index)
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=one, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes


