"""``stageline server``: the API (and, as they land, engine, console and agent) in one process."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import click

from stageline.config import (
    BUILD_EXECUTORS,
    DEFAULT_ACCOUNT_ID,
    DEFAULT_PORT,
    DEFAULT_REGION,
    ConfigError,
    Settings,
    default_data_dir,
)


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="STAGELINE_HOST",
    help="Address to listen on. Only loopback addresses are allowed until authentication is configured.",
)
@click.option(
    "--port",
    default=DEFAULT_PORT,
    show_default=True,
    type=int,
    envvar="STAGELINE_PORT",
    help="TCP port; 0 picks a free one (printed at start).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    envvar="STAGELINE_DATA_DIR",
    help="Where the SQLite database and artifacts live [default: .stageline].",
)
@click.option(
    "--database-url",
    default=None,
    envvar="STAGELINE_DATABASE_URL",
    help="sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB [default: SQLite in the data dir].",
)
@click.option(
    "--region",
    default=DEFAULT_REGION,
    show_default=True,
    envvar="STAGELINE_REGION",
    help="Region written into ARNs and events.",
)
@click.option(
    "--account-id",
    default=DEFAULT_ACCOUNT_ID,
    show_default=True,
    envvar="STAGELINE_ACCOUNT_ID",
    help="12-digit account id written into ARNs and events.",
)
@click.option(
    "--max-artifact-bytes",
    type=int,
    default=5 * 1024**3,
    show_default=True,
    envvar="STAGELINE_MAX_ARTIFACT_BYTES",
    help="Largest size an input artifact may expand to when an action unpacks it.",
)
@click.option(
    "--job-lease-seconds",
    type=click.IntRange(1, 3600),
    default=60,
    show_default=True,
    envvar="STAGELINE_JOB_LEASE_SECONDS",
    help="How long a claimed job stays its worker's without a heartbeat before it is handed out again.",
)
@click.option(
    "--build-executor",
    type=click.Choice(BUILD_EXECUTORS),
    default="auto",
    show_default=True,
    envvar="STAGELINE_BUILD_EXECUTOR",
    help="Where CodeBuild builds run: docker runs each in its project's image (Docker or Podman); "
    "host on this machine with its own tools; auto in a container when an engine is reachable, "
    "else on the host, saying so in the build log.",
)
@click.option(
    "--poll-interval",
    type=float,
    default=60.0,
    show_default=True,
    envvar="STAGELINE_POLL_INTERVAL",
    help="Seconds between checks of polled source actions (PollForSourceChanges true or unset; "
    "connection and ECR sources); a new revision starts one execution.",
)
@click.option(
    "--event-retry-seconds",
    type=float,
    default=1.0,
    show_default=True,
    envvar="STAGELINE_EVENT_RETRY_SECONDS",
    help="Delay before an event target's first retry; each retry waits twice as long as the one "
    "before, up to the target's RetryPolicy, then the event goes to the dead-letter queue.",
)
@click.option(
    "--s3-endpoint-url",
    default=None,
    envvar="STAGELINE_S3_ENDPOINT_URL",
    help="S3-compatible endpoint that S3 source actions read from (MinIO, moto_server, ...); "
    "credentials come from the usual AWS environment variables.",
)
@click.option(
    "--registry-url",
    default=None,
    envvar="STAGELINE_REGISTRY_URL",
    help="Container registry (HTTP API v2) that ECR source actions resolve image tags against, "
    "e.g. http://127.0.0.1:5000.",
)
@click.option(
    "--github-url",
    default="https://github.com",
    show_default=True,
    envvar="STAGELINE_GITHUB_URL",
    help="Where GitHub source actions (version 1) and GitHub connections fetch from; a mirror, "
    "a GitHub Enterprise Server or a file:// directory of OWNER/REPO repositories.",
)
@click.option(
    "--example/--no-example",
    default=False,
    help="Create the example repository (hello-app) and pipeline (hello-stageline) if missing.",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
def server(
    host: str,
    port: int,
    data_dir: Path | None,
    database_url: str | None,
    region: str,
    account_id: str,
    max_artifact_bytes: int,
    example: bool,
    job_lease_seconds: int,
    build_executor: str,
    poll_interval: float,
    event_retry_seconds: float,
    s3_endpoint_url: str | None,
    registry_url: str | None,
    github_url: str,
    log_level: str,
) -> None:
    """Run the stageline service (CodePipeline API at POST /, health at /health)."""
    import socket

    import uvicorn

    from stageline.api.app import create_app

    settings = Settings(
        data_dir=(data_dir or default_data_dir()).resolve(),
        database_url=database_url,
        host=host,
        port=port,
        region=region,
        account_id=account_id,
        max_artifact_bytes=max_artifact_bytes,
        example=example,
        job_lease_seconds=job_lease_seconds,
        build_executor=build_executor,
        poll_interval_seconds=poll_interval,
        event_retry_base_seconds=event_retry_seconds,
        s3_endpoint_url=s3_endpoint_url,
        registry_url=registry_url,
        github_url=github_url,
    )
    try:
        settings.check()
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{bound_port}"
    # The server's own address, for what must call it back (git clone URLs, Lambda functions).
    settings = dataclasses.replace(
        settings, port=bound_port, extra={**settings.extra, "public_url": url}
    )
    try:
        app = create_app(settings)
    except ConfigError as exc:  # e.g. a secret key file others can read
        sock.close()
        raise click.ClickException(str(exc)) from exc
    click.echo(f"stageline listening on {url}", err=False)
    click.echo(f"  console: {url}/console/")
    click.echo(f"  data dir: {settings.data_dir.resolve()}")
    click.echo(
        "  try: AWS_ACCESS_KEY_ID=stageline AWS_SECRET_ACCESS_KEY=stageline AWS_DEFAULT_REGION="
        f"{region} aws codepipeline list-pipelines --endpoint-url {url}"
    )
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])
