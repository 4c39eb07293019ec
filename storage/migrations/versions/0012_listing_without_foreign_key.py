"""listing without a foreign key

The listing is the digest run's own record of who is on the lists, rewritten every morning. A foreign key made each
row it inserts lock its member row (FOR KEY SHARE), which on a province's first day dirtied most of the member table
for 150,000 rows; deleting a member now removes their listing explicitly.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rebuild(*, foreign_key: bool) -> None:
    """Copy the listing into a table of the wanted shape (SQLite cannot drop an unnamed constraint in place)."""
    constraints: list[sa.Constraint] = [sa.PrimaryKeyConstraint('member_id')]
    if foreign_key:
        constraints.append(sa.ForeignKeyConstraint(['member_id'], ['member.id'], ondelete='CASCADE'))
    op.create_table('listing_new',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    *constraints,
    )
    kept = 'SELECT member_id, since FROM listing'
    if foreign_key:
        kept += ' WHERE member_id IN (SELECT id FROM member)'
    op.execute(f'INSERT INTO listing_new (member_id, since) {kept}')
    op.drop_table('listing')
    op.rename_table('listing_new', 'listing')


def upgrade() -> None:
    _rebuild(foreign_key=False)


def downgrade() -> None:
    _rebuild(foreign_key=True)
