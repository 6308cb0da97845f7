"""The real ``aws`` CLI (installed with the test extras), run against a test server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

AWS = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")


def aws_env(home: Path) -> dict[str, str]:
    """Test credentials and a config of its own in ``home``: no user's profile leaks in."""
    return {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_PAGER": "",
    }


def run_aws(url: str, home: Path, service: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``aws SERVICE ARGS --endpoint-url URL --output json``, run in ``home``."""
    assert AWS, "the aws CLI is installed with the test extras"
    return subprocess.run(
        [AWS, service, *args, "--endpoint-url", url, "--output", "json"],
        capture_output=True,
        text=True,
        env=aws_env(home),
        timeout=60,
        cwd=home,
    )


def aws_json(url: str, home: Path, service: str, *args: str) -> Any:
    """The command's JSON output (None when it prints nothing); fails the test on an error."""
    done = run_aws(url, home, service, *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None
