"""Create the case store

Revision ID: 0001
Revises: 
Create Date: 2026-12-04 15:24:40.550868
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('folio', sa.String(length=24), nullable=True),
    sa.Column('request_type', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('subject', sa.String(length=64), nullable=True),
    sa.Column('department', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('needs_escalation', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('reference', sa.Text(), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('contact', sa.Text(), nullable=True),
    sa.Column('sender', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_folio'), ['folio'], unique=True)
        batch_op.create_index(batch_op.f('ix_case_sender'), ['sender'], unique=False)

    op.create_table('handoff_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('last_message', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('handoff_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handoff_request_sender'), ['sender'], unique=False)

    op.create_table('case_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('content_type', sa.String(length=128), nullable=True),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_attachment_case_id'), ['case_id'], unique=False)

    op.create_table('case_status_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('changed_by', sa.String(length=64), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_status_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_status_history_case_id'), ['case_id'], unique=False)




def downgrade() -> None:
    
    with op.batch_alter_table('case_status_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_status_history_case_id'))

    op.drop_table('case_status_history')
    with op.batch_alter_table('case_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_attachment_case_id'))

    op.drop_table('case_attachment')
    with op.batch_alter_table('handoff_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handoff_request_sender'))

    op.drop_table('handoff_request')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_sender'))
        batch_op.drop_index(batch_op.f('ix_case_folio'))

    op.drop_table('case')

