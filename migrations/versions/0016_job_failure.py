"""jobs.failure: why a run failed, so that what the app offers (a retry) no longer hangs on the error's wording

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

# The words every refused scan's error has started with (jobs.service.SCAN_REFUSED), copied: a migration must not
# change when the code does.
_SCAN_REFUSED = 'The scan could not be analysed:'


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failure', sa.String(length=24), nullable=True))
    # Only the refused scans are told apart by their words; the other failed runs keep NULL (unknown, a re-run may
    # help), which is what the app assumed of them before.
    jobs = sa.table('jobs', sa.column('status', sa.String), sa.column('error', sa.Text),
                    sa.column('failure', sa.String))
    op.execute(
        jobs.update()
        .where(jobs.c.status == 'failed', jobs.c.error.like(_SCAN_REFUSED + '%'))
        .values(failure='scan_refused')
    )


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('failure')
