"""installed_models: what the inference workers can run

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Starts empty: until a worker reports, the API accepts every known profile and the worker decides.
    op.create_table(
        'installed_models',
        sa.Column('profile', sa.String(length=32), nullable=False),
        sa.Column('sequence', sa.String(length=16), nullable=False),
        sa.Column('available', sa.Boolean(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('trained', sa.Boolean(), nullable=False),
        sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('profile', 'sequence'),
    )


def downgrade() -> None:
    op.drop_table('installed_models')
