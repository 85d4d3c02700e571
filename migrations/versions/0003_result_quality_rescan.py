"""result quality issues, rescan triage

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quality_issues', sa.JSON(), nullable=False, server_default='[]'))

    # Triage priorities are now urgent 4, rescan 3, review 2, routine 1 (was urgent 3): stored urgent rows
    # move up so the worklist keeps them above rescans. Results written before have no quality issues.
    op.execute("UPDATE results SET priority = 4 WHERE triage = 'urgent'")


def downgrade() -> None:
    # The previous schema knows no rescan triage (its API would refuse the value): a rescan becomes
    # "review", the closest earlier value (someone has to look at the case), with review's priority 2.
    # Its quality issues, the reason for the rescan, are lost with the column.
    op.execute("UPDATE results SET triage = 'review', priority = 2 WHERE triage = 'rescan'")
    op.execute("UPDATE results SET priority = 3 WHERE triage = 'urgent'")

    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.drop_column('quality_issues')
