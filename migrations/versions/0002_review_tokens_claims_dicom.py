"""review, tokens, claims, DICOM metadata

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_token_sha256'), ['token_sha256'], unique=True)
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('missed_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('point_mm', sa.JSON(), nullable=False),
    sa.Column('point_voxel', sa.JSON(), nullable=True),
    sa.Column('radius_mm', sa.Float(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('missed_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_missed_findings_case_id'), ['case_id'], unique=False)

    op.create_table('review_times',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'reviewer_id')
    )
    with op.batch_alter_table('review_times', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_times_case_id'), ['case_id'], unique=False)

    op.create_table('case_verdicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('verdict', sa.String(length=32), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('result_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['result_id'], ['results.id'], ),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'reviewer_id')
    )
    with op.batch_alter_table('case_verdicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_verdicts_case_id'), ['case_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('source_format', sa.String(length=16), nullable=False, server_default='nifti'))
        batch_op.add_column(sa.Column('series_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('patient_pseudonym', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('dicom_meta', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.create_index(batch_op.f('ix_cases_claimed_by_id'), ['claimed_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_patient_pseudonym'), ['patient_pseudonym'], unique=False)
        batch_op.create_unique_constraint('uq_cases_series_key', ['series_key'])
        batch_op.create_foreign_key('fk_cases_claimed_by_id_users', 'users', ['claimed_by_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint('fk_cases_claimed_by_id_users', type_='foreignkey')
        batch_op.drop_constraint('uq_cases_series_key', type_='unique')
        batch_op.drop_index(batch_op.f('ix_cases_patient_pseudonym'))
        batch_op.drop_index(batch_op.f('ix_cases_claimed_by_id'))
        batch_op.drop_column('dicom_meta')
        batch_op.drop_column('patient_pseudonym')
        batch_op.drop_column('series_key')
        batch_op.drop_column('source_format')
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by_id')

    with op.batch_alter_table('case_verdicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_verdicts_case_id'))

    op.drop_table('case_verdicts')
    with op.batch_alter_table('review_times', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_times_case_id'))

    op.drop_table('review_times')
    with op.batch_alter_table('missed_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_missed_findings_case_id'))

    op.drop_table('missed_findings')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))
        batch_op.drop_index(batch_op.f('ix_api_tokens_token_sha256'))

    op.drop_table('api_tokens')
