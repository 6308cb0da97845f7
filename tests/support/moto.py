"""A real S3-compatible endpoint for tests: ``moto_server`` as its own process on a loopback port.

Not an in-process mock: the code under test talks HTTP to another process,
exactly as it would to MinIO or S3, so request signing, streaming and error
responses are the real thing. It starts in about a second; use it from a
module-scoped fixture.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

#: Credentials moto accepts; tests hand them to boto3 and to the server's environment.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
_URL_LINE = re.compile(r"Running on (http://127\.0\.0\.1:\d+)")


class MotoServer:
    """A running moto_server: its URL, its output, and boto3 clients pointed at it."""

    def __init__(self, proc: subprocess.Popen[str], url: str, log: list[str]) -> None:
        self.proc = proc
        self.url = url
        self.log = log

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
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def moto_binary() -> Path:
    """The moto_server of the running interpreter's environment (``moto[server]``)."""
    return Path(sys.executable).parent / "moto_server"


def start_moto(timeout: float = 30.0) -> MotoServer:
    """Start moto_server on a free loopback port (it picks one; we read it from its output)."""
    proc = subprocess.Popen(
        [str(moto_binary()), "-H", "127.0.0.1", "-p", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **CREDENTIALS, "PYTHONUNBUFFERED": "1"},
    )
    log: list[str] = []
    found: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.append(line)
            match = _URL_LINE.search(line)
            if match and not found:
                found.append(match.group(1))
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(timeout) or not found:
        proc.kill()
        raise RuntimeError("moto_server did not start:\n" + "".join(log))
    server = MotoServer(proc, found[0], log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{server.url}/moto-api/", timeout=2)
            return server
        except httpx.TransportError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError("moto_server never answered:\n" + "".join(log))


@contextmanager
def moto_server() -> Iterator[MotoServer]:
    server = start_moto()
    try:
        yield server
    finally:
        server.stop()
