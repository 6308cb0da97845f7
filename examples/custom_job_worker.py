#!/usr/bin/env python3
"""A job worker for a custom CodePipeline action, written with nothing but boto3.

It is the worker AWS's documentation describes for custom actions ("Create and add
a custom action in CodePipeline"), and it runs unchanged against AWS or stageline:

1. make sure its action type ``Test/Custom/StagelineExampleTester/1`` exists
   (CreateCustomActionType if ListActionTypes does not show it);
2. PollForJobs for that type (optionally only jobs whose queryable ``Suite`` has
   a given value), AcknowledgeJob with the nonce the poll returned;
3. "run the suite": count the files of its input artifacts, then pause and
   compute a result from the action's configuration. On AWS the artifacts are
   read from S3 with the job's ``artifactCredentials``; stageline has no S3 API
   yet, so there they come from its job-scoped artifact route
   (``GET /_stageline/jobs/<job>/artifacts/<name>``, authenticated by the job's nonce);
4. report PutJobSuccessResult (execution details and output variables) or
   PutJobFailureResult.

A long-running action (configuration ``Steps`` greater than 1) reports progress
the way AWS intends: each job does one step and answers PutJobSuccessResult with
a ``continuationToken`` ("step-2", "step-3", ...). The action stays InProgress,
and CodePipeline queues a new job whose ``data.continuationToken`` says where to
resume; the last step answers without a token and the action succeeds.

Against stageline the worker also uses its extension headers, which AWS ignores:
``X-Stageline-Wait-Seconds`` (long polling), ``X-Stageline-Worker`` (its name on the
jobs it claims) and the response header ``X-Stageline-Lease-Seconds`` (how often to
re-acknowledge a job so that it is not handed to another worker).

Run it against ``make run`` (see examples/README.md)::

    export AWS_ACCESS_KEY_ID=stageline AWS_SECRET_ACCESS_KEY=stageline AWS_DEFAULT_REGION=us-east-1
    python examples/custom_job_worker.py --endpoint-url http://127.0.0.1:8787

Options: ``--once`` works through the jobs available now and exits; ``--fail``
reports every job as failed; ``--query-param Suite=smoke`` takes only the jobs of
actions configured with that suite. The endpoint can also come from
``AWS_ENDPOINT_URL_CODEPIPELINE`` or ``AWS_ENDPOINT_URL``, which boto3 reads itself.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import zipfile
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

log = logging.getLogger("custom_job_worker")

ACTION_TYPE = {
    "category": "Test",
    "owner": "Custom",
    "provider": "StagelineExampleTester",
    "version": "1",
}

# The definition CreateCustomActionType registers. Only one property may be queryable,
# and it must be required, a key and not secret (AWS's rules).
DEFINITION: dict[str, Any] = {
    "category": ACTION_TYPE["category"],
    "provider": ACTION_TYPE["provider"],
    "version": ACTION_TYPE["version"],
    "settings": {
        "entityUrlTemplate": "https://tests.example.com/suites/{Config:Suite}",
        "executionUrlTemplate": "https://tests.example.com/suites/{Config:Suite}/runs/{ExternalExecutionId}",
    },
    "configurationProperties": [
        {
            "name": "Suite",
            "required": True,
            "key": True,
            "secret": False,
            "queryable": True,
            "description": "The test suite to run; workers can poll for one suite only.",
            "type": "String",
        },
        {
            "name": "Token",
            "required": False,
            "key": False,
            "secret": True,
            "queryable": False,
            "description": "Credential for the test service; reads back as ****.",
            "type": "String",
        },
        {
            "name": "Steps",
            "required": False,
            "key": False,
            "secret": False,
            "queryable": False,
            "description": "Steps of a long run, reported with continuation tokens (default 1).",
            "type": "Number",
        },
        {
            "name": "StepSeconds",
            "required": False,
            "key": False,
            "secret": False,
            "queryable": False,
            "description": "How long each step works (default 0.2 seconds).",
            "type": "Number",
        },
    ],
    "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 5},
    "outputArtifactDetails": {"minimumCount": 0, "maximumCount": 0},
}


class ConfigurationProblem(Exception):
    """The action's configuration cannot be run; reported as ConfigurationError."""


def make_client(endpoint_url: str | None, region: str | None) -> Any:
    session = boto3.Session(region_name=region or None)
    if session.region_name is None:
        session = boto3.Session(region_name="us-east-1")
    kwargs: dict[str, Any] = {}
    if endpoint_url and session.get_credentials() is None:
        # stageline does not check signatures yet, but botocore needs something to sign with.
        kwargs = {"aws_access_key_id": "stageline", "aws_secret_access_key": "stageline"}
    return session.client(
        "codepipeline",
        endpoint_url=endpoint_url,
        # A long poll may take up to 20 s; keep the read timeout well above it.
        config=Config(read_timeout=60, retries={"max_attempts": 3, "mode": "standard"}),
        **kwargs,
    )


