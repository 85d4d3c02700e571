"""SQLite: cases, jobs, results and flags never hand out a deleted row's id again (AUTOINCREMENT)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05

The audit trail names cases, runs and flags by id and outlives them (0011); a new case taking a deleted one's id
would inherit its history, and its folder (cases/{id}). PostgreSQL's sequences never reuse an id: nothing to do.
"""

from __future__ import annotations

from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

TABLES = ('cases', 'jobs', 'results', 'flags')


def _recreate(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for table in TABLES:
        # SQLite cannot change this in place: the table is copied into a new one that has it.
        with op.batch_alter_table(table, recreate='always', table_kwargs={'sqlite_autoincrement': autoincrement}):
            pass


def upgrade() -> None:
    _recreate(True)


def downgrade() -> None:
    _recreate(False)
