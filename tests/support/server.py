"""Starting and stopping a real `stageline server` process for tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

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
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.pump.join(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


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
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        cwd=cwd,
    )
    log: list[str] = []
    found: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.append(line)
            m = URL_LINE.search(line)
            if m and not found:
                found.append(m.group(1))
                ready.set()
        ready.set()

    pump_thread = threading.Thread(target=pump, daemon=True)
    pump_thread.start()
    if not ready.wait(timeout) or not found:
        proc.kill()
        raise RuntimeError("server did not start:\n" + "".join(log))
    url = found[0]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return ServerProcess(proc, url, data_dir, log, pump_thread)
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server never became healthy:\n" + "".join(log))
