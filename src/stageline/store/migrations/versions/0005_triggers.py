"""Triggers: event rules, their targets and deliveries (with the dead-letter queue), source
polling state, connections and their hosts, and webhooks.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_rules",
        sa.Column("event_bus_name", sa.String(256), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("arn", sa.String(1600), nullable=False),
        sa.Column("event_pattern", sa.Text),
        sa.Column("schedule_expression", sa.String(256)),
        sa.Column("state", sa.String(60), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("role_arn", sa.String(1600)),
        sa.Column("managed_by", sa.String(128)),
        sa.Column("pipeline_name", sa.String(100), index=True),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("modified_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("event_bus_name", "name"),
    )
    op.create_table(
        "event_targets",
        sa.Column("event_bus_name", sa.String(256), nullable=False),
        sa.Column("rule_name", sa.String(64), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("arn", sa.String(1600), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("event_bus_name", "rule_name", "target_id"),
    )
    op.create_table(
        "event_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event_bus_name", sa.String(256), nullable=False),
        sa.Column("rule_name", sa.String(64), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("target_arn", sa.String(1600), nullable=False),
        sa.Column("input", sa.Text, nullable=False),
        sa.Column("event_ms", sa.BigInteger, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("next_attempt_ms", sa.BigInteger),
        sa.Column("last_error", sa.Text),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.Column("ended_ms", sa.BigInteger),
    )
    op.create_index(
        "ix_event_deliveries_due", "event_deliveries", ["status", "next_attempt_ms", "id"]
    )
    op.create_table(
        "source_polls",
        sa.Column("pipeline_name", sa.String(100), nullable=False),
        sa.Column("action_name", sa.String(100), nullable=False),
        sa.Column("revision", sa.String(1024), nullable=False),
        sa.Column("polled_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("pipeline_name", "action_name"),
    )
    op.create_table(
        "connection_hosts",
        sa.Column("arn", sa.String(256), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("provider_type", sa.String(40), nullable=False),
        sa.Column("provider_endpoint", sa.String(512), nullable=False),
        sa.Column("status", sa.String(64), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "connections",
        sa.Column("arn", sa.String(256), primary_key=True),
        sa.Column("name", sa.String(32), nullable=False, unique=True),
        sa.Column("provider_type", sa.String(40), nullable=False),
        sa.Column("host_arn", sa.String(256)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("endpoint", sa.String(1024)),
        sa.Column("credentials_secret", sa.String(512)),
        sa.Column("webhook_secret", sa.String(512)),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "webhooks",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("arn", sa.String(400), nullable=False),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("registered", sa.Boolean, nullable=False),
        sa.Column("last_triggered_ms", sa.BigInteger),
        sa.Column("error_code", sa.String(100)),
        sa.Column("error_message", sa.Text),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "webhooks",
        "connections",
        "connection_hosts",
        "source_polls",
        "event_deliveries",
        "event_targets",
        "event_rules",
    ):
        op.drop_table(table)
