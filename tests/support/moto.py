"""A real S3-compatible endpoint for tests: ``moto_server`` as its own process on a loopback port.

Not an in-process mock: the code under test talks HTTP to another process,
exactly as it would to MinIO or S3, so request signing, streaming and error
responses are the real thing. It starts in about a second; use it from a
module-scoped fixture.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.processes import Announced, await_http, launch, stop

#: Credentials moto accepts; tests hand them to boto3 and to the server's environment.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
_URL_LINE = re.compile(r"Running on (http://127\.0\.0\.1:\d+)")


class MotoServer:
    """A running moto_server: its URL, its output, and boto3 clients pointed at it."""

    def __init__(self, started: Announced, url: str) -> None:
        self.started = started
        self.proc = started.proc
        self.url = url
        self.log = started.log

    def client(self, service: str = "s3") -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def versioned_bucket(self, name: str) -> None:
        s3 = self.client()
        s3.create_bucket(Bucket=name)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})

    def stop(self) -> None:
        stop(self.proc, self.started.pump)


def moto_binary() -> Path:
    """The moto_server of the running interpreter's environment (``moto[server]``)."""
    return Path(sys.executable).parent / "moto_server"


def start_moto(timeout: float = 30.0) -> MotoServer:
    """Start moto_server on a free loopback port (it picks one; we read it from its output)."""
    started = launch(
        [str(moto_binary()), "-H", "127.0.0.1", "-p", "0"],
        announce=_URL_LINE,
        what="moto_server",
        env={**os.environ, **CREDENTIALS, "PYTHONUNBUFFERED": "1"},
        timeout=timeout,
    )
    server = MotoServer(started, started.match.group(1))
    await_http(started, f"{server.url}/moto-api/", what="moto_server", timeout=timeout)
    return server


@contextmanager
def moto_server() -> Iterator[MotoServer]:
    server = start_moto()
    try:
        yield server
    finally:
        server.stop()
