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

# -- builds (CodeBuild) ---------------------------------------------------------------------

build_projects = Table(
    "build_projects",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("arn", String(400), nullable=False),
    # The Project shape as AWS returns it, without the dates (kept in the columns).
    Column("document", Text, nullable=False),
    Column("build_counter", Integer, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("modified_ms", BigInteger, nullable=False),
)

builds = Table(
    "builds",
    metadata,
    Column("id", String(300), primary_key=True),
    Column("project_name", String(255), nullable=False),
    Column("build_number", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    # The Build shape without the dates and status; phases etc. are updated as it runs.
    Column("document", Text, nullable=False),
    Column("action_execution_id", String(36), index=True),
    Column("stop_requested", Boolean, nullable=False),
    Column("started_ms", BigInteger, nullable=False),
    Column("ended_ms", BigInteger),
)

report_groups = Table(
    "report_groups",
    metadata,
    Column("arn", String(400), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("project_name", String(255), nullable=False, index=True),
    Column("type", String(20), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("modified_ms", BigInteger, nullable=False),
)

reports = Table(
    "reports",
    metadata,
    Column("arn", String(500), primary_key=True),
    Column("report_group_arn", String(400), nullable=False, index=True),
    Column("build_id", String(300), nullable=False, index=True),
    Column("type", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    # The Report shape (testSummary or codeCoverageSummary included), without the dates.
    Column("document", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

# A report's test cases (TEST) or per-file coverages (CODE_COVERAGE), in file order.
report_items = Table(
    "report_items",
    metadata,
    Column("report_arn", String(500), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("status", String(20)),
    Column("document", Text, nullable=False),
    PrimaryKeyConstraint("report_arn", "seq"),
)

# -- secrets ---------------------------------------------------------------------------------
# Values are Fernet tokens (stageline.secrets.keys): no column ever holds a plaintext value.

# SSM Parameter Store: one row per parameter, its versions below (the newest 100 are kept).
ssm_parameters = Table(
    "ssm_parameters",
    metadata,
    Column("name", String(1024), primary_key=True),
    Column("type", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("description", Text),
    Column("key_id", String(256)),
    Column("allowed_pattern", String(1024)),
    Column("tier", String(20), nullable=False),
    Column("data_type", String(128), nullable=False),
    Column("modified_ms", BigInteger, nullable=False),
)

ssm_parameter_versions = Table(
    "ssm_parameter_versions",
    metadata,
    Column("name", String(1024), nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", String(20), nullable=False),
    Column("ciphertext", Text, nullable=False),
    Column("modified_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("name", "version"),
)

# Secrets Manager: a secret keeps its name while scheduled for deletion (purge_ms), as on AWS.
secrets = Table(
    "secrets",
    metadata,
    Column("arn", String(700), primary_key=True),
    Column("name", String(512), nullable=False, unique=True),
    Column("description", Text),
    # [[key, value], ...] in the order given.
    Column("tags", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("changed_ms", BigInteger, nullable=False),
    Column("deleted_ms", BigInteger),
    Column("purge_ms", BigInteger),
)

secret_versions = Table(
    "secret_versions",
    metadata,
    Column("secret_arn", String(700), nullable=False),
    Column("version_id", String(64), nullable=False),
    # 1, 2, 3, ... per secret: the order versions were created in.
    Column("seq", Integer, nullable=False),
    Column("ciphertext", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("secret_arn", "version_id"),
)

# A staging label (AWSCURRENT, AWSPREVIOUS, ...) is on at most one version of a secret.
secret_version_stages = Table(
    "secret_version_stages",
    metadata,
    Column("secret_arn", String(700), nullable=False),
    Column("stage", String(256), nullable=False),
    Column("version_id", String(64), nullable=False),
    PrimaryKeyConstraint("secret_arn", "stage"),
)

# -- triggers: the event bus, polling, connections, webhooks ---------------------------------

# EventBridge rules. ``pipeline_name`` marks a rule stageline made for a pipeline's source
# action (PollForSourceChanges false), deleted with it; ``managed_by`` is what AWS shows.
event_rules = Table(
    "event_rules",
    metadata,
    Column("event_bus_name", String(256), nullable=False),
    Column("name", String(64), nullable=False),
    Column("arn", String(1600), nullable=False),
    Column("event_pattern", Text),
    Column("schedule_expression", String(256)),
    Column("state", String(60), nullable=False),
    Column("description", Text),
    Column("role_arn", String(1600)),
    Column("managed_by", String(128)),
    Column("pipeline_name", String(100), index=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("modified_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("event_bus_name", "name"),
)

# A rule's targets; ``document`` is the Target shape as given (Input, InputTransformer,
# RetryPolicy, DeadLetterConfig, ...), ``position`` the order they were added in.
event_targets = Table(
    "event_targets",
    metadata,
    Column("event_bus_name", String(256), nullable=False),
    Column("rule_name", String(64), nullable=False),
    Column("target_id", String(64), nullable=False),
    Column("arn", String(1600), nullable=False),
    Column("document", Text, nullable=False),
    Column("position", Integer, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("event_bus_name", "rule_name", "target_id"),
)

# One event for one target: PENDING until delivered (DELIVERED) or out of retries or age
# (FAILED: the dead-letter queue, kept until redriven). ``input`` is what the target gets.
event_deliveries = Table(
    "event_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
    Column("event_bus_name", String(256), nullable=False),
    Column("rule_name", String(64), nullable=False),
    Column("target_id", String(64), nullable=False),
    Column("target_arn", String(1600), nullable=False),
    Column("input", Text, nullable=False),
    Column("event_ms", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("next_attempt_ms", BigInteger),
    Column("last_error", Text),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("ended_ms", BigInteger),
)

# The last revision polling saw for a source action, written in the transaction that starts
# the execution for it, so a restart never starts a second one for the same revision.
source_polls = Table(
    "source_polls",
    metadata,
    Column("pipeline_name", String(100), nullable=False),
    Column("action_name", String(100), nullable=False),
    Column("revision", String(1024), nullable=False),
    Column("polled_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("pipeline_name", "action_name"),
)

# CodeConnections hosts (GitHub Enterprise Server, GitLab self-managed, or any git server).
connection_hosts = Table(
    "connection_hosts",
    metadata,
    Column("arn", String(256), primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("provider_type", String(40), nullable=False),
    Column("provider_endpoint", String(512), nullable=False),
    Column("status", String(64), nullable=False),
    Column("document", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

# Connections: ``endpoint`` overrides the provider's base URL; ``credentials_secret`` names
# a secret in the secret store holding the token, ``webhook_secret`` the one its webhook
# deliveries must prove (names only, never the values).
connections = Table(
    "connections",
    metadata,
    Column("arn", String(256), primary_key=True),
    Column("name", String(32), nullable=False, unique=True),
    Column("provider_type", String(40), nullable=False),
    Column("host_arn", String(256)),
    Column("status", String(20), nullable=False),
    Column("endpoint", String(1024)),
    Column("credentials_secret", String(512)),
    Column("webhook_secret", String(512)),
    Column("document", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

# CodePipeline webhooks (PutWebhook); ``token`` is the unguessable part of the URL.
webhooks = Table(
    "webhooks",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("arn", String(400), nullable=False),
    Column("token", String(64), nullable=False, unique=True),
    Column("definition", Text, nullable=False),
    Column("registered", Boolean, nullable=False),
    Column("last_triggered_ms", BigInteger),
    Column("error_code", String(100)),
    Column("error_message", Text),
    Column("created_ms", BigInteger, nullable=False),
)
