"""backend leases: workers followed per backend, email claims, backend heartbeats

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-28 22:20:00
"""

import sqlalchemy as sa
from alembic import op

import autorig.web.db.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backends",
        sa.Column("instance_id", sa.String(length=128), nullable=False),
        sa.Column("started_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seen_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("instance_id", name=op.f("pk_backends")),
    )
    with op.batch_alter_table("backends", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_backends_seen_at"), ["seen_at"], unique=False)

    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("progress_owner", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("progress_until", autorig.web.db.base.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table("emails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("claim_until", autorig.web.db.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("emails", schema=None) as batch_op:
        batch_op.drop_column("claim_until")
        batch_op.drop_column("claimed_by")

    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.drop_column("progress_until")
        batch_op.drop_column("progress_owner")

    with op.batch_alter_table("backends", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_backends_seen_at"))

    op.drop_table("backends")
