"""``Source/AWS/ECR/1``: an image of a container repository, as an ``imageDetail.json`` artifact.

As on AWS the action resolves ``RepositoryName`` : ``ImageTag`` (``latest``
when omitted) to the digest of the image it points at — or takes the digest
pinned at start (``IMAGE_DIGEST``) — and outputs one file, ``imageDetail.json``,
in the shape the ECR source writes for the ECS blue/green deploy action
(AWS's "imageDetail.json file" reference): ``ImageSizeInBytes``,
``ImageDigest``, ``Version``, ``ImagePushedAt``, ``RegistryId``,
``RepositoryName``, ``ImageURI`` (``<registry>/<repository>@<digest>``) and
``ImageTags``. The variables are AWS's: RegistryId, RepositoryName, ImageTag,
ImageDigest, ImageURI. The revision is the digest.

The repository lives in any registry that speaks the HTTP API v2, named by the
server's ``--registry-url``; ``RegistryId`` is the pipeline's account. A v2
registry does not record when an image was pushed, so ``ImagePushedAt`` is the
image config's ``created`` time (when it was built), or the time the action
resolved it when the config has none.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime

import httpx

from stageline.definitions.catalog import ActionTypeKey
from stageline.providers.base import JobContext, JobResult, SourceRevision
from stageline.providers.source.registry import (
    DIGEST,
    MAX_CONFIG_BYTES,
    REPOSITORY_NAME,
    TAG,
    Manifest,
    RegistryClient,
    RegistryError,
)

DEFAULT_TAG = "latest"
IMAGE_DIGEST = "IMAGE_DIGEST"
IMAGE_DETAIL_FILE = "imageDetail.json"
#: Children of an image index looked at for its size; real indexes list a handful of platforms.
MAX_INDEX_CHILDREN = 32
# Java's Date.toString(), which is what AWS's own file shows ("Mon Jan 21 20:04:00 UTC 2019");
# spelled out so the names never follow the process locale.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# How each registry failure reaches the user, as AWS's job failure types.
_FAILURE_TYPES = {
    "unreachable": "SystemUnavailable",
    "no_repository": "ConfigurationError",
    "no_manifest": "RevisionUnavailable",
    "denied": "PermissionError",
    "invalid": "JobFailed",
}


class ECRSourceError(Exception):
    """Why the image cannot be resolved, with the job failure type AWS would report."""

    def __init__(self, message: str, failure_type: str = "JobFailed") -> None:
        super().__init__(message)
        self.message = message
        self.failure_type = failure_type


class ECRSource:
    """The ECR source action over a registry that speaks the HTTP API v2."""

    key = ActionTypeKey(category="Source", owner="AWS", provider="ECR", version="1")

    def __init__(
        self,
        registry_url: str | None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.registry_url = registry_url
        self.timeout = timeout
        self.transport = transport

    def run(self, job: JobContext) -> JobResult:
        try:
            repository, tag = _configuration(job.configuration)
            if len(job.outputs) != 1:
                raise ECRSourceError(
                    "an ECR source action has exactly 1 output artifact; "
                    f"this one has {len(job.outputs)}",
                    "ConfigurationError",
                )
            pinned = _pinned_digest(job)
            with self._client() as client:
                manifest = _fetch(client, repository, pinned or tag)
                size, created = _size_and_created(client, repository, manifest)
                tags = (
                    [tag]
                    if pinned is None or _tag_digest(client, repository, tag) == pinned
                    else []
                )
        except ECRSourceError as exc:
            return JobResult.failed(exc.message, failure_type=exc.failure_type)
        output_name, output_dir = next(iter(job.outputs.items()))
        digest = manifest.digest
        registry_id = _account_id(job)
        image_uri = f"{client.host}/{repository}@{digest}"
        pushed = created or datetime.now(UTC)
        detail = {
            "ImageSizeInBytes": str(size),
            "ImageDigest": digest,
            "Version": "1.0",
            "ImagePushedAt": _java_date(pushed),
            "RegistryId": registry_id,
            "RepositoryName": repository,
            "ImageURI": image_uri,
            "ImageTags": tags,
        }
        (output_dir / IMAGE_DETAIL_FILE).write_text(json.dumps(detail, indent=4) + "\n")
        how = f"pinned digest {digest}" if pinned else f"{repository}:{tag} -> {digest}"
        job.log(f"{how}; wrote {IMAGE_DETAIL_FILE} for {image_uri} into {output_name}")
        return JobResult(
            succeeded=True,
            summary=f"{repository}:{tag} at {digest}" if tags else f"{repository}@{digest}",
            external_execution_id=digest,
            output_variables={
                "RegistryId": registry_id,
                "RepositoryName": repository,
                "ImageTag": tag,
                "ImageDigest": digest,
                "ImageURI": image_uri,
            },
            revision=SourceRevision(revision_id=digest, created_ms=int(pushed.timestamp() * 1000)),
            artifact_revisions={output_name: digest},
        )

    def poll_revision(self, configuration: Mapping[str, str]) -> str | None:
        """The digest the action would take now; None when the repository or tag is missing.

        Raises :class:`ECRSourceError` when the registry cannot be asked (unreachable, refused,
        not configured), so a poller can tell "nothing there" from "could not look".
        """
        repository, tag = _configuration(configuration)
        with self._client() as client:
            try:
                digest = client.head_digest(repository, tag)
                return digest or _fetch(client, repository, tag).digest
            except RegistryError as exc:
                if exc.kind in ("no_repository", "no_manifest"):
                    return None
                raise ECRSourceError(exc.message, _FAILURE_TYPES[exc.kind]) from exc
            except ECRSourceError as exc:
                if exc.failure_type in ("RevisionUnavailable", "ConfigurationError"):
                    return None
                raise

    def _client(self) -> RegistryClient:
        if not self.registry_url:
            raise ECRSourceError(
                "ECR source actions need a container registry to resolve images in: start the "
                "server with --registry-url http://HOST:PORT (or set STAGELINE_REGISTRY_URL)",
                "ConfigurationError",
            )
        try:
            return RegistryClient(self.registry_url, timeout=self.timeout, transport=self.transport)
        except RegistryError as exc:
            raise ECRSourceError(
                f"{exc.message}; fix --registry-url", "ConfigurationError"
            ) from exc


def _configuration(config: Mapping[str, str]) -> tuple[str, str]:
    repository = config.get("RepositoryName") or ""
    tag = config.get("ImageTag") or DEFAULT_TAG
    if not repository:
        raise ECRSourceError(
            "configuration RepositoryName is required: the image repository to take images from",
            "ConfigurationError",
        )
    if len(repository) > 256 or not REPOSITORY_NAME.fullmatch(repository):
        raise ECRSourceError(
            f"configuration RepositoryName {repository!r} is not a repository name: lower-case "
            "letters and digits, separated by '.', '_', '-' or '/', up to 256 characters",
            "ConfigurationError",
        )
    if not TAG.fullmatch(tag):
        raise ECRSourceError(
            f"configuration ImageTag {tag!r} is not an image tag: up to 128 letters, digits, "
            "'_', '.' or '-', not starting with '.' or '-'",
            "ConfigurationError",
        )
    return repository, tag


def _pinned_digest(job: JobContext) -> str | None:
    """The digest pinned at start (StartPipelineExecution / PutActionRevision), if any."""
    if not job.source_revision:
        return None
    kind = job.source_revision_type
    if kind not in (None, IMAGE_DIGEST):
        raise ECRSourceError(
            f"source revision type {kind} does not apply to an ECR source action; "
            f"use {IMAGE_DIGEST} with an image digest (sha256:...)",
            "ConfigurationError",
        )
    if not DIGEST.fullmatch(job.source_revision):
        raise ECRSourceError(
            f"source revision {job.source_revision!r} is not an image digest; "
            "give one like sha256:<64 hex digits>",
            "RevisionUnavailable",
        )
    return job.source_revision


def _fetch(client: RegistryClient, repository: str, reference: str) -> Manifest:
    try:
        return client.manifest(repository, reference)
    except RegistryError as exc:
        message = exc.message
        if exc.kind == "unreachable":
            message += "; check the server's --registry-url"
        elif exc.kind == "no_manifest" and not DIGEST.fullmatch(reference):
            message += f"; push one (docker push <registry>/{repository}:{reference})"
        raise ECRSourceError(message, _FAILURE_TYPES[exc.kind]) from exc


def _tag_digest(client: RegistryClient, repository: str, tag: str) -> str | None:
    try:
        return client.head_digest(repository, tag)
    except RegistryError:
        return None


def _size_and_created(
    client: RegistryClient, repository: str, manifest: Manifest
) -> tuple[int, datetime | None]:
    """ECR's imageSizeInBytes (the layers' sizes; an index's largest image) and the build time."""
    document = _document(manifest)
    if not manifest.is_index:
        return _layers_size(document), _config_created(client, repository, document)
    listed = document.get("manifests")
    children = [m for m in listed if isinstance(m, dict)] if isinstance(listed, list) else []
    best: tuple[int, datetime | None] = (0, None)
    for child in children[:MAX_INDEX_CHILDREN]:
        digest = child.get("digest")
        if not isinstance(digest, str) or not DIGEST.fullmatch(digest):
            continue
        child_doc = _document(_fetch(client, repository, digest))
        size = _layers_size(child_doc)
        if size >= best[0]:
            best = (size, best[1] or _config_created(client, repository, child_doc))
    return best


