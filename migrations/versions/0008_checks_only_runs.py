"""checks-only runs: jobs.screening and results.screening, and results without the network's figures

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

NETWORK_FIGURES = (('score', sa.Float()), ('mean_error', sa.Float()), ('mask_volume_mm3', sa.Float()),
                   ('threshold', sa.Float()), ('passes', sa.Integer()))


def upgrade() -> None:
    # Every run before this one searched for lesions. Batch mode: SQLite (the embedded demo) cannot alter a column.
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('screening', sa.String(length=16), nullable=False, server_default='lesions'))
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('screening', sa.String(length=16), nullable=False, server_default='lesions'))
        for name, kind in NETWORK_FIGURES:
            batch_op.alter_column(name, existing_type=kind, nullable=True)


def downgrade() -> None:
    # A checks-only result has none of these figures, so the older schema cannot hold it: it goes (it has no flags),
    # and case verdicts recorded against it keep their case but no longer name a result.
    checks_results = "SELECT id FROM results WHERE screening = 'checks'"
    op.execute(f"UPDATE case_verdicts SET result_id = NULL WHERE result_id IN ({checks_results})")
    op.execute(f"DELETE FROM results WHERE id IN ({checks_results})")
    with op.batch_alter_table('results', schema=None) as batch_op:
        for name, kind in NETWORK_FIGURES:
            batch_op.alter_column(name, existing_type=kind, nullable=False)
        batch_op.drop_column('screening')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('screening')
