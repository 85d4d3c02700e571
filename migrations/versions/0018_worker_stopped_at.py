"""workers.stopped_at: a worker that shuts down cleanly keeps its row, so the admin page tells a stop from a crash

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: running, or silent without having said it stopped (every row so far: stopped workers deleted theirs).
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.drop_column('stopped_at')