def _document(manifest: Manifest) -> dict[str, object]:
    try:
        return manifest.document()
    except RegistryError as exc:
        raise ECRSourceError(exc.message) from exc


def _layers_size(document: Mapping[str, object]) -> int:
    layers = document.get("layers")
    if not isinstance(layers, list):
        return 0
    return sum(
        layer["size"]
        for layer in layers
        if isinstance(layer, dict) and isinstance(layer.get("size"), int) and layer["size"] > 0
    )


def _config_created(
    client: RegistryClient, repository: str, document: Mapping[str, object]
) -> datetime | None:
    config = document.get("config")
    digest = config.get("digest") if isinstance(config, dict) else None
    if not isinstance(digest, str) or not DIGEST.fullmatch(digest):
        return None
    try:
        blob = client.blob_json(repository, digest, MAX_CONFIG_BYTES)
    except RegistryError:
        return None
    created = blob.get("created") if blob else None
    if not isinstance(created, str):
        return None
    try:
        # Go writes nanoseconds; Python takes microseconds at most.
        text = created.replace("Z", "+00:00")
        head, dot, rest = text.partition(".")
        if dot:
            digits = "".join(c for c in rest if c.isdigit())
            text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _account_id(job: JobContext) -> str:
    """ECR's RegistryId is the account id: the job's, else the pipeline ARN's fifth field."""
    if job.pipeline.account_id:
        return job.pipeline.account_id
    parts = job.pipeline.pipeline_arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else ""


def _java_date(value: datetime) -> str:
    utc = value.astimezone(UTC)
    return (
        f"{_DAYS[utc.weekday()]} {_MONTHS[utc.month - 1]} {utc.day:02d} "
        f"{utc:%H:%M:%S} UTC {utc.year}"
    )