def add_stageline_headers(client: Any, worker: str, wait_seconds: float) -> None:
    """Send stageline's extension headers on polls; AWS ignores headers it does not know."""

    def add(request: Any, **_: Any) -> None:
        request.headers["X-Stageline-Worker"] = worker
        if wait_seconds > 0:
            request.headers["X-Stageline-Wait-Seconds"] = str(wait_seconds)

    client.meta.events.register("before-sign.codepipeline.PollForJobs", add)


def ensure_action_type(client: Any) -> None:
    """Create the custom action type unless it exists (several workers may race to it)."""
    if _action_type_exists(client):
        return
    try:
        client.create_custom_action_type(**DEFINITION)
        log.info("created custom action type %s", "/".join(ACTION_TYPE.values()))
    except ClientError:
        if not _action_type_exists(client):  # another worker did not create it first
            raise


def _action_type_exists(client: Any) -> bool:
    pages = client.get_paginator("list_action_types").paginate(actionOwnerFilter="Custom")
    return any(t["id"] == ACTION_TYPE for page in pages for t in page["actionTypes"])


class Heartbeat:
    """Re-acknowledges a job while it runs, so that its lease does not run out.

    stageline hands a job to another worker when its lease (``X-Stageline-Lease-Seconds``)
    passes without an acknowledgement; on AWS, where the header is absent, nothing is sent.
    """

    def __init__(self, client: Any, job: dict[str, Any], lease_seconds: float | None) -> None:
        self.client = client
        self.job = job
        self.interval = lease_seconds / 3 if lease_seconds else None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def __enter__(self) -> Heartbeat:
        if self.interval:
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _beat(self) -> None:
        assert self.interval is not None
        while not self._stop.wait(self.interval):
            try:
                self.client.acknowledge_job(jobId=self.job["id"], nonce=self.job["nonce"])
            except ClientError as exc:
                log.warning("heartbeat for job %s failed: %s", self.job["id"], exc)


def count_input_files(job: dict[str, Any], endpoint_url: str | None) -> str:
    """The number of files in the job's input artifacts (zip archives), or "unknown"."""
    total = 0
    for artifact in job["data"].get("inputArtifacts", []):
        try:
            with tempfile.TemporaryFile() as spool:
                download(job, artifact, endpoint_url, spool)
                spool.seek(0)
                with zipfile.ZipFile(spool) as archive:
                    total += sum(1 for info in archive.infolist() if not info.is_dir())
        except Exception as exc:  # the suite still runs; it just cannot say what it tested
            log.warning("input artifact %s could not be read: %s", artifact["name"], exc)
            return "unknown"
    return str(total)


