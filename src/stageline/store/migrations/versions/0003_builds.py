"""Builds: CodeBuild projects, builds, report groups, reports and their items.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "build_projects",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("arn", sa.String(400), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("build_counter", sa.Integer, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("modified_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "builds",
        sa.Column("id", sa.String(300), primary_key=True),
        sa.Column("project_name", sa.String(255), nullable=False),
        sa.Column("build_number", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("action_execution_id", sa.String(36), index=True),
        sa.Column("stop_requested", sa.Boolean, nullable=False),
        sa.Column("started_ms", sa.BigInteger, nullable=False),
        sa.Column("ended_ms", sa.BigInteger),
    )
    op.create_index("ix_builds_project", "builds", ["project_name", "started_ms"])
    op.create_table(
        "report_groups",
        sa.Column("arn", sa.String(400), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("project_name", sa.String(255), nullable=False, index=True),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("modified_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "reports",
        sa.Column("arn", sa.String(500), primary_key=True),
        sa.Column("report_group_arn", sa.String(400), nullable=False, index=True),
        sa.Column("build_id", sa.String(300), nullable=False, index=True),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "report_items",
        sa.Column("report_arn", sa.String(500), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20)),
        sa.Column("document", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("report_arn", "seq"),
    )


def downgrade() -> None:
    for table in ("report_items", "reports", "report_groups", "builds", "build_projects"):
        op.drop_table(table)
