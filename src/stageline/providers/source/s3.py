"""``Source/AWS/S3/1``: one object of a versioned S3 bucket, as the output artifact.

As on AWS the bucket must have versioning enabled: the revision of an S3
source is an object *version*, so without versions there is nothing to pin
an execution to. The action takes the latest version of ``S3ObjectKey``, or
the version pinned at start (``S3_OBJECT_VERSION_ID``), or — only when
``AllowOverrideForS3ObjectKey`` is ``true``, AWS's rule — the latest version of
another key named at start (``S3_OBJECT_KEY``).

The object is streamed to a temporary file (memory stays flat) up to
CodePipeline's 5 GB quota. A zip is extracted, safely, into the output
artifact, which is what every later action sees on AWS too; any other object
is placed as one file named after its key's last segment. AWS passes such an
object through as the artifact unchanged, where later actions that expect a
zip fail; here they get the file.

The variables are ObjectKey, ETag (without S3's quotes) and VersionId; the
revision is the version id, its summary the object's user metadata
``codepipeline-artifact-revision-summary`` when set, as AWS documents.
``PollForSourceChanges`` is read by the poller (:meth:`S3Source.poll_revision`).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stageline.artifacts import DEFAULT_MAX_ARTIFACT_BYTES, UnsafeArchiveError, extract_zip
from stageline.definitions.catalog import ActionTypeKey
from stageline.providers.base import JobContext, JobResult, SourceRevision

S3_OBJECT_VERSION_ID = "S3_OBJECT_VERSION_ID"
S3_OBJECT_KEY = "S3_OBJECT_KEY"
#: The user metadata whose value AWS shows as an S3 revision's summary.
SUMMARY_METADATA = "codepipeline-artifact-revision-summary"
MAX_REVISION_SUMMARY = 2048
CHUNK_BYTES = 1024 * 1024
#: What a zip starts with: a local file header, or the end record of an empty archive.
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


class S3SourceError(Exception):
    """Why the object cannot be taken, with the job failure type AWS would report."""

    def __init__(self, message: str, failure_type: str = "JobFailed") -> None:
        super().__init__(message)
        self.message = message
        self.failure_type = failure_type


@dataclass(frozen=True, kw_only=True)
class ObjectVersion:
    """One version of the source object, as a HEAD request describes it."""

    bucket: str
    key: str
    version_id: str
    etag: str
    size: int
    last_modified_ms: int | None
    summary: str | None


class S3Source:
    """The S3 source action over S3 or any S3-compatible endpoint (MinIO, moto_server, ...)."""

    key = ActionTypeKey(category="Source", owner="AWS", provider="S3", version="1")

    def __init__(
        self,
        endpoint_url: str | None = None,
        *,
        max_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES,
        client: Any = None,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.max_bytes = max_bytes
        self._s3 = client
        self._lock = threading.Lock()

    def run(self, job: JobContext) -> JobResult:
        try:
            bucket, key, version = _target(job)
            if len(job.outputs) != 1:
                raise S3SourceError(
                    "an S3 source action has exactly 1 output artifact; "
                    f"this one has {len(job.outputs)}",
                    "ConfigurationError",
                )
            output_name, output_dir = next(iter(job.outputs.items()))
            with self._errors(bucket, key):
                self._require_versioning(bucket)
                obj = self._head(bucket, key, version)
                job.log(
                    f"s3://{bucket}/{key} version {obj.version_id} ({obj.size} bytes, "
                    f"ETag {obj.etag})"
                )
                with tempfile.TemporaryDirectory(dir=job.workspace) as scratch:
                    download = Path(scratch) / "object"
                    self._download(obj, download, job)
                    _place(download, obj, output_dir, self.max_bytes, job)
        except S3SourceError as exc:
            return JobResult.failed(exc.message, failure_type=exc.failure_type)
        return JobResult(
            succeeded=True,
            summary=obj.summary or f"s3://{bucket}/{key} version {obj.version_id}",
            external_execution_id=obj.version_id,
            output_variables={"ObjectKey": key, "ETag": obj.etag, "VersionId": obj.version_id},
            revision=SourceRevision(
                revision_id=obj.version_id, summary=obj.summary, created_ms=obj.last_modified_ms
            ),
            artifact_revisions={output_name: obj.version_id},
        )

    def poll_revision(self, configuration: Mapping[str, str]) -> str | None:
        """The version id the action would take now; None when the object is missing.

        Raises :class:`S3SourceError` when S3 cannot be asked or the bucket cannot serve as a
        source (missing, not versioned, refused), so a poller can tell "nothing there" from
        "could not look".
        """
        bucket, key = _bucket_and_key(configuration)
        with self._errors(bucket, key):
            try:
                return self._head(bucket, key, None).version_id
            except S3SourceError as exc:
                if exc.failure_type == "RevisionUnavailable":
                    return None
                raise

    # -- S3 calls --------------------------------------------------------------------------

    def client(self) -> Any:
        """One boto3 client per provider (they are thread-safe), made on first use."""
        with self._lock:
            if self._s3 is None:
                import boto3
                from botocore.config import Config

                session = boto3.session.Session()
                self._s3 = session.client(
                    "s3",
                    endpoint_url=self.endpoint_url,
                    region_name=session.region_name or "us-east-1",
                    config=Config(
                        connect_timeout=10,
                        read_timeout=60,
                        retries={"max_attempts": 3, "mode": "standard"},
                        # S3-compatible servers rarely answer virtual-host names.
                        s3={"addressing_style": "path"} if self.endpoint_url else {},
                    ),
                )
            return self._s3

    def _require_versioning(self, bucket: str) -> None:
        status = self.client().get_bucket_versioning(Bucket=bucket).get("Status")
        if status != "Enabled":
            state = "suspended" if status == "Suspended" else "not enabled"
            raise S3SourceError(
                f"bucket {bucket!r} has versioning {state}; an S3 source needs a versioned "
                "bucket, as on AWS. Enable it with: aws s3api put-bucket-versioning "
                f"--bucket {bucket} --versioning-configuration Status=Enabled",
                "ConfigurationError",
            )

    def _head(self, bucket: str, key: str, version: str | None) -> ObjectVersion:
        from botocore.exceptions import ClientError

        where = f"s3://{bucket}/{key}" + (f" version {version}" if version else "")
        try:
            head = self.client().head_object(
                Bucket=bucket, Key=key, **({"VersionId": version} if version else {})
            )
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = exc.response.get("Error", {}).get("Code")
            bad_version = version is not None and code == "InvalidArgument"
            if status in (404, 405) or code in ("NoSuchKey", "NoSuchVersion") or bad_version:
                upload = f"; upload it (aws s3 cp FILE s3://{bucket}/{key})" if not version else ""
                raise S3SourceError(
                    f"{where} does not exist (or is a delete marker){upload}",
                    "RevisionUnavailable",
                ) from exc
            raise
        version_id = head.get("VersionId")
        if not version_id or version_id == "null":
            raise S3SourceError(
                f"{where} has no version id: it was written while bucket {bucket!r} was not "
                "versioned; upload it again now that versioning is on",
                "RevisionUnavailable",
            )
        summary = (head.get("Metadata") or {}).get(SUMMARY_METADATA)
        modified = head.get("LastModified")
        return ObjectVersion(
            bucket=bucket,
            key=key,
            version_id=version_id,
            etag=str(head.get("ETag") or "").strip('"'),
            size=int(head.get("ContentLength") or 0),
            last_modified_ms=int(modified.timestamp() * 1000) if modified else None,
            summary=summary[:MAX_REVISION_SUMMARY] if summary else None,
        )

    def _download(self, obj: ObjectVersion, dest: Path, job: JobContext) -> None:
        """Stream exactly the version HEAD saw, so a newer upload cannot slip in between."""
        if obj.size > self.max_bytes:
            raise S3SourceError(_too_big(obj, self.max_bytes))
        response = self.client().get_object(
            Bucket=obj.bucket, Key=obj.key, VersionId=obj.version_id
        )
        body = response["Body"]
        written = 0
        with body, open(dest, "wb") as out:
            for chunk in body.iter_chunks(CHUNK_BYTES):
                written += len(chunk)
                if written > self.max_bytes:
                    raise S3SourceError(_too_big(obj, self.max_bytes))
                if job.cancel.is_set():
                    raise S3SourceError("the action was stopped while the object was downloading")
                out.write(chunk)
        job.log(f"downloaded {written} bytes")

    @contextlib.contextmanager
    def _errors(self, bucket: str, key: str) -> Iterator[None]:
        """Turn boto3's exceptions into failures that name the bucket, the key and the fix."""
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            EndpointConnectionError,
            NoCredentialsError,
        )

        endpoint = self.endpoint_url or "AWS S3"
        try:
            yield
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            message = exc.response.get("Error", {}).get("Message") or str(exc)
            if code == "NoSuchBucket":
                raise S3SourceError(
                    f"bucket {bucket!r} does not exist at {endpoint}; check configuration S3Bucket",
                    "ConfigurationError",
                ) from exc
            if status == 403 or code in (
                "AccessDenied",
                "InvalidAccessKeyId",
                "SignatureDoesNotMatch",
            ):
                raise S3SourceError(
                    f"{endpoint} refused access to s3://{bucket}/{key} ({code}: {message}); check "
                    "the AWS credentials in the server's environment",
                    "PermissionError",
                ) from exc
            raise S3SourceError(
                f"{endpoint} answered {code} for s3://{bucket}/{key}: {message}"
            ) from exc
        except NoCredentialsError as exc:
            raise S3SourceError(
                "no AWS credentials to read S3 with: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in the server's environment",
                "PermissionError",
            ) from exc
        except EndpointConnectionError as exc:
            hint = (
                f"check --s3-endpoint-url ({self.endpoint_url})"
                if self.endpoint_url
                else "start the server with --s3-endpoint-url to use an S3-compatible server"
            )
            raise S3SourceError(
                f"cannot reach {endpoint}: {exc}; {hint}", "SystemUnavailable"
            ) from exc
        except BotoCoreError as exc:
            raise S3SourceError(
                f"reading s3://{bucket}/{key} from {endpoint} failed: {exc}; "
                "check --s3-endpoint-url",
                "SystemUnavailable",
            ) from exc


