"""flags: the anchor, a point of the flag itself for the viewer to go to

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Flags stored before this revision have none (NULL): the viewer goes to their centroid, as it did.
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anchor_mm', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.drop_column('anchor_mm')