def download(
    job: dict[str, Any], artifact: dict[str, Any], endpoint_url: str | None, out: Any
) -> None:
    if endpoint_url:  # stageline: the job-scoped artifact route
        name = urllib.parse.quote(artifact["name"], safe="")
        request = urllib.request.Request(
            f"{endpoint_url.rstrip('/')}/_stageline/jobs/{job['id']}/artifacts/{name}",
            headers={"X-Stageline-Nonce": job["nonce"]},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            shutil.copyfileobj(response, out)
        return
    # AWS: the artifact bucket, with the temporary credentials that came with the job.
    creds = job["data"]["artifactCredentials"]
    s3 = boto3.client(
        "s3",
        aws_access_key_id=creds["accessKeyId"],
        aws_secret_access_key=creds["secretAccessKey"],
        aws_session_token=creds["sessionToken"],
    )
    location = artifact["location"]["s3Location"]
    s3.download_fileobj(location["bucketName"], location["objectKey"], out)


def run_step(job: dict[str, Any], *, fail: bool, endpoint_url: str | None = None) -> dict[str, Any]:
    """Do one step of the job; return the PutJobSuccessResult / PutJobFailureResult arguments."""
    data = job["data"]
    config = data["actionConfiguration"]["configuration"]
    suite = config.get("Suite")
    if not suite:
        raise ConfigurationProblem("the action has no Suite configured")
    try:
        steps = int(config.get("Steps") or 1)
        step_seconds = float(config.get("StepSeconds") or 0.2)
    except ValueError as exc:
        raise ConfigurationProblem(f"Steps and StepSeconds must be numbers: {exc}") from exc
    if steps < 1 or not 0 <= step_seconds <= 600:
        raise ConfigurationProblem("Steps must be at least 1 and StepSeconds 0 to 600")
    # A continuation job says where the previous job left off.
    token = data.get("continuationToken")
    step = int(token.removeprefix("step-")) if token else 1

    time.sleep(step_seconds)  # the "work"

    # Stable over all the jobs of one action, so every step points at the same run.
    run_id = f"{suite}-{data['pipelineContext']['action']['actionExecutionId'][:8]}"
    total = 10 + int(hashlib.sha256(suite.encode()).hexdigest()[:4], 16) % 40
    if fail:
        return {
            "failureDetails": {
                "type": "JobFailed",
                "message": f"suite {suite}: 3 of {total} tests failed (the worker runs with --fail)",
                "externalExecutionId": run_id,
            }
        }
    if step < steps:
        return {
            "continuationToken": f"step-{step + 1}",
            "executionDetails": {
                "summary": f"suite {suite}: step {step} of {steps} done",
                "externalExecutionId": run_id,
                "percentComplete": 100 * step // steps,
            },
        }
    inputs = ",".join(
        f"{a['name']}@{a['revision']}" if a.get("revision") else a["name"]
        for a in data.get("inputArtifacts", [])
    )
    variables = {
        "Suite": suite,
        "TestsRun": str(total),
        "TestsPassed": str(total),
        "RunId": run_id,
        "Steps": str(steps),
        "Authenticated": "yes" if config.get("Token") else "no",
    }
    if token:
        variables["ResumedFrom"] = token
    if inputs:
        variables["Inputs"] = inputs
        variables["InputFiles"] = count_input_files(job, endpoint_url)
    return {
        "executionDetails": {
            "summary": f"suite {suite}: {total} of {total} tests passed",
            "externalExecutionId": run_id,
            "percentComplete": 100,
        },
        "outputVariables": variables,
    }


def process(
    client: Any,
    job: dict[str, Any],
    *,
    fail: bool,
    lease_seconds: float | None,
    endpoint_url: str | None = None,
) -> str:
    """Acknowledge, run and report one job; returns what happened, for the log."""
    job_id = job["id"]
    status = client.acknowledge_job(jobId=job_id, nonce=job["nonce"])["status"]
    if status != "InProgress":  # e.g. abandoned by StopPipelineExecution in the meantime
        return f"skipped ({status})"
    try:
        with Heartbeat(client, job, lease_seconds):
            result = run_step(job, fail=fail, endpoint_url=endpoint_url)
    except ConfigurationProblem as exc:
        result = {"failureDetails": {"type": "ConfigurationError", "message": str(exc)}}
    except Exception as exc:  # the worker must always answer, or the action waits for its timeout
        log.exception("job %s crashed", job_id)
        result = {"failureDetails": {"type": "JobFailed", "message": f"worker error: {exc}"}}
    try:
        if "failureDetails" in result:
            client.put_job_failure_result(jobId=job_id, **result)
            return f"failed: {result['failureDetails']['message']}"
        client.put_job_success_result(jobId=job_id, **result)
    except ClientError as exc:
        # InvalidJobStateException: the job was abandoned or timed out while we worked.
        return f"result refused: {exc.response['Error']['Code']}"
    if "continuationToken" in result:
        return f"continuing with {result['continuationToken']}"
    return f"succeeded: {result['executionDetails']['summary']}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--endpoint-url", help="e.g. http://127.0.0.1:8787 (default: AWS)")
    parser.add_argument("--region", help="default: AWS_DEFAULT_REGION, else us-east-1")
    parser.add_argument(
        "--once", action="store_true", help="work through the jobs available now, then exit"
    )
    parser.add_argument("--fail", action="store_true", help="report every job as failed")
    parser.add_argument(
        "--query-param",
        metavar="KEY=VALUE",
        help="take only jobs whose queryable property has this value, e.g. Suite=smoke",
    )
    parser.add_argument(
        "--wait-seconds",
        type=float,
        help="long-poll this long on stageline (default 20, or 0 with --once)",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=2.0,
        help="pause after an empty poll that did not wait (AWS answers at once)",
    )
    parser.add_argument("--batch", type=int, default=1, help="jobs per poll (maxBatchSize)")
    parser.add_argument("--name", default=f"example-tester@{socket.gethostname()}")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    # SIGTERM stops the worker like Ctrl-C. A job interrupted half way is not reported:
    # its lease runs out and the server hands it to another worker.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    wait = args.wait_seconds if args.wait_seconds is not None else (0.0 if args.once else 20.0)
    client = make_client(args.endpoint_url, args.region)
    add_stageline_headers(client, args.name, wait)
    ensure_action_type(client)

    poll: dict[str, Any] = {"actionTypeId": ACTION_TYPE, "maxBatchSize": args.batch}
    if args.query_param:
        key, _, value = args.query_param.partition("=")
        poll["queryParam"] = {key: value}
    log.info(
        "polling for %s jobs%s",
        "/".join(ACTION_TYPE.values()),
        f" ({args.query_param})" if args.query_param else "",
    )
    done = 0
    try:
        while True:
            started = time.monotonic()
            answer = client.poll_for_jobs(**poll)
            lease = answer["ResponseMetadata"]["HTTPHeaders"].get("x-stageline-lease-seconds")
            for job in answer["jobs"]:
                suite = job["data"]["actionConfiguration"]["configuration"].get("Suite")
                outcome = process(
                    client,
                    job,
                    fail=args.fail,
                    lease_seconds=float(lease) if lease else None,
                    # Only stageline sends the lease header; its artifacts come over HTTP.
                    endpoint_url=client.meta.endpoint_url if lease else None,
                )
                log.info("job %s (suite %s): %s", job["id"], suite, outcome)
                done += 1
            if answer["jobs"]:
                continue
            if args.once:
                break
            if wait == 0 or time.monotonic() - started < wait / 2:
                time.sleep(args.interval)  # the server did not long-poll (AWS answers at once)
    except KeyboardInterrupt:
        pass
    log.info("processed %d job(s)", done)
    return 0


if __name__ == "__main__":
    sys.exit(main())
