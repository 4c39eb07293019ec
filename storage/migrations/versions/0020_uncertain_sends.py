"""uncertain sends are resolved

`uncertain_at` on reminders: when a send timed out or lost its connection, so nobody knows whether it arrived. The
reminder is sent again once after a back-off, unless its chat has written since then (it arrived).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uncertain_at', storage.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_column('uncertain_at')
