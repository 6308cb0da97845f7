"""The contract between an agent and the provider that does an action's work.

A provider is a small class with a ``key`` and a ``run`` method. The agent
prepares everything around it — a fresh workspace, the input artifacts
extracted into it, a directory per output artifact, a log sink — and afterwards
zips and uploads the outputs and reports the result as a job result. Providers
know nothing of HTTP, SQL or the engine (STYLE.md, layers).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from stageline.definitions.catalog import ActionTypeKey

LogSink = Callable[[str], None]


@dataclass(frozen=True, kw_only=True)
class PipelineContext:
    pipeline_name: str
    pipeline_arn: str
    execution_id: str
    stage_name: str
    action_name: str
    action_execution_id: str
    region: str
    account_id: str


@dataclass(frozen=True, kw_only=True)
class JobContext:
    """Everything a provider may use while running one job."""

    job_id: str
    action_type: ActionTypeKey
    configuration: Mapping[str, str]
    pipeline: PipelineContext
    workspace: Path
    # Input artifact name -> directory holding its extracted files, in declaration order.
    inputs: Mapping[str, Path]
    # Output artifact name -> empty directory the provider fills; the agent zips it.
    outputs: Mapping[str, Path]
    # Output artifact name -> the `files` globs declared for it (Commands action), if any.
    output_files: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    log: LogSink
    # Declaration members beyond configuration (the Commands action's commands etc.).
    commands: tuple[str, ...] = ()
    output_variable_names: tuple[str, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    continuation_token: str | None = None
    # Revision pinned for a source action (StartPipelineExecution.sourceRevisions / PutActionRevision).
    source_revision: str | None = None
    # Its kind: COMMIT_ID, IMAGE_DIGEST, S3_OBJECT_VERSION_ID or S3_OBJECT_KEY (SourceRevisionType).
    source_revision_type: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    deadline_monotonic: float | None = None
    data_dir: Path | None = None
    # The job's data exactly as AWS's job API hands it to workers (JobData), for providers
    # that pass it on (the Lambda invoke event carries it).
    raw_job_data: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class SourceRevision:
    revision_id: str
    summary: str | None = None
    created_ms: int | None = None
    url: str | None = None


@dataclass(frozen=True, kw_only=True)
class JobResult:
    """What a provider reports. ``succeeded=False`` needs ``failure_type`` and ``message``."""

    succeeded: bool
    summary: str | None = None
    message: str | None = None
    # AWS FailureType: JobFailed | ConfigurationError | PermissionError | RevisionOutOfSync |
    # RevisionUnavailable | SystemUnavailable
    failure_type: str = "JobFailed"
    output_variables: Mapping[str, str] = field(default_factory=dict)
    external_execution_id: str | None = None
    external_execution_url: str | None = None
    revision: SourceRevision | None = None
    # Per output artifact name, the revision it carries (a commit id for git sources).
    artifact_revisions: Mapping[str, str] = field(default_factory=dict)
    continuation_token: str | None = None
    # The job's result was already reported through the job API (PutJobSuccessResult /
    # PutJobFailureResult) by whatever the provider started, e.g. a Lambda function:
    # the agent then reports nothing and uploads no outputs.
    reported_externally: bool = False

    @classmethod
    def failed(cls, message: str, *, failure_type: str = "JobFailed", **kw: object) -> JobResult:
        return cls(succeeded=False, message=message, failure_type=failure_type, **kw)  # type: ignore[arg-type]


class ActionProvider(Protocol):
    """One action type's implementation."""

    key: ActionTypeKey

    def run(self, job: JobContext) -> JobResult: ...
