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

# --- executions (migration 0002) ------------------------------------------------------------

pipeline_executions = Table(
    "pipeline_executions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("pipeline_name", String(100), nullable=False, index=True),
    Column("pipeline_version", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("status_summary", Text),
    Column("execution_mode", String(20), nullable=False),
    Column("trigger_type", String(40), nullable=False),
    Column("trigger_detail", Text),
    Column("variables", Text, nullable=False),
    Column("source_overrides", Text, nullable=False),
    Column("artifact_revisions", Text, nullable=False),
    Column("client_request_token", String(128)),
    Column("stop_mode", String(10)),
    Column("stop_reason", Text),
    Column("stage_index", Integer),
    Column("waiting", Boolean, nullable=False),
    Column("waiting_since_ms", BigInteger),
    Column("started_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("ended_ms", BigInteger),
)

stage_executions = Table(
    "stage_executions",
    metadata,
    Column("execution_id", String(36), nullable=False),
    Column("pipeline_name", String(100), nullable=False),
    Column("stage_name", String(100), nullable=False),
    Column("stage_index", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("floor", Integer, nullable=False),
    Column("entered_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("execution_id", "stage_name"),
)

action_executions = Table(
    "action_executions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("execution_id", String(36), nullable=False, index=True),
    Column("pipeline_name", String(100), nullable=False, index=True),
    Column("pipeline_version", Integer, nullable=False),
    Column("stage_name", String(100), nullable=False),
    Column("stage_index", Integer, nullable=False),
    Column("action_name", String(100), nullable=False),
    Column("run_order", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("input", Text, nullable=False),
    Column("output", Text, nullable=False),
    Column("summary", Text),
    Column("external_execution_id", String(1500)),
    Column("external_execution_url", String(2048)),
    Column("percent_complete", Integer),
    Column("error_code", String(100)),
    Column("error_message", Text),
    Column("token", String(36), index=True),
    Column("updated_by", String(200)),
    Column("started_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("due_ms", BigInteger),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("action_execution_id", String(36), nullable=False, index=True),
    Column("execution_id", String(36), nullable=False),
    Column("pipeline_name", String(100), nullable=False),
    Column("category", String(20), nullable=False),
    Column("owner", String(20), nullable=False),
    Column("provider", String(35), nullable=False),
    Column("version", String(9), nullable=False),
    Column("region", String(30)),
    Column("status", String(20), nullable=False),
    Column("nonce", String(64)),
    Column("worker", String(200)),
    Column("lease_expires_ms", BigInteger),
    Column("attempts", Integer, nullable=False),
    Column("data", Text, nullable=False),
    Column("client_token", String(256)),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

stage_transitions = Table(
    "stage_transitions",
    metadata,
    Column("pipeline_name", String(100), nullable=False),
    Column("stage_name", String(100), nullable=False),
    Column("transition_type", String(10), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("reason", String(300)),
    Column("changed_by", String(200)),
    Column("changed_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("pipeline_name", "stage_name", "transition_type"),
)

history = Table(
    "history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pipeline_name", String(100), nullable=False),
    Column("execution_id", String(36)),
    Column("entity", String(10), nullable=False),
    Column("entity_id", String(250), nullable=False),
    Column("from_status", String(20)),
    Column("to_status", String(20), nullable=False),
    Column("detail", Text),
    Column("at_ms", BigInteger, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("source", String(100), nullable=False),
    Column("detail_type", String(200), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("published_ms", BigInteger),
)
