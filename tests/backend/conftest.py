"""Backend test fixtures: a fresh PostgreSQL database per run, a rolled-back transaction per test.

The environment is set before any ``neurotriage`` import, because the settings and the Celery app are
read once per process. Redis database 15 is the broker, flushed around every test.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.pg import create_database, database_url, drop_database

_DB_NAME = f"nt_test_{uuid.uuid4().hex[:10]}"
_STORAGE = tempfile.mkdtemp(prefix="nt-test-storage-")
os.environ["NEUROTRIAGE_DATABASE_URL"] = database_url(_DB_NAME)
os.environ["NEUROTRIAGE_BROKER_URL"] = "redis://127.0.0.1:6379/15"
os.environ["NEUROTRIAGE_STORAGE_DIR"] = _STORAGE
os.environ["NEUROTRIAGE_MAX_UPLOAD_BYTES"] = str(8 * 1024 * 1024)
# At least 32 characters and no placeholder, or the settings refuse it.
os.environ["NEUROTRIAGE_PSEUDONYM_KEY"] = "test-pseudonym-key-5f0c9a2e7b14d386"

import redis  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from neurotriage.db import get_engine, get_session, make_engine  # noqa: E402
from neurotriage.main import create_app  # noqa: E402
from neurotriage.migrate import upgrade_to_head  # noqa: E402
from neurotriage.users.service import create_user  # noqa: E402
from sqlalchemy import Engine  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    create_database(_DB_NAME)
    try:
        upgrade_to_head(os.environ["NEUROTRIAGE_DATABASE_URL"])
        yield get_engine()
    finally:
        get_engine().dispose()
        drop_database(_DB_NAME)


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test; commits become savepoints."""
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(os.environ["NEUROTRIAGE_BROKER_URL"])
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def app(db: Session, broker: redis.Redis):  # type: ignore[no-untyped-def]
    application = create_app()
    application.dependency_overrides[get_session] = lambda: db
    return application


@pytest.fixture(scope="session")
def users(engine: Engine) -> dict[str, int]:
    """One user per role, committed once for the run (argon2 hashing is deliberately slow)."""
    with Session(engine) as session:
        made = {
            "clinician": create_user(session, "clin", PASSWORD, ["clinician"]),
            "coordinator": create_user(session, "coord", PASSWORD, ["coordinator"]),
            "admin": create_user(session, "adm", PASSWORD, ["admin"]),
        }
        session.commit()
        return {role: user.id for role, user in made.items()}


class ApiClient(TestClient):
    """A TestClient that signs in and sends the CSRF header on mutating requests, as the frontend does."""

    def login(self, username: str, password: str = PASSWORD) -> None:
        response = self.post("/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        self.headers["X-CSRF-Token"] = response.cookies["csrftoken"]


@pytest.fixture
def anon(app) -> ApiClient:  # type: ignore[no-untyped-def]
    return ApiClient(app)


@pytest.fixture
def clinician(app, users) -> ApiClient:  # type: ignore[no-untyped-def]
    client = ApiClient(app)
    client.login("clin")
    return client


@pytest.fixture
def coordinator(app, users) -> ApiClient:  # type: ignore[no-untyped-def]
    client = ApiClient(app)
    client.login("coord")
    return client


@pytest.fixture
def admin(app, users) -> ApiClient:  # type: ignore[no-untyped-def]
    client = ApiClient(app)
    client.login("adm")
    return client


@pytest.fixture(autouse=True)
def storage_dir() -> Iterator[Path]:
    """The storage folder, emptied before each test (database rows roll back, files would not)."""
    root = Path(_STORAGE)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    yield root


@pytest.fixture
def scope(db):  # type: ignore[no-untyped-def]
    """The worker's unit of work, inside the test's transaction: rolled back on error, as in production."""

    @contextmanager
    def unit() -> Iterator[Any]:
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise

    return unit


@pytest.fixture
def sqlite_sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """The embedded mode's database (`make demo`): SQLite, migrated to head, foreign keys enforced, one writer at
    a time and no row locks."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade_to_head(url)
    engine = make_engine(url)
    try:
        yield sessionmaker(bind=engine, expire_on_commit=False)
    finally:
        engine.dispose()
