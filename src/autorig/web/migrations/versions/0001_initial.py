"""tasks, queue, workers, users, email outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-28 17:41:02.376255
"""

import sqlalchemy as sa
from alembic import op

import autorig.web.db.base

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("created_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "workers",
        sa.Column("url", sa.String(length=512), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("accepting", sa.Boolean(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("free_slots", sa.Integer(), nullable=False),
        sa.Column("active_jobs", sa.Integer(), nullable=False),
        sa.Column("avg_job_seconds", sa.Float(), nullable=True),
        sa.Column("version", sa.String(length=64), nullable=True),
        sa.Column("last_seen_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_checked_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_workers")),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=True),
        sa.Column("anon_id", sa.String(length=64), nullable=True),
        sa.Column("notify_email", sa.String(length=320), nullable=True),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("source_format", sa.String(length=8), nullable=False),
        sa.Column("input_url", sa.Text(), nullable=False),
        sa.Column("upload_key", sa.String(length=512), nullable=True),
        sa.Column("output_name", sa.String(length=80), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("fbx_status", sa.String(length=16), nullable=True),
        sa.Column("fbx_glb_url", sa.Text(), nullable=True),
        sa.Column("fbx_worker", sa.String(length=512), nullable=True),
        sa.Column("fbx_started_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("fbx_finished_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("fbx_error", sa.Text(), nullable=True),
        sa.Column("worker", sa.String(length=512), nullable=True),
        sa.Column("worker_task_id", sa.String(length=128), nullable=True),
        sa.Column("guid", sa.String(length=128), nullable=True),
        sa.Column("progress_page", sa.Text(), nullable=True),
        sa.Column("output_urls", sa.JSON(), nullable=False),
        sa.Column("ready_urls", sa.JSON(), nullable=False),
        sa.Column("ready_count", sa.Integer(), nullable=False),
        sa.Column("missing_files", sa.JSON(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("restarts", sa.Integer(), nullable=False),
        sa.Column("failed_workers", sa.JSON(), nullable=False),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column("claim_until", autorig.web.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("queued_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_progress_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_tasks_owner_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tasks_anon_id"), ["anon_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index("ix_tasks_status_queued_at", ["status", "queued_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_worker"), ["worker"], unique=False)

    op.create_table(
        "emails",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("to_addr", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", autorig.web.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name=op.f("fk_emails_task_id_tasks"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emails")),
    )
    with op.batch_alter_table("emails", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_emails_sent_at"), ["sent_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("emails", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emails_sent_at"))

    op.drop_table("emails")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tasks_worker"))
        batch_op.drop_index("ix_tasks_status_queued_at")
        batch_op.drop_index(batch_op.f("ix_tasks_owner_id"))
        batch_op.drop_index(batch_op.f("ix_tasks_anon_id"))

    op.drop_table("tasks")
    op.drop_table("workers")
    op.drop_table("users")
