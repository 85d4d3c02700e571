"""The migrations are the only way the schema changes: they must build exactly what the models describe."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from neurotriage.migrate import alembic_config
from neurotriage.models import Base
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from tests.pg import create_database, database_url, drop_database


@contextmanager
def _scratch_database() -> Iterator[tuple[Config, Engine]]:
    """A new empty PostgreSQL database for one test: (its Alembic config, an engine on it); dropped after."""
    name = f"nt_migrate_{uuid.uuid4().hex[:8]}"
    create_database(name)
    url = database_url(name)
    engine = create_engine(url)
    try:
        yield alembic_config(url), engine
    finally:
        engine.dispose()
        drop_database(name)


def test_upgrade_matches_models_and_downgrade_removes_everything() -> None:
    with _scratch_database() as (config, engine):
        command.upgrade(config, "head")
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == []
        command.downgrade(config, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        command.upgrade(config, "head")
        assert "audit_events" in inspect(engine).get_table_names()


def test_0003_renumbers_urgent_above_rescan_and_downgrade_maps_rescan_to_review() -> None:
    with _scratch_database() as (config, engine):
        command.upgrade(config, "0002")
        with engine.begin() as connection:
            _insert_results(connection, {1: ("urgent", 3), 2: ("review", 2), 3: ("routine", 1)})
        command.upgrade(config, "0003")
        with engine.begin() as connection:
            # urgent moves above the new rescan priority; existing results get no quality issues
            assert _triage_rows(connection) == {1: ("urgent", 4, []), 2: ("review", 2, []), 3: ("routine", 1, [])}
            _insert_results(connection, {4: ("rescan", 3)}, quality='[{"kind": "cut_off"}]')
        command.downgrade(config, "0002")
        # the old schema knows no rescan: it becomes review (priority 2); urgent goes back to 3
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, triage, priority FROM results ORDER BY id")).all()
        assert [tuple(row) for row in rows] == [(1, "urgent", 3), (2, "review", 2), (3, "routine", 1), (4, "review", 2)]


def _insert_results(connection, triages: dict[int, tuple[str, int]], quality: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """One user, and per id a case, a job and a result with that triage and priority (raw SQL: any revision)."""
    connection.execute(
        text(
            "INSERT INTO users (id, username, password_hash, roles, disabled, created_at) "
            "VALUES (1, 'u', 'x', '[]', false, now()) ON CONFLICT DO NOTHING"
        )
    )
    for row_id, (triage, priority) in triages.items():
        connection.execute(
            text(
                "INSERT INTO cases (id, label, sequence, scan_key, content_sha256, uploaded_by_id, uploaded_at) "
                "VALUES (:id, 'c', 't1', 'k', :sha, 1, now())"
            ),
            {"id": row_id, "sha": f"{row_id:064d}"},
        )
        connection.execute(
            text(
                "INSERT INTO jobs (id, case_id, status, progress, attempts, model_profile, created_at) "
                "VALUES (:id, :id, 'succeeded', 100, 1, 'fast', now())"
            ),
            {"id": row_id},
        )
        columns, values = ("quality_issues, ", "CAST(:quality AS json), ") if quality is not None else ("", "")
        connection.execute(
            text(
                f"INSERT INTO results (id, job_id, case_id, score, mean_error, mask_volume_mm3, triage, priority, "
                f"threshold, passes, seconds, model_name, model_version, model_trained, files, {columns}created_at) "
                f"VALUES (:id, :id, :id, 0.1, 0.01, 10.0, :triage, :priority, 0.05, 10, 1.0, 'm', 'v', true, '{{}}', "
                f"{values}now())"
            ),
            {"id": row_id, "triage": triage, "priority": priority, "quality": quality},
        )


def _triage_rows(connection) -> dict[int, tuple[str, int, list]]:  # type: ignore[no-untyped-def]
    rows = connection.execute(text("SELECT id, triage, priority, quality_issues FROM results ORDER BY id"))
    return {row_id: (triage, priority, quality) for row_id, triage, priority, quality in rows}


def test_0008_downgrade_drops_checks_only_results_and_keeps_their_cases_verdicts() -> None:
    with _scratch_database() as (config, engine):
        command.upgrade(config, "0007")
        with engine.begin() as connection:
            _insert_results(connection, {1: ("review", 2), 2: ("review", 2)})
        command.upgrade(config, "0008")
        with engine.begin() as connection:
            assert connection.execute(text("SELECT DISTINCT screening FROM results")).scalars().all() == ["lesions"]
            # case 2's result becomes what the worker writes for a checks-only run: no network figures
            connection.execute(text(
                "UPDATE results SET screening = 'checks', score = NULL, mean_error = NULL, mask_volume_mm3 = NULL, "
                "threshold = NULL, passes = NULL WHERE id = 2"))
            connection.execute(text("UPDATE jobs SET screening = 'checks' WHERE id = 2"))
            connection.execute(text(
                "INSERT INTO case_verdicts (case_id, reviewer_id, verdict, result_id, version, created_at, updated_at) "
                "VALUES (2, 1, 'normal', 2, 1, now(), now())"))
        command.downgrade(config, "0007")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT id FROM results ORDER BY id")).scalars().all() == [1]
            verdict = connection.execute(text("SELECT case_id, result_id FROM case_verdicts")).one()
        assert tuple(verdict) == (2, None)
        assert "screening" not in {c["name"] for c in inspect(engine).get_columns("jobs")}


def test_0016_marks_the_runs_whose_scan_the_engine_refused() -> None:
    with _scratch_database() as (config, engine):
        command.upgrade(config, "0015")
        with engine.begin() as connection:
            _insert_results(connection, {1: ("review", 2), 2: ("review", 2), 3: ("review", 2)})
            connection.execute(text("UPDATE jobs SET status = 'failed', error = :e WHERE id = 1"),
                               {"e": "The scan could not be analysed: it contains too little brain."})
            connection.execute(text("UPDATE jobs SET status = 'failed', error = :e WHERE id = 2"),
                               {"e": "The analysis failed with an internal error; an administrator can find details."})
        command.upgrade(config, "0016")
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, failure FROM jobs ORDER BY id")).all()
        # a re-run stays on offer for every run but the refused scan, as before
        assert [tuple(row) for row in rows] == [(1, "scan_refused"), (2, None), (3, None)]
        command.downgrade(config, "0015")
        assert "failure" not in {c["name"] for c in inspect(engine).get_columns("jobs")}


def test_0017_gives_existing_api_tokens_an_end_a_grace_period_away() -> None:
    with _scratch_database() as (config, engine):
        command.upgrade(config, "0016")
        with engine.begin() as connection:
            _insert_results(connection, {})  # the user
            connection.execute(text(
                "INSERT INTO api_tokens (id, user_id, name, token_sha256, prefix, created_at) "
                "VALUES (1, 1, 'old script', :sha, 'ntk_abcdefgh', now() - interval '400 days')"), {"sha": "0" * 64})
        command.upgrade(config, "0017")
        with engine.connect() as connection:
            left = connection.execute(text("SELECT expires_at - now() FROM api_tokens")).scalar_one()
        # a script made before expiry existed keeps working for a while, not for ever, and not 400 days less
        assert 89 <= left.days < 90
        command.downgrade(config, "0016")


def test_0020_names_usernames_that_differ_only_in_capitals_and_then_refuses_them() -> None:
    insert = text("INSERT INTO users (id, username, password_hash, roles, disabled, created_at) "
                  "VALUES (:id, :name, 'x', '[]', false, now())")
    with _scratch_database() as (config, engine):
        command.upgrade(config, "0019")
        with engine.begin() as connection:
            for row_id, name in ((1, "Clin"), (2, "clin"), (3, "coord")):
                connection.execute(insert, {"id": row_id, "name": name})
        with pytest.raises(RuntimeError, match="differ only in capital letters.*: clin[.]"):
            command.upgrade(config, "0020")
        assert "uq_users_username_lower" not in {i["name"] for i in inspect(engine).get_indexes("users")}
        with engine.begin() as connection:
            connection.execute(text("UPDATE users SET username = 'clin-old' WHERE id = 1"))
        command.upgrade(config, "0020")
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(insert, {"id": 4, "name": "COORD"})
        command.downgrade(config, "0019")


def test_the_embedded_sqlite_database_migrates_up_and_down(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # `make demo` runs on SQLite, which cannot alter a column in place: the migrations must use batch mode.
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    config = alembic_config(url)
    command.upgrade(config, "head")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
            # SQLite cannot reflect an expression index, so the comparison above skips it: look it up by name
            indexes = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars().all()
            assert "uq_users_username_lower" in indexes
        command.downgrade(config, "0007")
        command.upgrade(config, "head")
        assert {"screening"} <= {c["name"] for c in inspect(engine).get_columns("results")}
    finally:
        engine.dispose()
