"""Functions on disk: ``<data dir>/functions/<name>/function.json`` beside a copy of the code.

Each function directory holds ``function.json`` (its configuration) and one
``code-<id>/`` directory. Every change is staged aside and made visible with
a rename, so a reader sees a function either whole or not at all: create
renames a complete staging directory into place, update_code renames new code
in and then replaces ``function.json`` atomically, delete renames the
function away before removing it. Writers take a file lock, so several
server processes on one data directory do not interleave.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stageline.functions.code import MAX_CODE_BYTES, CodeSummary, UnsafeCodeError, copy_code
from stageline.functions.names import (
    DEFAULT_RUNTIME,
    DEFAULT_TIMEOUT_S,
    NAME_RE,
    check_environment,
    check_handler,
    check_name,
    check_runtime,
    check_timeout,
    parse_reference,
)

_CODE_DIR_RE = re.compile(r"code-[0-9a-f]{12}")
_SNAPSHOT_ATTEMPTS = 3


class FunctionNotFoundError(LookupError):
    """No function by that name (Lambda's ResourceNotFoundException)."""


class FunctionExistsError(ValueError):
    """A function by that name exists already (Lambda's ResourceConflictException)."""


@dataclass(frozen=True, kw_only=True)
class Function:
    """One function's configuration, as ``function.json`` holds it."""

    name: str
    arn: str
    handler: str
    runtime: str
    environment: Mapping[str, str] = field(default_factory=dict)
    timeout_s: int
    created: str
    last_modified: str
    code_sha256: str
    code_size: int
    code_dir: Path

    def to_json(self) -> dict[str, Any]:
        """The wire form (HTTP API, CLI --output json); the code's location stays private."""
        return {
            "name": self.name,
            "arn": self.arn,
            "handler": self.handler,
            "runtime": self.runtime,
            "environment": dict(self.environment),
            "timeout": self.timeout_s,
            "created": self.created,
            "lastModified": self.last_modified,
            "codeSha256": self.code_sha256,
            "codeSize": self.code_size,
        }


def _timestamp() -> str:
    # Lambda's LastModified form: 2019-08-14T22:26:11.234+0000
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}+0000"


