"""an office's payer and area

An office that pays from a budget (a regency's APBD, a desa's Dana Desa, Baznas) pays for every member of its payer
in its area, not only for the members linked to it one by one.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sponsor', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payer', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True))
        batch_op.add_column(
            sa.Column('area', sqlmodel.sql.sqltypes.AutoString(length=200), server_default='', nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('sponsor', schema=None) as batch_op:
        batch_op.drop_column('area')
        batch_op.drop_column('payer')
