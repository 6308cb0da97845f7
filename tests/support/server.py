"""Starting and stopping a real `stageline server` process for tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from tests.support.processes import await_http, launch, stop

URL_LINE = re.compile(r"stageline listening on (http://\S+)")


class ServerProcess:
    def __init__(
        self,
        proc: subprocess.Popen[str],
        url: str,
        data_dir: Path,
        log: list[str],
        pump: threading.Thread,
    ) -> None:
        self.proc = proc
        self.pump = pump
        self.url = url
        self.data_dir = data_dir
        self.log = log

    def client(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}),
        )

    def stop(self, sig: int = signal.SIGTERM) -> None:
        stop(self.proc, self.pump, sig)


def start_server(
    data_dir: Path,
    *extra: str,
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
    cwd: Path | None = None,
) -> ServerProcess:
    cmd = [
        sys.executable,
        "-m",
        "stageline",
        "server",
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
        "--log-level",
        "warning",
        # Polling happens once an hour unless a test asks for it, so no test sees a poll
        # start an execution it didn't expect.
        *(() if "--poll-interval" in extra else ("--poll-interval", "3600")),
        *extra,
    ]
    started = launch(
        cmd,
        announce=URL_LINE,
        what="server",
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        timeout=timeout,
        cwd=cwd,
    )
    url = started.match.group(1)
    await_http(
        started,
        f"{url}/health",
        what="server",
        timeout=timeout,
        ok=lambda response: response.status_code == 200,
    )
    return ServerProcess(started.proc, url, data_dir, started.log, started.pump)
