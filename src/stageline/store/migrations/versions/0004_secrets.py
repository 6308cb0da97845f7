"""Secrets: SSM parameters and Secrets Manager secrets, their versions and staging labels.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ssm_parameters",
        sa.Column("name", sa.String(1024), primary_key=True),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("key_id", sa.String(256)),
        sa.Column("allowed_pattern", sa.String(1024)),
        sa.Column("tier", sa.String(20), nullable=False),
        sa.Column("data_type", sa.String(128), nullable=False),
        sa.Column("modified_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "ssm_parameter_versions",
        sa.Column("name", sa.String(1024), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("ciphertext", sa.Text, nullable=False),
        sa.Column("modified_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", "version"),
    )
    op.create_table(
        "secrets",
        sa.Column("arn", sa.String(700), primary_key=True),
        sa.Column("name", sa.String(512), nullable=False, unique=True),
        sa.Column("description", sa.Text),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("changed_ms", sa.BigInteger, nullable=False),
        sa.Column("deleted_ms", sa.BigInteger),
        sa.Column("purge_ms", sa.BigInteger),
    )
    op.create_table(
        "secret_versions",
        sa.Column("secret_arn", sa.String(700), nullable=False),
        sa.Column("version_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("ciphertext", sa.Text, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("secret_arn", "version_id"),
    )
    op.create_table(
        "secret_version_stages",
        sa.Column("secret_arn", sa.String(700), nullable=False),
        sa.Column("stage", sa.String(256), nullable=False),
        sa.Column("version_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("secret_arn", "stage"),
    )


def downgrade() -> None:
    for table in (
        "secret_version_stages",
        "secret_versions",
        "secrets",
        "ssm_parameter_versions",
        "ssm_parameters",
    ):
        op.drop_table(table)
