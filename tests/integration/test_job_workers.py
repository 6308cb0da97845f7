"""Custom actions worked by job workers: the example worker as a separate process,
and the job-worker API (PollForJobs and the rest) through boto3 and raw HTTP."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from stageline.api import shapes
from tests.support.declarations import action, approval
from tests.support.pipelines import Watcher, declaration, wait_until
from tests.support.server import ServerProcess, start_server
from tests.support.wire import ResponseRecorder

REPO = Path(__file__).resolve().parents[2]
WORKER = REPO / "examples" / "custom_job_worker.py"
TESTER = {
    "category": "Test",
    "owner": "Custom",
    "provider": "StagelineExampleTester",
    "version": "1",
}
SOURCE = {
    "category": "Source",
    "owner": "Custom",
    "provider": "StagelineTestSource",
    "version": "1",
}
# A partner action no built-in provider serves: its jobs wait for a third-party worker.
SNYK = {"category": "Invoke", "owner": "ThirdParty", "provider": "Snyk", "version": "1"}


# --- helpers ------------------------------------------------------------------------------


def worker_command(server: ServerProcess, *args: str) -> list[str]:
    """examples/custom_job_worker.py run by this venv's python, working off the queue once."""
    return [sys.executable, str(WORKER), "--endpoint-url", server.url, "--once", *args]


