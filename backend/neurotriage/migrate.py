"""Alembic, driven from code, so ``neurotriage migrate`` and the tests use the same path."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from neurotriage.config import get_settings


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(get_settings().migrations_dir))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    if database_url.startswith("sqlite:///"):
        from pathlib import Path

        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), "head")
