"""The Lambda invoke action (``Invoke/AWS/Lambda/1``): a locally registered function, really run.

What we copy from AWS's "AWS Lambda invoke action reference":

* ``FunctionName`` (required) names the function: a name, ``name:qualifier``
  or a function ARN; ``UserParameters`` (optional) reaches it in the event.
* The function gets the event ``{"CodePipeline.job": {"id", "accountId",
  "data"}}`` (:mod:`.event`) and must itself call ``PutJobSuccessResult`` or
  ``PutJobFailureResult``: its output variables, failure details and
  continuation token travel through the job API, and the job's final status
  there is the action's result (``JobResult.reported_externally``).
* The function runs like Lambda's Python runtime (:mod:`.bootstrap`): a
  ``context`` with ``aws_request_id`` and ``get_remaining_time_in_millis()``,
  the function's timeout counted from the call (Lambda's 10 s init limit
  for imports before it), ``START``/``END``/``REPORT`` lines around its output,
  ``[ERROR] Type: message`` and the traceback for an uncaught exception.
* Its environment has Lambda's variables (``AWS_LAMBDA_FUNCTION_NAME``,
  ``AWS_REGION``, the job's ``artifactCredentials`` as ``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``...), and nothing of the
  agent's own, so ``boto3.client("codepipeline")`` reaches this server through
  ``AWS_ENDPOINT_URL_CODEPIPELINE`` with credentials scoped to the job.

Where stageline goes further (DESIGN.md §4): a function that returns without
having called back fails the action at once, with the reason, instead of
hanging until the action's timeout. We allow a second for a callback still
in flight; and a function that returned but left processes running (it
handed the work to something in the background) is waited for until the
action's timeout, its processes stopped when the action ends.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from stageline.definitions.catalog import ActionTypeKey
from stageline.functions import (
    Function,
    FunctionNotFoundError,
    FunctionStore,
    InvalidFunctionError,
    UnsafeCodeError,
    parse_reference,
)
from stageline.providers.base import JobContext, JobResult
from stageline.providers.invoke import bootstrap
from stageline.providers.invoke.event import account_of, build_event, credentials_of
from stageline.providers.invoke.process import FunctionProcess
from stageline.runner.shell import build_clean_env

JobStatusFn = Callable[[str], str]
OPEN_STATUSES = frozenset({"Created", "Queued", "Dispatched", "InProgress"})
DOCS_URL = (
    "https://docs.aws.amazon.com/codepipeline/latest/userguide/actions-invoke-lambda-function.html"
)
#: Lambda's limit on a function's init phase (importing the handler's module).
INIT_TIMEOUT_S = 10.0
_TICK_S = 0.05
_SLOW_POLL_AFTER_S = 2.0
_SLOW_POLL_S = 0.5
# How long a finished function's processes may take to exit before they are stopped.
_SETTLE_S = 0.5


@functools.cache
def _bootstrap_source() -> str:
    return Path(bootstrap.__file__).read_text(encoding="utf-8")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


class LambdaInvokeProvider:
    """Runs a Lambda invoke action's function on this machine; see the module docstring."""

    key = ActionTypeKey(category="Invoke", owner="AWS", provider="Lambda", version="1")

    def __init__(
        self,
        functions: FunctionStore,
        *,
        server_url: str | Callable[[], str],
        job_status: JobStatusFn,
        python: str = sys.executable,
        callback_grace_s: float = 1.0,
        init_timeout_s: float = INIT_TIMEOUT_S,
        kill_grace_s: float = 2.0,
    ) -> None:
        self.functions = functions
        self._server_url = server_url
        self._job_status = job_status
        self._python = python
        self._grace_s = callback_grace_s
        self._init_timeout_s = init_timeout_s
        self._kill_grace_s = kill_grace_s

    @property
    def server_url(self) -> str:
        url = self._server_url() if callable(self._server_url) else self._server_url
        return url.rstrip("/")

    def run(self, job: JobContext) -> JobResult:
        reference = job.configuration.get("FunctionName", "")
        if not reference:
            return JobResult.failed(
                "the Lambda invoke action needs FunctionName in its configuration",
                failure_type="ConfigurationError",
            )
        try:
            name = parse_reference(reference).name
        except InvalidFunctionError as exc:
            return JobResult.failed(str(exc), failure_type="ConfigurationError")
        private = job.workspace / ".stageline-lambda"
        code_dir = private / "code"
        for sub in ("home", "tmp"):
            (private / sub).mkdir(parents=True, exist_ok=True)
        try:
            function = self.functions.snapshot(name, code_dir)
        except FunctionNotFoundError:
            return JobResult.failed(
                f"function '{name}' does not exist; create it with stageline function create "
                f"{name} --handler MODULE.FUNCTION --code DIR",
                failure_type="ConfigurationError",
            )
        except (UnsafeCodeError, OSError) as exc:
            return JobResult.failed(f"could not prepare function '{name}''s code: {exc}")

        credentials = credentials_of(job)
        event = build_event(
            job, account_id=account_of(job, self.functions.account_id), credentials=credentials
        )
        event_file = private / "event.json"
        fd = os.open(event_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(event, f)
        request_id = str(uuid.uuid4())
        env = self.environment(job, function, code_dir, private, credentials)
        argv = [
            self._python,
            "-c",
            _bootstrap_source(),
            function.handler,
            str(event_file),
            "CONTROL_FD",
            str(function.timeout_s),
            request_id,
            function.arn,
        ]
        job.log(f"START RequestId: {request_id} Version: $LATEST")
        try:
            proc = FunctionProcess(argv, cwd=code_dir, env=env, log=job.log, control_fd_arg=5)
        except OSError as exc:
            return JobResult.failed(f"could not start function '{name}': {exc}")
        try:
            result = self._follow(job, function, proc)
            if proc.phase in ("returned", "error"):
                proc.settle(_SETTLE_S)
        finally:
            stopped = proc.stop(grace_s=self._kill_grace_s)
        if stopped:
            job.log(f"[stageline] stopped {stopped} process(es) the function left running")
        job.log(f"END RequestId: {request_id}")
        end = proc.finished_at or time.monotonic()
        report = f"REPORT RequestId: {request_id}\tDuration: {_ms(end - (proc.invoked_at or end))}"
        if proc.invoked_at is not None:
            report += f"\tInit Duration: {_ms(proc.invoked_at - proc.started)}"
        job.log(report)
        return result

    def environment(
        self,
        job: JobContext,
        function: Function,
        code_dir: Path,
        private: Path,
        credentials: dict[str, str],
    ) -> dict[str, str]:
        """A clean environment, the function's variables, then Lambda's own (which win)."""
        url = self.server_url
        region = job.pipeline.region or self.functions.region
        env = build_clean_env({"HOME": str(private / "home"), "TMPDIR": str(private / "tmp")})
        env.update({"PYTHONUNBUFFERED": "1", "AWS_ENDPOINT_URL": url})
        env.update(function.environment)
        python_path = [str(code_dir)]
        if function.environment.get("PYTHONPATH"):
            python_path.append(function.environment["PYTHONPATH"])
        stream = time.strftime("%Y/%m/%d", time.gmtime()) + f"/[$LATEST]{uuid.uuid4().hex}"
        env.update(
            {
                "PYTHONPATH": os.pathsep.join(python_path),
                "AWS_ENDPOINT_URL_CODEPIPELINE": url,
                "AWS_REGION": region,
                "AWS_DEFAULT_REGION": region,
                "AWS_ACCESS_KEY_ID": credentials["accessKeyId"],
                "AWS_SECRET_ACCESS_KEY": credentials["secretAccessKey"],
                "AWS_SESSION_TOKEN": credentials["sessionToken"],
                "AWS_LAMBDA_FUNCTION_NAME": function.name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": stream,
                "LAMBDA_TASK_ROOT": str(code_dir),
                "_HANDLER": function.handler,
            }
        )
        return env

    # --- following one invocation ------------------------------------------------------------

    def _follow(self, job: JobContext, function: Function, proc: FunctionProcess) -> JobResult:
        """Wait for the handler to finish, then for the job to reach a final status."""
        name = function.name
        while proc.phase in ("init", "invoke"):
            proc.pump(_TICK_S)
            if proc.phase not in ("init", "invoke"):
                break
            if proc.leader_exited():
                proc.pump(0)  # its last control message may have arrived with its exit
                if proc.phase in ("init", "invoke"):
                    return self._crashed(job, name, proc)
                break
            stop = self._stop_reason(job, name)
            if stop is not None:
                return stop
            now = time.monotonic()
            if proc.phase == "init" and now - proc.started > self._init_timeout_s:
                job.log(f"INIT_REPORT Init Duration: {_ms(now - proc.started)}\tStatus: timeout")
                return self._final_or(
                    job,
                    name,
                    f"function '{name}' did not finish importing its handler's module within "
                    f"{self._init_timeout_s:g} s (Lambda's init limit)",
                )
            if proc.invoked_at is not None and now - proc.invoked_at > function.timeout_s:
                job.log(f"Task timed out after {now - proc.invoked_at:.2f} seconds")
                return self._final_or(
                    job,
                    name,
                    f"function '{name}' timed out after {function.timeout_s} s (its timeout) "
                    "before reporting a result; raise its timeout or report sooner",
                )

        if (status := self._status(job)) not in OPEN_STATUSES:
            return self._reported(name, status)
        if proc.phase == "error":
            return self._raised(job, name, proc)
        return self._await_callback(job, name, proc)

    def _await_callback(self, job: JobContext, name: str, proc: FunctionProcess) -> JobResult:
        """The handler returned with the job still open: a callback may be in flight, or
        processes it left behind may still report. Fail once nothing is left that could."""
        returned = proc.finished_at or time.monotonic()
        quiet_since: float | None = None
        announced = False
        while True:
            waited = time.monotonic() - returned
            proc.pump(_TICK_S if waited < _SLOW_POLL_AFTER_S else _SLOW_POLL_S)
            if (status := self._status(job)) not in OPEN_STATUSES:
                return self._reported(name, status)
            now = time.monotonic()
            if proc.tree_alive():
                quiet_since = None
                if not announced and now - returned > self._grace_s:
                    announced = True
                    job.log(
                        f"[stageline] function '{name}' returned and left processes running; "
                        "waiting for them to call PutJobSuccessResult or PutJobFailureResult "
                        "until the action's timeout"
                    )
            else:
                quiet_since = quiet_since or now
                if now - quiet_since >= self._grace_s:
                    message = (
                        f"function '{name}' returned without calling PutJobSuccessResult or "
                        "PutJobFailureResult; a Lambda invoke action must report its result "
                        f"through the job API (see {DOCS_URL}). AWS would wait for the action's "
                        "timeout; stageline fails it at once"
                    )
                    job.log(f"[stageline] {message}")
                    return JobResult.failed(message, summary="the function did not report")
            stop = self._stop_reason(job, name)
            if stop is not None:
                return stop

    # --- outcomes ---------------------------------------------------------------------------

    def _status(self, job: JobContext) -> str:
        try:
            return self._job_status(job.job_id)
        except Exception:  # the server is busy or restarting: treat as still open, ask again
            return "InProgress"

    @staticmethod
    def _reported(name: str, status: str) -> JobResult:
        if status == "Succeeded":
            return JobResult(
                succeeded=True,
                summary=f"function '{name}' reported success",
                reported_externally=True,
            )
        return JobResult(
            succeeded=False,
            message=f"function '{name}' reported the job {status}",
            reported_externally=True,
        )

    def _final_or(self, job: JobContext, name: str, message: str) -> JobResult:
        """A failure with ``message`` unless the function reported before it came to this."""
        status = self._status(job)
        if status not in OPEN_STATUSES:
            return self._reported(name, status)
        return JobResult.failed(message, summary=message)

    def _stop_reason(self, job: JobContext, name: str) -> JobResult | None:
        if job.cancel.is_set():
            # The agent also cancels a job whose status it saw become final: the callback.
            return self._final_or(job, name, "the action was cancelled while its function ran")
        if job.deadline_monotonic is not None and time.monotonic() >= job.deadline_monotonic:
            return self._final_or(
                job,
                name,
                f"the action timed out: function '{name}' did not call PutJobSuccessResult or "
                "PutJobFailureResult before the action's timeout",
            )
        return None

    def _raised(self, job: JobContext, name: str, proc: FunctionProcess) -> JobResult:
        error = proc.error or {}
        error_type = str(error.get("errorType") or "Error")
        text = str(error.get("errorMessage") or "")
        frames = [str(f) for f in error.get("stackTrace") or []]
        where = ""
        if frames:
            # The innermost frame's first line: '  File "x.py", line 3, in handler'.
            where = f" ({frames[-1].strip().splitlines()[0]})"
        message = f"function '{name}' failed: {error_type}: {text}"[:2000] + where
        return JobResult.failed(message, summary=f"{error_type}: {text}"[:200])

    def _crashed(self, job: JobContext, name: str, proc: FunctionProcess) -> JobResult:
        code = proc.exit_status
        how = (
            f"was killed by signal {-code}" if code is not None and code < 0 else f"exited ({code})"
        )
        return self._final_or(
            job,
            name,
            f"function '{name}''s process {how} before its handler returned "
            "(Runtime.ExitError); see the action's log",
        )
