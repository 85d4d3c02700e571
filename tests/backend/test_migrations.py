"""The migrations are the only way the schema changes: they must build exactly what the models describe."""

from __future__ import annotations

import uuid

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from neurotriage.migrate import alembic_config
from neurotriage.models import Base
from sqlalchemy import create_engine, inspect

from tests.pg import create_database, database_url, drop_database


def test_upgrade_matches_models_and_downgrade_removes_everything() -> None:
    name = f"nt_migrate_{uuid.uuid4().hex[:8]}"
    create_database(name)
    url = database_url(name)
    engine = create_engine(url)
    try:
        config = alembic_config(url)
        command.upgrade(config, "head")
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == []
        command.downgrade(config, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        command.upgrade(config, "head")
        assert "audit_events" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
        drop_database(name)