def _bucket_and_key(config: Mapping[str, str]) -> tuple[str, str]:
    bucket = config.get("S3Bucket") or ""
    key = config.get("S3ObjectKey") or ""
    if not bucket:
        raise S3SourceError(
            "configuration S3Bucket is required: the versioned bucket holding the source object",
            "ConfigurationError",
        )
    if not key:
        raise S3SourceError(
            "configuration S3ObjectKey is required: the key of the source object (usually a .zip)",
            "ConfigurationError",
        )
    return bucket, key


def _target(job: JobContext) -> tuple[str, str, str | None]:
    """Bucket, key and version to take, after the revision pinned at start (AWS's rules)."""
    bucket, key = _bucket_and_key(job.configuration)
    revision, kind = job.source_revision, job.source_revision_type
    if not revision:
        return bucket, key, None
    if kind == S3_OBJECT_KEY:
        allowed = (job.configuration.get("AllowOverrideForS3ObjectKey") or "").lower() == "true"
        if not allowed:
            raise S3SourceError(
                f"source revision {S3_OBJECT_KEY} {revision!r} would replace S3ObjectKey, which "
                "this action does not allow; set configuration AllowOverrideForS3ObjectKey to "
                f'"true" or pin a version with {S3_OBJECT_VERSION_ID}',
                "ConfigurationError",
            )
        return bucket, revision, None
    if kind in (None, S3_OBJECT_VERSION_ID):
        return bucket, key, revision
    raise S3SourceError(
        f"source revision type {kind} does not apply to an S3 source action; "
        f"use {S3_OBJECT_VERSION_ID} (or {S3_OBJECT_KEY} with AllowOverrideForS3ObjectKey)",
        "ConfigurationError",
    )


