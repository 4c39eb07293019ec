"""invitation codes expire and can be revoked

`invite_issued_at` on officers and sponsors: a code works INVITE_DAYS from then; NULL means no working code (used,
revoked). Codes pending at the upgrade get the upgrade's time, so none stops working the moment it runs.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 20:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ('officer', 'sponsor'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('invite_issued_at', storage.models.UTCDateTime(timezone=True), nullable=True)
            )
        op.execute(
            sa.text(f'UPDATE {table} SET invite_issued_at = CURRENT_TIMESTAMP WHERE invite_code IS NOT NULL')
        )


def downgrade() -> None:
    for table in ('officer', 'sponsor'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('invite_issued_at')
