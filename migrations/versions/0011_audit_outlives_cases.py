"""audit_events.case_id: a plain case number, no longer a foreign key, so that a deleted case keeps its history

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# PostgreSQL's name for the unnamed constraint 0001 created; SQLite's copy is found through this convention.
_PG_NAME = 'audit_events_case_id_fkey'
_SQLITE_CONVENTION = {'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s'}


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint(_PG_NAME, 'audit_events', type_='foreignkey')
    else:
        with op.batch_alter_table('audit_events', naming_convention=_SQLITE_CONVENTION) as batch_op:
            batch_op.drop_constraint('fk_audit_events_case_id_cases', type_='foreignkey')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        # NOT VALID: the events of cases deleted meanwhile stay (the trail is append-only); new rows are checked.
        op.execute(f'ALTER TABLE audit_events ADD CONSTRAINT {_PG_NAME} FOREIGN KEY (case_id) '
                   'REFERENCES cases (id) NOT VALID')
    else:
        with op.batch_alter_table('audit_events') as batch_op:
            batch_op.create_foreign_key('fk_audit_events_case_id_cases', 'cases', ['case_id'], ['id'])
