"""``stageline agent``: run stageline's providers on this machine for a server elsewhere."""

from __future__ import annotations

import logging
import signal
import socket
import tempfile
import threading
import uuid
from pathlib import Path

import click

from stageline.config import BUILD_EXECUTORS


@click.command()
@click.option(
    "--endpoint-url", envvar="STAGELINE_ENDPOINT_URL", required=True, help="The stageline server."
)
@click.option(
    "--region",
    default=None,
    help="Run only actions of this region (actions without one belong to the server's).",
)
@click.option(
    "--labels",
    default="",
    help="Comma-separated labels, recorded in the agent's name on the jobs it claims.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Jobs run at once.",
)
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where job workspaces are made [default: a temporary directory].",
)
@click.option(
    "--wait-seconds",
    type=click.FloatRange(0, 20),
    default=10.0,
    show_default=True,
    help="How long each poll waits at the server for a job (long polling).",
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
    "--log-level", default="info", type=click.Choice(["debug", "info", "warning", "error"])
)
def agent(
    endpoint_url: str,
    region: str | None,
    labels: str,
    concurrency: int,
    work_dir: Path | None,
    wait_seconds: float,
    build_executor: str,
    log_level: str,
) -> None:
    """Claim jobs from a stageline server and run them here (the providers installed on this machine)."""
    from stageline.agent.registry import ProviderContext, ProviderRegistry
    from stageline.agent.remote import RemoteBackend
    from stageline.agent.worker import Agent

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    label_part = f"[{labels}]" if labels else ""
    name = f"agent:{socket.gethostname()}{label_part}:{uuid.uuid4().hex[:8]}"
    root = work_dir or Path(tempfile.mkdtemp(prefix="stageline-agent-"))
    registry = ProviderRegistry.discover(
        ProviderContext(data_dir=root, services={"build_executor": build_executor})
    )
    if not registry.types():
        raise click.ClickException("no providers are installed on this machine; nothing to run")
    per_type_wait = wait_seconds if len(registry.types()) == 1 else min(wait_seconds, 1.0)
    backend = RemoteBackend(endpoint_url, region=region, worker=name, wait_s=per_type_wait)
    worker = Agent(
        backend,
        registry,
        work_root=root / "work",
        concurrency=concurrency,
        name=name,
        data_dir=root,
    )
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    types = ", ".join(str(k) for k in registry.types())
    click.echo(f"stageline agent {name} polling {endpoint_url} for: {types}", err=True)
    worker.start()
    done.wait()
    click.echo("stopping: running jobs are left to their lease and run again elsewhere", err=True)
    worker.stop()
    backend.close()