def _place(
    download: Path, obj: ObjectVersion, output_dir: Path, limit: int, job: JobContext
) -> None:
    """Extract a zip into the output; put anything else there under its key's base name."""
    if _is_zip(download):
        try:
            summary = extract_zip(download, output_dir, max_total_bytes=limit)
        except UnsafeArchiveError as exc:
            raise S3SourceError(
                f"s3://{obj.bucket}/{obj.key} is a zip that cannot be used: {exc}"
            ) from exc
        job.log(f"extracted {summary.files} files ({summary.bytes} bytes) from the zip")
        return
    name = obj.key.rstrip("/").rpartition("/")[2]
    if name in ("", ".", "..") or "\x00" in name:
        name = "object"
    shutil.move(download, output_dir / name)
    job.log(f"not a zip: placed the object as {name}")


def _is_zip(path: Path) -> bool:
    with open(path, "rb") as fp:
        head = fp.read(4)
    return head in _ZIP_MAGIC and zipfile.is_zipfile(path)


def _too_big(obj: ObjectVersion, limit: int) -> str:
    return (
        f"s3://{obj.bucket}/{obj.key} version {obj.version_id} is {obj.size} bytes, more than "
        f"the {limit} bytes an S3 source artifact may have (CodePipeline's 5 GB quota)"
    )
