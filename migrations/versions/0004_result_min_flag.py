"""result: smallest reported flag size

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Results written before this revision did not keep the size: NULL, shown as unknown, because the
    # engine's default changed over time and guessing it would tell the reader something untrue.
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min_flag_mm3', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.drop_column('min_flag_mm3')
