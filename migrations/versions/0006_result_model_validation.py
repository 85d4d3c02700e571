"""result: what the model found when benchmarked

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Results stored before this revision carry no validation (NULL): the case page then says none was recorded.
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('model_validation', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.drop_column('model_validation')
