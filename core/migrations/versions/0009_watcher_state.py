"""the state of tandem --watch: its heartbeat, and what it last saw of each web store

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa



revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'watcherstate',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('host', sa.String(length=255), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('heartbeat_at', sa.DateTime(), nullable=False),
        sa.Column('stopped_at', sa.DateTime(), nullable=True),
        sa.Column('listening', sa.String(length=100), nullable=True),
        sa.Column('rounds', sa.Integer(), nullable=False),
        sa.Column('orders', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_watcherstate')),
    )
    op.create_table(
        'watchedchannel',
        sa.Column('channel_id', sa.Integer(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.Column('order_at', sa.DateTime(), nullable=True),
        sa.Column('lag_seconds', sa.Float(), nullable=True),
        sa.Column('webhook_at', sa.DateTime(), nullable=True),
        sa.Column('exported_at', sa.DateTime(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('error_at', sa.DateTime(), nullable=True),
        sa.Column('retry_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['channel_id'], ['saleschannel.id'], name=op.f('fk_watchedchannel_channel_id_saleschannel')),
        sa.PrimaryKeyConstraint('channel_id', name=op.f('pk_watchedchannel')),
    )


def downgrade() -> None:
    op.drop_table('watchedchannel')
    op.drop_table('watcherstate')
