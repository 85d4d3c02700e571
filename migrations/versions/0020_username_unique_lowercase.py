"""users: a unique index on lower(username), so names differing only in capitals cannot both exist

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The service has refused such names since it began checking, but an account made before that, or directly
    # in the database, would make the index fail with a bare integrity error: name them instead, change nothing.
    clashes = op.get_bind().execute(sa.text(
        "SELECT lower(username) FROM users GROUP BY lower(username) HAVING count(*) > 1 ORDER BY 1"
    )).scalars().all()
    if clashes:
        raise RuntimeError(
            "Usernames that differ only in capital letters must be merged or renamed before this upgrade: "
            + ", ".join(clashes) + ". Sign-in now ignores capitals, so only one of each can stay."
        )
    op.create_index('uq_users_username_lower', 'users', [sa.text('lower(username)')], unique=True)


def downgrade() -> None:
    op.drop_index('uq_users_username_lower', table_name='users')