class FunctionStore:
    """Functions kept under ``<data_dir>/functions``; see the module docstring."""

    def __init__(
        self,
        data_dir: Path,
        *,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        max_code_bytes: int = MAX_CODE_BYTES,
    ) -> None:
        self.root = Path(data_dir) / "functions"
        self.region = region
        self.account_id = account_id
        self.max_code_bytes = max_code_bytes

    def arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"

    # --- reading ----------------------------------------------------------------------------

    def get(self, name: str) -> Function:
        check_name(name)
        try:
            doc = json.loads((self.root / name / "function.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FunctionNotFoundError(self._missing(name)) from None
        return self._from_doc(name, doc)

    def resolve(self, function_name: str) -> Function:
        """The function a pipeline's ``FunctionName`` (name, name:qualifier or ARN) names."""
        return self.get(parse_reference(function_name).name)

    def list(self) -> list[Function]:
        if not self.root.is_dir():
            return []
        found: list[Function] = []
        for entry in sorted(os.listdir(self.root)):
            if not NAME_RE.fullmatch(entry):
                continue  # .staging, .trash, .lock
            with contextlib.suppress(FunctionNotFoundError, ValueError, OSError):
                found.append(self.get(entry))
        return found

    def snapshot(self, name: str, dest: Path) -> Function:
        """Copy the function's current code to ``dest``: an invocation runs on its own copy,
        unaffected by an update or delete that lands while it runs."""
        for attempt in range(_SNAPSHOT_ATTEMPTS):
            function = self.get(name)
            try:
                copy_code(function.code_dir, dest, max_bytes=self.max_code_bytes)
                return function
            except (FileNotFoundError, UnsafeCodeError):
                shutil.rmtree(dest, ignore_errors=True)
                if attempt == _SNAPSHOT_ATTEMPTS - 1:
                    raise
                # The code was replaced between reading function.json and copying: read again.
        raise AssertionError("unreachable")  # pragma: no cover

    # --- writing ----------------------------------------------------------------------------

    def create(
        self,
        name: str,
        *,
        handler: str,
        code_dir: Path,
        runtime: str = DEFAULT_RUNTIME,
        environment: Mapping[str, str] | None = None,
        timeout_s: int = DEFAULT_TIMEOUT_S,
    ) -> Function:
        """Create a function from a copy of ``code_dir``; raises InvalidFunctionError,
        UnsafeCodeError or FunctionExistsError and then leaves nothing behind."""
        check_name(name)
        doc: dict[str, Any] = {
            "name": name,
            "arn": self.arn(name),
            "handler": check_handler(handler),
            "runtime": check_runtime(runtime),
            "environment": check_environment(environment),
            "timeout": check_timeout(timeout_s),
        }
        if (self.root / name / "function.json").exists():
            raise FunctionExistsError(self._exists(name))
        with self._staging() as staging:
            code_name, summary = self._stage_code(code_dir, staging)
            now = _timestamp()
            doc.update(created=now, lastModified=now, **self._code_fields(code_name, summary))
            _write_json(staging / "function.json", doc)
            with self._lock():
                final = self.root / name
                if (final / "function.json").exists():
                    raise FunctionExistsError(self._exists(name))
                if final.exists():  # a leftover of a crash mid-delete: nothing readable in it
                    shutil.rmtree(final)
                os.rename(staging, final)
        return self._from_doc(name, doc)

    def update_code(self, name: str, code_dir: Path) -> Function:
        """Replace the function's code with a copy of ``code_dir``; configuration stays."""
        self.get(name)
        with self._staging() as staging:
            code_name, summary = self._stage_code(code_dir, staging)
            with self._lock():
                try:
                    doc = json.loads((self.root / name / "function.json").read_text("utf-8"))
                except FileNotFoundError:  # deleted while the code was being copied
                    raise FunctionNotFoundError(self._missing(name)) from None
                old = doc.get("codeDir")
                os.rename(staging / code_name, self.root / name / code_name)
                doc.update(lastModified=_timestamp(), **self._code_fields(code_name, summary))
                _write_json(self.root / name / "function.json", doc)
        if isinstance(old, str) and _CODE_DIR_RE.fullmatch(old) and old != code_name:
            shutil.rmtree(self.root / name / old, ignore_errors=True)
        return self._from_doc(name, doc)

    def delete(self, name: str) -> None:
        self.get(name)
        trash = self.root / ".trash" / uuid.uuid4().hex
        trash.parent.mkdir(parents=True, exist_ok=True)
        with self._lock():
            try:
                os.rename(self.root / name, trash)
            except FileNotFoundError:
                raise FunctionNotFoundError(self._missing(name)) from None
        shutil.rmtree(trash, ignore_errors=True)

    # --- helpers ----------------------------------------------------------------------------

    def _stage_code(self, code_dir: Path, staging: Path) -> tuple[str, CodeSummary]:
        code_name = f"code-{uuid.uuid4().hex[:12]}"
        summary = copy_code(Path(code_dir), staging / code_name, max_bytes=self.max_code_bytes)
        return code_name, summary

    @staticmethod
    def _code_fields(code_name: str, summary: CodeSummary) -> dict[str, Any]:
        return {"codeDir": code_name, "codeSha256": summary.sha256, "codeSize": summary.bytes}

    @contextlib.contextmanager
    def _staging(self) -> Iterator[Path]:
        staging = self.root / ".staging" / uuid.uuid4().hex
        staging.mkdir(parents=True)
        try:
            yield staging
        finally:
            shutil.rmtree(staging, ignore_errors=True)  # gone already when it was renamed in

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _from_doc(self, name: str, doc: dict[str, Any]) -> Function:
        code_name = doc.get("codeDir")
        if not isinstance(code_name, str) or not _CODE_DIR_RE.fullmatch(code_name):
            raise FunctionNotFoundError(f"function {name}'s function.json is damaged (codeDir)")
        return Function(
            name=name,
            arn=str(doc.get("arn") or self.arn(name)),
            handler=str(doc["handler"]),
            runtime=str(doc.get("runtime") or DEFAULT_RUNTIME),
            environment={str(k): str(v) for k, v in (doc.get("environment") or {}).items()},
            timeout_s=int(doc.get("timeout") or DEFAULT_TIMEOUT_S),
            created=str(doc.get("created", "")),
            last_modified=str(doc.get("lastModified") or doc.get("created", "")),
            code_sha256=str(doc.get("codeSha256", "")),
            code_size=int(doc.get("codeSize") or 0),
            code_dir=self.root / name / code_name,
        )

    def _missing(self, name: str) -> str:
        return (
            f"function '{name}' does not exist; create it with "
            f"stageline function create {name} --handler MODULE.FUNCTION --code DIR"
        )

    @staticmethod
    def _exists(name: str) -> str:
        return (
            f"function '{name}' exists already; delete it first (stageline function delete "
            f"{name}) or replace its code (stageline function update-code {name} --code DIR)"
        )


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
