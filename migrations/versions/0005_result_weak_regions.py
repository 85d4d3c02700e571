"""result: peak ratio of flags and the weak regions it left out

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Engines before this revision flagged every region of the smallest size: no ratio (NULL) and nothing
    # left out ([]), which is what they did.
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min_peak_ratio', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('weak_regions', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.drop_column('weak_regions')
        batch_op.drop_column('min_peak_ratio')
