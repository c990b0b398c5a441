"""Route cases, record groups and add the outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 16:12:27.471990
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def _sqlite_case_sequence():
    """Return the last case id SQLite handed out, or None on other databases."""
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return None
    return bind.execute(
        sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'case'")
    ).scalar()


def _restore_sqlite_case_sequence(sequence) -> None:
    """Keep SQLite from reusing ids of deleted cases after the table copy.

    The copy sets the sequence to the highest id still present, which is lower
    than before when the newest case was deleted.
    """
    if sequence is None:
        return
    bind = op.get_bind()
    bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'case'"))
    bind.execute(
        sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('case', :seq)"),
        {'seq': sequence},
    )


def upgrade() -> None:
    op.create_table('case_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('group', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'group', name='uq_case_group')
    )
    with op.batch_alter_table('case_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_group_case_id'), ['case_id'], unique=False)

    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('folio', sa.String(length=24), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('receiver', sa.String(length=64), nullable=False),
    sa.Column('target', sa.Text(), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sending_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('uncertain', sa.Boolean(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'receiver', name='uq_outbox_case_receiver')
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_message_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_outbox_message_due', ['status', 'next_attempt_at'], unique=False)

    # SQLite cannot add a foreign key in place, so batch mode copies the table
    # there. The copy must keep AUTOINCREMENT and its sequence, which stop
    # folios from being reused after a case is deleted.
    sequence = _sqlite_case_sequence()
    with op.batch_alter_table(
        'case', schema=None, table_kwargs={'sqlite_autoincrement': True}
    ) as batch_op:
        batch_op.add_column(sa.Column('priority_rules', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('delivery', sa.String(length=16), nullable=False, server_default='internal'))
        batch_op.add_column(sa.Column('area', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('street', sa.String(length=96), nullable=True))
        batch_op.add_column(sa.Column('linked_case_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_case_linked_case_id'), ['linked_case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_street'), ['street'], unique=False)
        batch_op.create_foreign_key('fk_case_linked_case_id', 'case', ['linked_case_id'], ['id'])
    _restore_sqlite_case_sequence(sequence)


def downgrade() -> None:
    sequence = _sqlite_case_sequence()
    with op.batch_alter_table(
        'case', schema=None, table_kwargs={'sqlite_autoincrement': True}
    ) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_street'))
        batch_op.drop_index(batch_op.f('ix_case_linked_case_id'))
        batch_op.drop_constraint('fk_case_linked_case_id', type_='foreignkey')
        batch_op.drop_column('linked_case_id')
        batch_op.drop_column('street')
        batch_op.drop_column('area')
        batch_op.drop_column('delivery')
        batch_op.drop_column('priority_rules')
    _restore_sqlite_case_sequence(sequence)

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_due')
        batch_op.drop_index(batch_op.f('ix_outbox_message_case_id'))

    op.drop_table('outbox_message')
    with op.batch_alter_table('case_group', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_group_case_id'))

    op.drop_table('case_group')
