"""Executions: pipeline, stage and action executions, jobs, transitions, history, outbox.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipeline_executions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("pipeline_name", sa.String(100), nullable=False, index=True),
        sa.Column("pipeline_version", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_summary", sa.Text),
        sa.Column("execution_mode", sa.String(20), nullable=False),
        sa.Column("trigger_type", sa.String(40), nullable=False),
        sa.Column("trigger_detail", sa.Text),
        sa.Column("variables", sa.Text, nullable=False),
        sa.Column("source_overrides", sa.Text, nullable=False),
        sa.Column("artifact_revisions", sa.Text, nullable=False),
        sa.Column("client_request_token", sa.String(128)),
        sa.Column("stop_mode", sa.String(10)),
        sa.Column("stop_reason", sa.Text),
        sa.Column("stage_index", sa.Integer),
        sa.Column("waiting", sa.Boolean, nullable=False),
        sa.Column("waiting_since_ms", sa.BigInteger),
        sa.Column("started_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.Column("ended_ms", sa.BigInteger),
    )
    op.create_index(
        "ix_pipeline_executions_active", "pipeline_executions", ["pipeline_name", "status"]
    )
    op.create_index(
        "ix_pipeline_executions_token",
        "pipeline_executions",
        ["pipeline_name", "client_request_token"],
    )
    op.create_table(
        "stage_executions",
        sa.Column("execution_id", sa.String(36), nullable=False),
        sa.Column("pipeline_name", sa.String(100), nullable=False),
        sa.Column("stage_name", sa.String(100), nullable=False),
        sa.Column("stage_index", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("floor", sa.Integer, nullable=False),
        sa.Column("entered_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("execution_id", "stage_name"),
    )
    op.create_index(
        "ix_stage_executions_stage", "stage_executions", ["pipeline_name", "stage_name"]
    )
    op.create_table(
        "action_executions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("execution_id", sa.String(36), nullable=False, index=True),
        sa.Column("pipeline_name", sa.String(100), nullable=False, index=True),
        sa.Column("pipeline_version", sa.Integer, nullable=False),
        sa.Column("stage_name", sa.String(100), nullable=False),
        sa.Column("stage_index", sa.Integer, nullable=False),
        sa.Column("action_name", sa.String(100), nullable=False),
        sa.Column("run_order", sa.Integer, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("input", sa.Text, nullable=False),
        sa.Column("output", sa.Text, nullable=False),
        sa.Column("summary", sa.Text),
        sa.Column("external_execution_id", sa.String(1500)),
        sa.Column("external_execution_url", sa.String(2048)),
        sa.Column("percent_complete", sa.Integer),
        sa.Column("error_code", sa.String(100)),
        sa.Column("error_message", sa.Text),
        sa.Column("token", sa.String(36), index=True),
        sa.Column("updated_by", sa.String(200)),
        sa.Column("started_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.Column("due_ms", sa.BigInteger),
    )
    op.create_index("ix_action_executions_due", "action_executions", ["status", "due_ms"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("action_execution_id", sa.String(36), nullable=False, index=True),
        sa.Column("execution_id", sa.String(36), nullable=False),
        sa.Column("pipeline_name", sa.String(100), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("owner", sa.String(20), nullable=False),
        sa.Column("provider", sa.String(35), nullable=False),
        sa.Column("version", sa.String(9), nullable=False),
        sa.Column("region", sa.String(30)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("nonce", sa.String(64)),
        sa.Column("worker", sa.String(200)),
        sa.Column("lease_expires_ms", sa.BigInteger),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("client_token", sa.String(256)),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_jobs_claim",
        "jobs",
        ["status", "category", "owner", "provider", "version", "created_ms"],
    )
    op.create_index("ix_jobs_lease", "jobs", ["status", "lease_expires_ms"])
    op.create_table(
        "stage_transitions",
        sa.Column("pipeline_name", sa.String(100), nullable=False),
        sa.Column("stage_name", sa.String(100), nullable=False),
        sa.Column("transition_type", sa.String(10), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("reason", sa.String(300)),
        sa.Column("changed_by", sa.String(200)),
        sa.Column("changed_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("pipeline_name", "stage_name", "transition_type"),
    )
    op.create_table(
        "history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pipeline_name", sa.String(100), nullable=False),
        sa.Column("execution_id", sa.String(36)),
        sa.Column("entity", sa.String(10), nullable=False),
        sa.Column("entity_id", sa.String(250), nullable=False),
        sa.Column("from_status", sa.String(20)),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_history_execution", "history", ["execution_id", "id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("detail_type", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("published_ms", sa.BigInteger),
    )
    op.create_index("ix_outbox_unpublished", "outbox", ["published_ms", "id"])


def downgrade() -> None:
    for table in (
        "outbox",
        "history",
        "stage_transitions",
        "jobs",
        "action_executions",
        "stage_executions",
        "pipeline_executions",
    ):
        op.drop_table(table)