def run_worker(server: ServerProcess, *args: str, timeout: float = 30) -> str:
    """Run the example worker to completion in its own process; its output."""
    done = subprocess.run(
        worker_command(server, *args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_worker_env(),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _worker_env() -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "stageline",
        "AWS_SECRET_ACCESS_KEY": "stageline",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONUNBUFFERED": "1",
    }


def raw(url: str, operation: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    """One JSON 1.1 call over plain HTTP; a 200 answer is checked against botocore's shape."""
    response = httpx.post(
        f"{url}/",
        content=json.dumps(body),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"CodePipeline_20150709.{operation}",
            **headers,
        },
        timeout=30,
    )
    if response.status_code == 200:
        shape = shapes.service_model("codepipeline").operation_model(operation).output_shape
        assert shape is not None
        assert [v.render() for v in shapes.violations_of(shape, response.json())] == []
    return response


def error_code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def source_action(channel: str, output: str = "Src") -> dict[str, Any]:
    return action(
        "Source", "Source", SOURCE["provider"], owner="Custom", config={"Channel": channel},
        outputs=(output,),
    )  # fmt: skip


def suite_action(suite: str, **config: str) -> dict[str, Any]:
    return action(
        "Tests", "Test", TESTER["provider"], owner="Custom", config={"Suite": suite, **config},
        inputs=("Src",),
    )  # fmt: skip


def suite_pipeline(cp: Any, name: str, suite: str, **config: str) -> Watcher:
    cp.create_pipeline(
        pipeline=declaration(
            name, ("Source", [source_action(name)]), ("Test", [suite_action(suite, **config)])
        )
    )
    return Watcher(cp, name)


def poll_one(
    cp: Any, type_id: dict[str, str], query: dict[str, str], timeout: float = 15
) -> dict[str, Any]:
    """Poll (short polls, as plain boto3 does) until a job of ``query`` is handed out."""

    def probe() -> dict[str, Any] | None:
        jobs = cp.poll_for_jobs(actionTypeId=type_id, maxBatchSize=1, queryParam=query)["jobs"]
        return jobs[0] if jobs else None

    return wait_until(probe, timeout)


def finish_source(
    cp: Any, channel: str, revision: str = "rev-1", files: dict[str, str] | None = None
) -> dict[str, Any]:
    """Play the custom source's worker: claim its job, upload ``files`` as its output
    artifact (stageline's job-scoped artifact route) and report a revision."""
    job = poll_one(cp, SOURCE, {"Channel": channel})
    assert cp.acknowledge_job(jobId=job["id"], nonce=job["nonce"])["status"] == "InProgress"
    if files is not None:
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as z:
            for path, text in files.items():
                z.writestr(path, text)
        uploaded = httpx.put(
            f"{cp.meta.endpoint_url}/_stageline/jobs/{job['id']}/artifacts/Src",
            content=archive.getvalue(),
            headers={"X-Stageline-Nonce": job["nonce"]},
        )
        assert uploaded.status_code == 200, uploaded.text
    cp.put_job_success_result(
        jobId=job["id"],
        currentRevision={"revision": revision, "changeIdentifier": revision},
        executionDetails={"summary": f"revision {revision}", "percentComplete": 100},
    )
    return job


def suite_waiting(w: Watcher) -> bool:
    s = w.stage("Test")
    return s.get("latestExecution", {}).get("status") == "InProgress"


def snyk_pipeline(cp: Any, name: str) -> Watcher:
    """Source (the tests' custom source, finished here) -> Scan (Snyk, third party) -> Gate."""
    snyk = action(
        "Snyk", "Invoke", "Snyk", owner="ThirdParty", inputs=("Src",), outputs=("Scanned",)
    )
    cp.create_pipeline(
        pipeline=declaration(
            name,
            ("Source", [source_action(name)]),
            ("Scan", [snyk]),
            ("Gate", [approval()]),
        )
    )
    w = Watcher(cp, name)
    finish_source(cp, name, files={"app.py": "print(1)\n"})
    return w


def poll_third_party(cp: Any) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        jobs = cp.poll_for_third_party_jobs(actionTypeId=SNYK, maxBatchSize=1)["jobs"]
        return jobs[0] if jobs else None

    return wait_until(probe, 15)


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def client(server: ServerProcess) -> Iterator[Any]:
    c = server.client("codepipeline")
    recorder = ResponseRecorder(c)
    yield c
    assert recorder.violations == []


@pytest.fixture(scope="module", autouse=True)
def action_types(server: ServerProcess) -> str:
    """The example worker registers its own type; the tests' custom source is made here."""
    out = run_worker(server)
    server.client("codepipeline").create_custom_action_type(
        category="Source",
        provider=SOURCE["provider"],
        version="1",
        configurationProperties=[
            {"name": "Channel", "required": True, "key": True, "secret": False, "queryable": True},
            {"name": "Label", "required": False, "key": False, "secret": False},
        ],
        inputArtifactDetails={"minimumCount": 0, "maximumCount": 0},
        outputArtifactDetails={"minimumCount": 1, "maximumCount": 1},
    )
    return out


# --- the example worker, a separate process ----------------------------------------------


def test_the_worker_creates_its_action_type_once(
    client: Any, server: ServerProcess, action_types: str
) -> None:
    assert "created custom action type Test/Custom/StagelineExampleTester/1" in action_types
    assert "processed 0 job(s)" in action_types
    custom = client.list_action_types(actionOwnerFilter="Custom")["actionTypes"]
    tester = next(t for t in custom if t["id"] == TESTER)
    props = {p["name"]: p for p in tester["actionConfigurationProperties"]}
    assert props["Suite"]["queryable"] and props["Suite"]["required"] and props["Suite"]["key"]
    assert props["Token"]["secret"]
    assert tester["settings"]["executionUrlTemplate"].endswith("{ExternalExecutionId}")
    again = run_worker(server)  # it exists now: nothing created, no error
    assert "created custom action type" not in again


def test_a_worker_process_succeeds_the_action_with_details_and_variables(
    client: Any, server: ServerProcess, unique: str
) -> None:
    name, suite = f"jw-ok-{unique}", f"smoke-{unique}"
    w = suite_pipeline(client, name, suite, Token="s3cret-token")
    ex = w.latest()
    files = {"app.py": "print('hi')\n", "tests/test_app.py": "def test(): pass\n", "VERSION": "1\n"}
    finish_source(client, name, revision=f"commit-{unique}", files=files)
    wait_until(lambda: suite_waiting(w))
    out = run_worker(server, "--query-param", f"Suite={suite}")
    assert "succeeded" in out and "processed 1 job(s)" in out
    assert w.finished(ex) == "Succeeded"

    tests = w.actions(ex)["Tests"]
    variables = tests["output"]["outputVariables"]
    run_id = variables["RunId"]
    assert variables["Suite"] == suite
    assert variables["TestsRun"] == variables["TestsPassed"] != "0"
    assert variables["Inputs"] == f"Src@commit-{unique}"  # the input's revision reached the worker
    assert variables["InputFiles"] == "3"  # and it read the artifact itself
    assert variables["Authenticated"] == "yes"  # the secret reached the worker...
    assert "s3cret-token" not in json.dumps(variables)
    declared = client.get_pipeline(name=name)["pipeline"]["stages"][1]["actions"][0]
    assert declared["configuration"]["Token"] == "****"  # ...and reads back masked
    assert tests["output"]["executionResult"]["externalExecutionId"] == run_id
    assert tests["output"]["executionResult"]["externalExecutionSummary"].endswith("tests passed")

    state = w.action_state("Test", "Tests")
    latest = state["latestExecution"]
    assert latest["status"] == "Succeeded"
    assert (
        latest["summary"]
        == f"suite {suite}: {variables['TestsRun']} of {variables['TestsRun']} tests passed"
    )
    assert latest["externalExecutionId"] == run_id and latest["percentComplete"] == 100
    # Rendered from the type's settings, as the AWS console shows them.
    assert state["entityUrl"] == f"https://tests.example.com/suites/{suite}"
    assert latest["externalExecutionUrl"] == (
        f"https://tests.example.com/suites/{suite}/runs/{run_id}"
    )


def test_a_worker_process_fails_the_execution_with_its_message(
    client: Any, server: ServerProcess, unique: str
) -> None:
    name, suite = f"jw-fail-{unique}", f"broken-{unique}"
    w = suite_pipeline(client, name, suite)
    ex = w.latest()
    finish_source(client, name)
    wait_until(lambda: suite_waiting(w))
    out = run_worker(server, "--fail", "--query-param", f"Suite={suite}")
    assert "failed: suite" in out
    assert w.finished(ex) == "Failed"
    latest = w.action_state("Test", "Tests")["latestExecution"]
    assert latest["status"] == "Failed"
    assert latest["errorDetails"]["code"] == "JobFailed"
    assert latest["errorDetails"]["message"].startswith(f"suite {suite}: 3 of ")
    assert "--fail" in latest["errorDetails"]["message"]
    assert w.stage("Test")["latestExecution"]["status"] == "Failed"


def test_continuation_tokens_keep_the_action_running_and_show_progress(
    client: Any, server: ServerProcess, unique: str
) -> None:
    name, suite = f"jw-long-{unique}", f"long-{unique}"
    w = suite_pipeline(client, name, suite, Steps="3", StepSeconds="0.8")
    ex = w.latest()
    finish_source(client, name)
    wait_until(lambda: suite_waiting(w))
    proc = subprocess.Popen(
        worker_command(server, "--query-param", f"Suite={suite}"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_worker_env(),
    )
    seen: list[tuple[str, int | None, str | None]] = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            latest = w.action_state("Test", "Tests").get("latestExecution", {})
            snapshot = (latest.get("status"), latest.get("percentComplete"), latest.get("summary"))
            if not seen or seen[-1] != snapshot:
                seen.append(snapshot)
            if snapshot[0] != "InProgress":
                break
            time.sleep(0.05)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out
    assert ("InProgress", 33, f"suite {suite}: step 1 of 3 done") in seen, seen
    assert ("InProgress", 66, f"suite {suite}: step 2 of 3 done") in seen, seen
    assert seen[-1][:2] == ("Succeeded", 100), seen
    assert "continuing with step-2" in out and "continuing with step-3" in out
    assert w.finished(ex) == "Succeeded"
    details = client.list_action_executions(pipelineName=name, filter={"pipelineExecutionId": ex})[
        "actionExecutionDetails"
    ]
    tests = [d for d in details if d["actionName"] == "Tests"]
    assert len(tests) == 1  # three jobs, one action execution
    assert tests[0]["output"]["outputVariables"]["ResumedFrom"] == "step-3"


# --- the API, driven with boto3 directly --------------------------------------------------


def test_job_details_nonces_and_results_reported_twice(client: Any, unique: str) -> None:
    name, suite = f"jw-api-{unique}", f"api-{unique}"
    w = suite_pipeline(client, name, suite, Token="hush")
    ex = w.latest()
    finish_source(client, name, revision="r42")
    job = poll_one(client, TESTER, {"Suite": suite})
    data = job["data"]
    assert job["accountId"] == "123456789012" and job["nonce"]
    assert data["actionTypeId"] == TESTER
    assert data["actionConfiguration"]["configuration"] == {"Suite": suite, "Token": "hush"}
    ctx = data["pipelineContext"]
    assert (ctx["pipelineName"], ctx["stage"]["name"], ctx["action"]["name"]) == (
        name, "Test", "Tests",
    )  # fmt: skip
    assert ctx["pipelineExecutionId"] == ex
    assert ctx["pipelineArn"].endswith(f":{name}")
    assert data["inputArtifacts"][0]["name"] == "Src"
    assert data["inputArtifacts"][0]["revision"] == "r42"
    assert data["inputArtifacts"][0]["location"]["type"] == "S3"
    assert set(data["artifactCredentials"]) == {"accessKeyId", "secretAccessKey", "sessionToken"}

    details = client.get_job_details(jobId=job["id"])["jobDetails"]
    assert details["id"] == job["id"] and details["data"] == data
    assert details["accountId"] == "123456789012"
    assert "nonce" not in details

    with pytest.raises(ClientError) as info:
        client.acknowledge_job(jobId=job["id"], nonce="not-the-nonce")
    assert error_code(info) == "InvalidNonceException"
    assert client.acknowledge_job(jobId=job["id"], nonce=job["nonce"])["status"] == "InProgress"
    client.put_job_success_result(jobId=job["id"], outputVariables={"Verdict": "ok"})
    assert w.finished(ex) == "Succeeded"

    with pytest.raises(ClientError) as info:
        client.put_job_success_result(jobId=job["id"])
    assert error_code(info) == "InvalidJobStateException"
    with pytest.raises(ClientError) as info:
        client.put_job_failure_result(
            jobId=job["id"], failureDetails={"type": "JobFailed", "message": "too late"}
        )
    assert error_code(info) == "InvalidJobStateException"
    assert w.actions(ex)["Tests"]["status"] == "Succeeded"  # unchanged by the refused reports

    missing = str(uuid.uuid4())
    for call in (
        lambda: client.get_job_details(jobId=missing),
        lambda: client.acknowledge_job(jobId=missing, nonce="n"),
        lambda: client.put_job_success_result(jobId=missing),
        lambda: client.put_job_failure_result(
            jobId=missing, failureDetails={"type": "JobFailed", "message": "x"}
        ),
    ):
        with pytest.raises(ClientError) as info:
            call()
        assert error_code(info) == "JobNotFoundException"


def test_polling_an_unknown_action_type(client: Any) -> None:
    unknown = {**TESTER, "provider": "NoSuchTester"}
    with pytest.raises(ClientError) as info:
        client.poll_for_jobs(actionTypeId=unknown, maxBatchSize=1)
    assert error_code(info) == "ActionTypeNotFoundException"


def test_query_param_hands_out_only_matching_jobs(client: Any, unique: str) -> None:
    names = [f"jw-q{i}-{unique}" for i in range(3)]
    for n in names:
        client.create_pipeline(
            pipeline=declaration(n, ("Source", [source_action(n)]), ("Gate", [approval()]))
        )
    for n in names:  # each pipeline's first execution has queued its source job
        Watcher(client, n).latest()
    wanted = names[1]
    jobs = client.poll_for_jobs(
        actionTypeId=SOURCE, maxBatchSize=10, queryParam={"Channel": wanted}
    )
    assert [j["data"]["pipelineContext"]["pipelineName"] for j in jobs["jobs"]] == [wanted]
    again = client.poll_for_jobs(
        actionTypeId=SOURCE, maxBatchSize=10, queryParam={"Channel": wanted}
    )
    assert again["jobs"] == []  # handed out once
    nobody = client.poll_for_jobs(
        actionTypeId=SOURCE, maxBatchSize=10, queryParam={"Channel": f"nobody-{unique}"}
    )
    assert nobody["jobs"] == []
    with pytest.raises(ClientError) as info:  # Label is not a queryable property
        client.poll_for_jobs(actionTypeId=SOURCE, maxBatchSize=1, queryParam={"Label": "x"})
    assert error_code(info) == "ValidationException"
    assert "Channel" in info.value.response["Error"]["Message"]
    for other in (names[0], names[2]):  # the others are still there for their workers
        got = client.poll_for_jobs(
            actionTypeId=SOURCE, maxBatchSize=10, queryParam={"Channel": other}
        )
        assert [j["data"]["pipelineContext"]["pipelineName"] for j in got["jobs"]] == [other]


def test_output_variables_past_the_quota_are_refused(client: Any, unique: str) -> None:
    name = f"jw-vars-{unique}"
    client.create_pipeline(
        pipeline=declaration(name, ("Source", [source_action(name)]), ("Gate", [approval()]))
    )
    w = Watcher(client, name)
    ex = w.latest()
    job = poll_one(client, SOURCE, {"Channel": name})
    client.acknowledge_job(jobId=job["id"], nonce=job["nonce"])
    with pytest.raises(ClientError) as info:
        client.put_job_success_result(
            jobId=job["id"], outputVariables={"Big": "x" * 100_000, "More": "y" * 30_000}
        )
    assert error_code(info) == "OutputVariablesSizeExceededException"
    assert "122880" in info.value.response["Error"]["Message"]
    # The refused report changed nothing: the job is still open and takes a good one.
    client.put_job_success_result(
        jobId=job["id"], outputVariables={"Big": "x" * 100_000, "Small": "ok"}
    )
    wait_until(lambda: w.stage("Gate").get("latestExecution", {}).get("status") == "InProgress")
    source = w.actions(ex)["Source"]
    assert source["status"] == "Succeeded"
    assert len(source["output"]["outputVariables"]["Big"]) == 100_000


def test_a_third_party_job_binds_to_the_first_client_token(
    server: ServerProcess, unique: str
) -> None:
    client = server.client("codepipeline")
    recorder = ResponseRecorder(client)
    name = f"jw-tp-{unique}"
    w = snyk_pipeline(client, name)
    ex = w.latest()
    handed = poll_third_party(client)
    assert set(handed) == {"clientId", "jobId"}
    mine, theirs = f"client-{unique}", f"other-{unique}"
    details = client.get_third_party_job_details(jobId=handed["jobId"], clientToken=mine)[
        "jobDetails"
    ]
    assert details["id"] == handed["jobId"] and details["nonce"]
    assert details["data"]["pipelineContext"]["pipelineName"] == name
    assert details["data"]["pipelineContext"]["stage"]["name"] == "Scan"
    assert [a["name"] for a in details["data"]["inputArtifacts"]] == ["Src"]

    refused = [
        lambda: client.get_third_party_job_details(jobId=handed["jobId"], clientToken=theirs),
        lambda: client.acknowledge_third_party_job(
            jobId=handed["jobId"], nonce=details["nonce"], clientToken=theirs
        ),
        lambda: client.put_third_party_job_success_result(
            jobId=handed["jobId"], clientToken=theirs
        ),
        lambda: client.put_third_party_job_failure_result(
            jobId=handed["jobId"],
            clientToken=theirs,
            failureDetails={"type": "JobFailed", "message": "not mine"},
        ),
    ]
    for call in refused:
        with pytest.raises(ClientError) as info:
            call()
        assert error_code(info) == "InvalidClientTokenException"

    ack = client.acknowledge_third_party_job(
        jobId=handed["jobId"], nonce=details["nonce"], clientToken=mine
    )
    assert ack["status"] == "InProgress"
    client.put_third_party_job_success_result(
        jobId=handed["jobId"],
        clientToken=mine,
        executionDetails={"summary": "no vulnerabilities", "externalExecutionId": "scan-42"},
    )
    wait_until(lambda: w.stage("Gate").get("latestExecution", {}).get("status") == "InProgress")
    state = w.action_state("Scan", "Snyk")
    assert state["latestExecution"]["status"] == "Succeeded"
    assert state["latestExecution"]["summary"] == "no vulnerabilities"
    assert state["latestExecution"]["externalExecutionId"] == "scan-42"
    assert (
        client.get_pipeline_execution(pipelineName=name, pipelineExecutionId=ex)[
            "pipelineExecution"
        ]["artifactRevisions"][0]["revisionId"]
        == "rev-1"
    )
    with pytest.raises(ClientError) as info:
        client.put_third_party_job_success_result(jobId=handed["jobId"], clientToken=mine)
    assert error_code(info) == "InvalidJobStateException"
    assert recorder.violations == []


def test_third_party_client_ids_are_uuids(server: ServerProcess, unique: str) -> None:
    client = server.client("codepipeline")
    recorder = ResponseRecorder(client)
    snyk_pipeline(client, f"jw-tpid-{unique}")
    handed = poll_third_party(client)
    assert str(uuid.UUID(handed["clientId"])) == handed["clientId"]
    assert recorder.violations == []


# --- stageline's extensions: long polling and leases --------------------------------------


def test_a_long_poll_returns_a_job_as_soon_as_it_is_queued(
    client: Any, server: ServerProcess, unique: str
) -> None:
    name = f"jw-lp-{unique}"
    answer: dict[str, Any] = {}

    def long_poll() -> None:
        body = {"actionTypeId": SOURCE, "maxBatchSize": 1, "queryParam": {"Channel": name}}
        response = raw(server.url, "PollForJobs", body, **{"X-Stageline-Wait-Seconds": "5"})
        answer["at"] = time.perf_counter()
        answer["response"] = response

    poller = threading.Thread(target=long_poll)
    started = time.perf_counter()
    poller.start()
    time.sleep(0.5)  # the poll is waiting at the server before the job exists
    assert poller.is_alive()
    queued = time.perf_counter()
    client.create_pipeline(  # queues the pipeline's first job
        pipeline=declaration(name, ("Source", [source_action(name)]), ("Gate", [approval()]))
    )
    poller.join(10)
    response = answer["response"]
    assert response.status_code == 200, response.text
    jobs = response.json()["jobs"]
    assert [j["data"]["pipelineContext"]["pipelineName"] for j in jobs] == [name]
    assert answer["at"] - queued < 2.0
    assert answer["at"] - started < 5.0  # it did not wait out its whole wait
    assert response.headers["X-Stageline-Lease-Seconds"] == "60"


def test_a_long_poll_that_finds_nothing_answers_after_the_wait(server: ServerProcess) -> None:
    body = {"actionTypeId": SOURCE, "maxBatchSize": 1, "queryParam": {"Channel": "nobody"}}
    started = time.perf_counter()
    response = raw(server.url, "PollForJobs", body, **{"X-Stageline-Wait-Seconds": "1.5"})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200 and response.json() == {"jobs": []}
    assert 1.4 <= elapsed < 4.0


@pytest.fixture
def short_lease_server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path / "short-lease", "--job-lease-seconds", "2")
    try:
        yield proc
    finally:
        proc.stop()


def test_a_job_whose_worker_goes_quiet_is_handed_out_again(
    short_lease_server: ServerProcess,
) -> None:
    server = short_lease_server
    cp = server.client("codepipeline")
    recorder = ResponseRecorder(cp)
    cp.create_custom_action_type(
        category="Source",
        provider=SOURCE["provider"],
        version="1",
        configurationProperties=[
            {"name": "Channel", "required": True, "key": True, "secret": False, "queryable": True}
        ],
        inputArtifactDetails={"minimumCount": 0, "maximumCount": 0},
        outputArtifactDetails={"minimumCount": 1, "maximumCount": 1},
    )
    for channel in ("quiet", "alive"):
        cp.create_pipeline(
            pipeline=declaration(
                channel, ("Source", [source_action(channel)]), ("Gate", [approval()])
            )
        )
    quiet = poll_one(cp, SOURCE, {"Channel": "quiet"})  # never acknowledged
    claimed = time.perf_counter()
    alive = poll_one(cp, SOURCE, {"Channel": "alive"})
    cp.acknowledge_job(jobId=alive["id"], nonce=alive["nonce"])

    stop = threading.Event()

    def heartbeat() -> None:  # what a live worker does: acknowledge again within the lease
        while not stop.wait(0.5):
            cp.acknowledge_job(jobId=alive["id"], nonce=alive["nonce"])

    beat = threading.Thread(target=heartbeat)
    beat.start()
    try:
        body = {"actionTypeId": SOURCE, "maxBatchSize": 1, "queryParam": {"Channel": "quiet"}}
        response = raw(server.url, "PollForJobs", body, **{"X-Stageline-Wait-Seconds": "6"})
        returned = time.perf_counter()
        assert response.headers["X-Stageline-Lease-Seconds"] == "2"
        again = response.json()["jobs"]
        assert [j["id"] for j in again] == [quiet["id"]]
        assert 1.5 <= returned - claimed < 5.0  # after the 2 s lease, checked every 0.25 s
        assert again[0]["nonce"] != quiet["nonce"]
        with pytest.raises(ClientError) as info:  # the first worker's nonce is void now
            cp.acknowledge_job(jobId=quiet["id"], nonce=quiet["nonce"])
        assert error_code(info) == "InvalidNonceException"
        time.sleep(max(0.0, claimed + 3.0 - time.perf_counter()))
        # Held for longer than a lease, but heartbeated: nobody else gets it.
        assert (
            cp.poll_for_jobs(actionTypeId=SOURCE, maxBatchSize=1, queryParam={"Channel": "alive"})[
                "jobs"
            ]
            == []
        )
    finally:
        stop.set()
        beat.join()
    cp.put_job_success_result(jobId=alive["id"])
    assert recorder.violations == []
