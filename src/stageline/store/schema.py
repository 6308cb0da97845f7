"""Table definitions shared by the data-access modules and the migrations.

Times are epoch milliseconds (BigInteger) so SQLite and PostgreSQL store and
compare them the same way; documents (pipeline declarations, action types) are
JSON text in the wire form AWS defines, since that is what they are exchanged as.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

metadata = MetaData()

pipelines = Table(
    "pipelines",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("arn", String(300), nullable=False, unique=True),
    Column("version", Integer, nullable=False),
    Column("pipeline_type", String(10), nullable=False),
    Column("execution_mode", String(20), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

pipeline_versions = Table(
    "pipeline_versions",
    metadata,
    Column("pipeline_name", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("declaration", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("pipeline_name", "version"),
)

tags = Table(
    "tags",
    metadata,
    Column("resource_arn", String(400), nullable=False),
    Column("key", String(128), nullable=False),
    Column("value", String(256), nullable=False),
    Column("position", Integer, nullable=False),
    PrimaryKeyConstraint("resource_arn", "key"),
)

custom_action_types = Table(
    "custom_action_types",
    metadata,
    Column("category", String(20), nullable=False),
    Column("owner", String(20), nullable=False),
    Column("provider", String(35), nullable=False),
    Column("version", String(9), nullable=False),
    Column("declaration", Text, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("category", "owner", "provider", "version"),
)
