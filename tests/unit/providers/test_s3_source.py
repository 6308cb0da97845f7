"""The S3 source action against a real S3-compatible endpoint: moto_server in its own process."""

from __future__ import annotations

import io
import socket
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stageline.definitions.catalog import ActionTypeKey
from stageline.providers.base import JobContext, JobResult, PipelineContext
from stageline.providers.source.s3 import S3Source, S3SourceError
from tests.support.moto import CREDENTIALS, MotoServer, moto_server

KEY = ActionTypeKey(category="Source", owner="AWS", provider="S3", version="1")
BUCKET = "app-sources"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with moto_server() as server:
        server.versioned_bucket(BUCKET)
        yield server


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The provider reads credentials the standard way, from the environment."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def s3(moto: MotoServer) -> Any:
    return moto.client()


def zip_bytes(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


class Job:
    """A workspace with one output artifact, and a JobContext over it."""

    def __init__(self, root: Path) -> None:
        self.workspace = root / "ws"
        self.output = self.workspace / "out" / "SourceOut"
        self.output.mkdir(parents=True)
        self.lines: list[str] = []

    def context(self, key: str, **kw: Any) -> JobContext:
        configuration = {"S3Bucket": BUCKET, "S3ObjectKey": key, **kw.pop("configuration", {})}
        return JobContext(
            job_id="job-1",
            action_type=KEY,
            configuration=configuration,
            pipeline=PipelineContext(
                pipeline_name="web",
                pipeline_arn="arn:aws:codepipeline:us-east-1:123456789012:web",
                execution_id="exec-1",
                stage_name="Source",
                action_name="Source",
                action_execution_id="act-1",
                region="us-east-1",
                account_id="",
            ),
            workspace=self.workspace,
            inputs={},
            outputs={"SourceOut": self.output},
            log=self.lines.append,
            **kw,
        )

    def files(self) -> dict[str, str]:
        return {
            p.relative_to(self.output).as_posix(): p.read_text()
            for p in sorted(self.output.rglob("*"))
            if p.is_file()
        }


@pytest.fixture
def job(tmp_path: Path) -> Job:
    return Job(tmp_path)


@pytest.fixture
def source(moto: MotoServer) -> S3Source:
    return S3Source(endpoint_url=moto.url)


def put(s3: Any, key: str, body: bytes, **kw: Any) -> dict[str, Any]:
    return dict(s3.put_object(Bucket=BUCKET, Key=key, Body=body, **kw))


def test_takes_the_latest_version_and_extracts_the_zip(s3: Any, source: S3Source, job: Job) -> None:
    put(s3, "latest/app.zip", zip_bytes({"app.py": "v1\n"}))
    second = put(
        s3,
        "latest/app.zip",
        zip_bytes({"app.py": "v2\n", "lib/util.py": "x = 1\n"}),
        Metadata={"codepipeline-artifact-revision-summary": "Release 2: faster"},
    )

    result = source.run(job.context("latest/app.zip"))

    assert result.succeeded, result.message
    assert job.files() == {"app.py": "v2\n", "lib/util.py": "x = 1\n"}
    version = second["VersionId"]
    assert result.output_variables == {
        "ObjectKey": "latest/app.zip",
        "ETag": second["ETag"].strip('"'),
        "VersionId": version,
    }
    assert result.revision is not None
    assert result.revision.revision_id == version
    assert result.revision.summary == "Release 2: faster"
    assert result.revision.created_ms
    assert result.artifact_revisions == {"SourceOut": version}


def test_without_summary_metadata_the_revision_has_no_summary(
    s3: Any, source: S3Source, job: Job
) -> None:
    put(s3, "plain.zip", zip_bytes({"a.txt": "a"}))
    result = source.run(job.context("plain.zip"))
    assert result.succeeded and result.revision is not None
    assert result.revision.summary is None
    assert result.summary and "plain.zip" in result.summary


def test_a_pinned_version_is_taken_instead_of_the_latest(
    s3: Any, source: S3Source, job: Job
) -> None:
    first = put(s3, "pinned.zip", zip_bytes({"VERSION": "1"}))
    put(s3, "pinned.zip", zip_bytes({"VERSION": "2"}))

    result = source.run(
        job.context(
            "pinned.zip",
            source_revision=first["VersionId"],
            source_revision_type="S3_OBJECT_VERSION_ID",
        )
    )

    assert result.succeeded, result.message
    assert job.files() == {"VERSION": "1"}
    assert result.output_variables["VersionId"] == first["VersionId"]


def test_a_pinned_version_that_does_not_exist_is_unavailable(
    s3: Any, source: S3Source, job: Job
) -> None:
    put(s3, "gone.zip", zip_bytes({"a": "a"}))
    result = source.run(
        job.context(
            "gone.zip",
            source_revision="no-such-version",
            source_revision_type="S3_OBJECT_VERSION_ID",
        )
    )
    assert failure(result) == "RevisionUnavailable"
    assert "no-such-version" in str(result.message)


def test_an_unversioned_bucket_is_refused_with_the_fix(
    moto: MotoServer, source: S3Source, job: Job
) -> None:
    s3 = moto.client()
    s3.create_bucket(Bucket="unversioned-sources")
    s3.put_object(Bucket="unversioned-sources", Key="app.zip", Body=zip_bytes({"a": "a"}))

    result = source.run(job.context("app.zip", configuration={"S3Bucket": "unversioned-sources"}))

    assert failure(result) == "ConfigurationError"
    assert "aws s3api put-bucket-versioning --bucket unversioned-sources" in str(result.message)
    assert job.files() == {}


def test_a_missing_bucket_is_a_configuration_error(source: S3Source, job: Job) -> None:
    result = source.run(job.context("app.zip", configuration={"S3Bucket": "no-such-bucket"}))
    assert failure(result) == "ConfigurationError"
    assert "'no-such-bucket' does not exist" in str(result.message)


def test_a_missing_object_is_unavailable_and_says_how_to_upload(source: S3Source, job: Job) -> None:
    result = source.run(job.context("never/uploaded.zip"))
    assert failure(result) == "RevisionUnavailable"
    assert f"aws s3 cp FILE s3://{BUCKET}/never/uploaded.zip" in str(result.message)


def test_a_deleted_object_is_unavailable(s3: Any, source: S3Source, job: Job) -> None:
    put(s3, "deleted.zip", zip_bytes({"a": "a"}))
    s3.delete_object(Bucket=BUCKET, Key="deleted.zip")
    assert failure(source.run(job.context("deleted.zip"))) == "RevisionUnavailable"


def test_a_zip_slip_entry_is_refused_and_nothing_lands_outside(
    s3: Any, source: S3Source, job: Job
) -> None:
    put(s3, "evil.zip", zip_bytes({"ok.txt": "fine", "../../escaped.txt": "pwned"}))

    result = source.run(job.context("evil.zip"))

    assert failure(result) == "JobFailed"
    assert "escaped.txt" in str(result.message) and "refused" in str(result.message)
    assert not list(job.workspace.parent.rglob("escaped.txt"))


def test_an_object_that_is_not_a_zip_is_placed_under_its_base_name(
    s3: Any, source: S3Source, job: Job
) -> None:
    put(s3, "config/prod/settings.json", b'{"replicas": 3}')
    # Named .zip but not one: the content decides, as a later action unzipping it would.
    put(s3, "notes.zip", b"PK but not really a zip")

    result = source.run(job.context("config/prod/settings.json"))
    assert result.succeeded, result.message
    assert job.files() == {"settings.json": '{"replicas": 3}'}

    other = Job(job.workspace.parent / "second")
    assert source.run(other.context("notes.zip")).succeeded
    assert other.files() == {"notes.zip": "PK but not really a zip"}


def test_key_override_is_taken_when_allowed(s3: Any, source: S3Source, job: Job) -> None:
    put(s3, "main.zip", zip_bytes({"branch": "main"}))
    feature = put(s3, "feature/x.zip", zip_bytes({"branch": "feature"}))

    result = source.run(
        job.context(
            "main.zip",
            configuration={"AllowOverrideForS3ObjectKey": "true"},
            source_revision="feature/x.zip",
            source_revision_type="S3_OBJECT_KEY",
        )
    )

    assert result.succeeded, result.message
    assert job.files() == {"branch": "feature"}
    assert result.output_variables["ObjectKey"] == "feature/x.zip"
    assert result.output_variables["VersionId"] == feature["VersionId"]


@pytest.mark.parametrize("allow", [None, "false"])
def test_key_override_is_refused_unless_allowed(
    s3: Any, source: S3Source, job: Job, allow: str | None
) -> None:
    put(s3, "main.zip", zip_bytes({"branch": "main"}))
    configuration = {"AllowOverrideForS3ObjectKey": allow} if allow else {}

    result = source.run(
        job.context(
            "main.zip",
            configuration=configuration,
            source_revision="feature/x.zip",
            source_revision_type="S3_OBJECT_KEY",
        )
    )

    assert failure(result) == "ConfigurationError"
    assert "AllowOverrideForS3ObjectKey" in str(result.message)
    assert job.files() == {}


def test_an_object_past_the_size_limit_is_refused(moto: MotoServer, s3: Any, job: Job) -> None:
    put(s3, "big.bin", b"x" * 2048)
    result = S3Source(endpoint_url=moto.url, max_bytes=1024).run(job.context("big.bin"))
    assert failure(result) == "JobFailed"
    assert "5 GB" in str(result.message)
    assert job.files() == {}


def test_an_unreachable_endpoint_names_the_server_flag(job: Job) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = S3Source(endpoint_url=url).run(job.context("app.zip"))
    assert failure(result) == "SystemUnavailable"
    assert "--s3-endpoint-url" in str(result.message) and url in str(result.message)


def test_without_credentials_the_failure_says_which_variables_to_set(
    moto: MotoServer, job: Job, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in CREDENTIALS:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata lookup
    result = S3Source(endpoint_url=moto.url).run(job.context("app.zip"))
    assert failure(result) == "PermissionError"
    assert "AWS_ACCESS_KEY_ID" in str(result.message)


def test_missing_configuration_names_the_field(source: S3Source, job: Job) -> None:
    result = source.run(job.context("", configuration={"S3ObjectKey": ""}))
    assert failure(result) == "ConfigurationError"
    assert "S3ObjectKey is required" in str(result.message)


def test_poll_revision_is_the_version_the_action_would_take(s3: Any, source: S3Source) -> None:
    config = {"S3Bucket": BUCKET, "S3ObjectKey": "polled.zip"}
    assert source.poll_revision(config) is None
    first = put(s3, "polled.zip", zip_bytes({"a": "1"}))
    assert source.poll_revision(config) == first["VersionId"]
    second = put(s3, "polled.zip", zip_bytes({"a": "2"}))
    assert source.poll_revision(config) == second["VersionId"]


def test_poll_revision_raises_when_s3_cannot_be_asked() -> None:
    source = S3Source(endpoint_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(S3SourceError, match="--s3-endpoint-url"):
        source.poll_revision({"S3Bucket": BUCKET, "S3ObjectKey": "a.zip"})


def failure(result: JobResult) -> str:
    assert not result.succeeded, "the action was expected to fail"
    return result.failure_type


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
