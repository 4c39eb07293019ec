"""the inbox: inbound updates and messages stored before they are acknowledged

Webhook updates were acknowledged and then queued in memory: a crash lost them (issue 16 point 3). Each is now a row
(sealed like conversation state) until its answer is sent.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'inbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('chat', sa.String(length=64), nullable=False),
        sa.Column('sequence', sa.BigInteger(), nullable=False),
        sa.Column('payload', sa.String(), nullable=False),
        sa.Column('received_at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('lease_until', storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('token', sa.String(length=40), nullable=True),
        sa.Column('processed_at', storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_inbox_chat_order', 'inbox', ['chat', 'sequence', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_inbox_chat_order', table_name='inbox')
    op.drop_table('inbox')
