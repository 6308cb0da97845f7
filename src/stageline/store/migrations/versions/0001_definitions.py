"""Pipeline definitions, their versions, tags and custom action types.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipelines",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("arn", sa.String(300), nullable=False, unique=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("pipeline_type", sa.String(10), nullable=False),
        sa.Column("execution_mode", sa.String(20), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "pipeline_versions",
        sa.Column("pipeline_name", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("declaration", sa.Text, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("pipeline_name", "version"),
    )
    op.create_table(
        "tags",
        sa.Column("resource_arn", sa.String(400), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("resource_arn", "key"),
    )
    op.create_table(
        "custom_action_types",
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("owner", sa.String(20), nullable=False),
        sa.Column("provider", sa.String(35), nullable=False),
        sa.Column("version", sa.String(9), nullable=False),
        sa.Column("declaration", sa.Text, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("category", "owner", "provider", "version"),
    )


def downgrade() -> None:
    op.drop_table("custom_action_types")
    op.drop_table("tags")
    op.drop_table("pipeline_versions")
    op.drop_table("pipelines")
