"""proven links between chats and members

A chat sees a member only through a proven link (`LinkProof`): `proof` and the number it was by, whether the chat
registered the member itself, and when the branch's data contradicted that registration. Links made before: a
WhatsApp address equal to the member's phone is proven by its number; every other existing link is kept as
`legacy`, so that no member registered before this loses their reminders. `nik_attempt` counts registered NIKs a
chat typed (the throttle against guessing).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('memberaddress', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proof', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True))
        batch_op.add_column(sa.Column('proof_phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column('self_registered', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('suspended_at', storage.models.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('registration_mismatch_at', storage.models.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute(
        "UPDATE memberaddress SET proof = 'number', proof_phone = ("
        " SELECT member.phone FROM member WHERE member.id = memberaddress.member_id)"
        " WHERE EXISTS (SELECT 1 FROM address JOIN member ON member.id = memberaddress.member_id"
        " WHERE address.id = memberaddress.address_id AND address.channel = 'whatsapp'"
        " AND address.external_id = member.phone)"
    )
    op.execute("UPDATE memberaddress SET proof = 'legacy' WHERE proof IS NULL")
    op.create_table(
        'nikattempt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('address_id', sa.Integer(), nullable=False),
        sa.Column('at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['address_id'], ['address.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_nikattempt_address_id'), 'nikattempt', ['address_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_nikattempt_address_id'), table_name='nikattempt')
    op.drop_table('nikattempt')
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('registration_mismatch_at')
    with op.batch_alter_table('memberaddress', schema=None) as batch_op:
        batch_op.drop_column('suspended_at')
        batch_op.drop_column('self_registered')
        batch_op.drop_column('proof_phone')
        batch_op.drop_column('proof')
