"""Keep the answers given so far with a handoff request

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 18:50:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('handoff_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answers', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('handoff_request', schema=None) as batch_op:
        batch_op.drop_column('answers')
