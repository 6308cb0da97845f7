"""Server settings, with the embedded defaults that make `make run` work on a laptop."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_PORT = 8787
MAX_REQUEST_BYTES = 6 * 1024 * 1024
#: Where builds run (``--build-executor``): see :mod:`stageline.builds.executors`.
BUILD_EXECUTORS = ("auto", "host", "docker")


class ConfigError(ValueError):
    """A setting that cannot work, with the reason and the fix in the message."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything one server process needs to know; built once from CLI flags and env."""

    data_dir: Path
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID
    auth_enabled: bool = False
    max_request_bytes: int = MAX_REQUEST_BYTES
    # Largest input artifact an action unpacks (DESIGN.md §5: S3 sources up to 5 GB).
    max_artifact_bytes: int = 5 * 1024**3
    # How long a claimed job stays its worker's without an acknowledgement or heartbeat.
    job_lease_seconds: int = 60
    # Seed the example repository and pipeline at start (what `make run` shows).
    example: bool = False
    # Where CodeBuild builds run: auto (a container engine if reachable), host or docker.
    build_executor: str = "auto"
    # How often source actions with PollForSourceChanges true are checked for a new revision.
    poll_interval_seconds: float = 60.0
    # The first retry of a failed event delivery waits this long; each next one twice as long.
    event_retry_base_seconds: float = 1.0
    # The S3-compatible endpoint S3 source actions read from (None: AWS's, from the environment).
    s3_endpoint_url: str | None = None
    # The container registry (HTTP API v2) ECR source actions resolve image tags against.
    registry_url: str | None = None
    # Where GitHub (version 1) source actions and GitHub connections fetch repositories from.
    github_url: str = "https://github.com"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'stageline.db'}"

    def check(self) -> None:
        if not (len(self.account_id) == 12 and self.account_id.isdigit()):
            raise ConfigError(
                f"account id {self.account_id!r} must be 12 digits, as an AWS account id is"
            )
        if not self.region or len(self.region) > 30:
            raise ConfigError(f"region {self.region!r} must be 1 to 30 characters, e.g. us-east-1")
        if self.build_executor not in BUILD_EXECUTORS:
            raise ConfigError(
                f"build executor {self.build_executor!r} must be one of "
                f"{', '.join(BUILD_EXECUTORS)}: auto uses Docker or Podman when reachable, "
                "host runs builds on this machine, docker always in a container"
            )
        if self.poll_interval_seconds <= 0:
            raise ConfigError(
                f"poll interval {self.poll_interval_seconds} must be more than 0 seconds, "
                "e.g. --poll-interval 60"
            )
        if self.event_retry_base_seconds < 0:
            raise ConfigError(
                f"event retry delay {self.event_retry_base_seconds} must be 0 seconds or more, "
                "e.g. --event-retry-seconds 1"
            )
        if not is_loopback(self.host) and not self.auth_enabled:
            raise ConfigError(
                f"refusing to listen on {self.host}: without authentication stageline only "
                "binds to a loopback address (127.0.0.1, ::1 or localhost); use --host 127.0.0.1"
            )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def default_data_dir() -> Path:
    return Path(os.environ.get("STAGELINE_DATA_DIR", ".stageline"))
