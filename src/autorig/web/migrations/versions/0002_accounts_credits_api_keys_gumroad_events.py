"""accounts, credits, api keys, gumroad events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 17:51:24.531467
"""

import sqlalchemy as sa
from alembic import op

import autorig.web.db.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_links",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("next_path", sa.Text(), nullable=True),
        sa.Column("created_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_links")),
    )
    with op.batch_alter_table("login_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_links_email"), ["email"], unique=False)

    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_keys_token_hash")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_user_id"), ["user_id"], unique=False)

    op.create_table(
        "credit_ledger",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=True),
        sa.Column("item", sa.String(length=255), nullable=True),
        sa.Column("sale_id", sa.String(length=128), nullable=True),
        sa.Column("actor", sa.String(length=320), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_credit_ledger_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_ledger")),
    )
    with op.batch_alter_table("credit_ledger", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_ledger_task_id"), ["task_id"], unique=False)
        batch_op.create_index("ix_credit_ledger_user_id_created_at", ["user_id", "created_at"], unique=False)

    op.create_table(
        "gumroad_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_key", sa.String(length=160), nullable=False),
        sa.Column("sale_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("buyer_email", sa.String(length=320), nullable=True),
        sa.Column("product", sa.String(length=255), nullable=True),
        sa.Column("variants", sa.JSON(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("test", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("applied_credits", sa.Integer(), nullable=False),
        sa.Column("shortfall", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("applied_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_gumroad_events_user_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gumroad_events")),
        sa.UniqueConstraint("event_key", name=op.f("uq_gumroad_events_event_key")),
    )
    with op.batch_alter_table("gumroad_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gumroad_events_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_gumroad_events_sale_id"), ["sale_id"], unique=False)

    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("created_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sessions_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "purchases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("item", sa.String(length=255), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("created_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name=op.f("fk_purchases_task_id_tasks"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_purchases_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchases")),
        sa.UniqueConstraint("user_id", "task_id", "item", name="uq_purchases_user_task_item"),
    )
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purchases_task_id"), ["task_id"], unique=False)

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_ip", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_tasks_client_ip"), ["client_ip"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("balance_credits", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("name", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("gumroad_email", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("last_login_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(op.f("ck_users_balance_not_negative"), "balance_credits >= 0")


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_balance_not_negative"), type_="check")
        batch_op.drop_column("last_login_at")
        batch_op.drop_column("gumroad_email")
        batch_op.drop_column("name")
        batch_op.drop_column("balance_credits")

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tasks_client_ip"))
        batch_op.drop_column("client_ip")

    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purchases_task_id"))

    op.drop_table("purchases")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessions_user_id"))

    op.drop_table("sessions")
    with op.batch_alter_table("gumroad_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gumroad_events_sale_id"))
        batch_op.drop_index(batch_op.f("ix_gumroad_events_email"))

    op.drop_table("gumroad_events")
    with op.batch_alter_table("credit_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_ledger_user_id_created_at")
        batch_op.drop_index(batch_op.f("ix_credit_ledger_task_id"))

    op.drop_table("credit_ledger")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_user_id"))

    op.drop_table("api_keys")
    with op.batch_alter_table("login_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_links_email"))

    op.drop_table("login_links")
