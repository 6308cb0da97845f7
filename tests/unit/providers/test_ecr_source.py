"""The ECR source action against a real registry (Debian's docker-registry in its own process)."""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from stageline.definitions.catalog import ActionTypeKey
from stageline.providers.base import JobContext, JobResult, PipelineContext
from stageline.providers.source.ecr import ECRSource, ECRSourceError
from stageline.providers.source.registry import DOCKER_MANIFEST, RegistryClient, RegistryError
from tests.support.registry import (
    OCI_MANIFEST,
    RegistryServer,
    push_image,
    push_index,
    registry_available,
    registry_server,
)

KEY = ActionTypeKey(category="Source", owner="AWS", provider="ECR", version="1")
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    if not registry_available():
        pytest.fail("docker-registry is not installed; scripts/test installs it (apt-get)")
    with registry_server(tmp_path_factory.mktemp("registry")) as server:
        yield server


@pytest.fixture
def source(registry: RegistryServer) -> ECRSource:
    return ECRSource(registry_url=registry.url)


class Job:
    def __init__(self, root: Path) -> None:
        self.workspace = root / "ws"
        self.output = self.workspace / "out" / "Image"
        self.output.mkdir(parents=True)
        self.lines: list[str] = []

    def context(self, repository: str, tag: str | None = None, **kw: Any) -> JobContext:
        configuration = {"RepositoryName": repository, **({"ImageTag": tag} if tag else {})}
        return JobContext(
            job_id="job-1",
            action_type=KEY,
            configuration=configuration,
            pipeline=PipelineContext(
                pipeline_name="web",
                pipeline_arn=f"arn:aws:codepipeline:eu-west-1:{ACCOUNT}:web",
                execution_id="exec-1",
                stage_name="Source",
                action_name="Image",
                action_execution_id="act-1",
                region="eu-west-1",
                account_id=kw.pop("account_id", ""),
            ),
            workspace=self.workspace,
            inputs={},
            outputs={"Image": self.output},
            log=self.lines.append,
            **kw,
        )

    def detail(self) -> dict[str, Any]:
        assert sorted(p.name for p in self.output.iterdir()) == ["imageDetail.json"]
        return dict(json.loads((self.output / "imageDetail.json").read_text()))


@pytest.fixture
def job(tmp_path: Path) -> Job:
    return Job(tmp_path)


def test_a_tag_resolves_to_its_digest_and_writes_image_detail(
    registry: RegistryServer, source: ECRSource, job: Job
) -> None:
    image = push_image(registry.url, "team/web", "v1.2")

    result = source.run(job.context("team/web", "v1.2"))

    assert result.succeeded, result.message
    uri = f"{registry.host}/team/web@{image.digest}"
    # The keys and value shapes of AWS's imageDetail.json (sizes and versions are strings).
    assert job.detail() == {
        "ImageSizeInBytes": str(image.layers_size),
        "ImageDigest": image.digest,
        "Version": "1.0",
        "ImagePushedAt": "Mon May 06 07:08:09 UTC 2024",
        "RegistryId": ACCOUNT,
        "RepositoryName": "team/web",
        "ImageURI": uri,
        "ImageTags": ["v1.2"],
    }
    assert list(job.detail()) == [
        "ImageSizeInBytes", "ImageDigest", "Version", "ImagePushedAt",
        "RegistryId", "RepositoryName", "ImageURI", "ImageTags",
    ]  # fmt: skip
    assert result.output_variables == {
        "RegistryId": ACCOUNT,
        "RepositoryName": "team/web",
        "ImageTag": "v1.2",
        "ImageDigest": image.digest,
        "ImageURI": uri,
    }
    assert result.revision is not None and result.revision.revision_id == image.digest
    assert result.artifact_revisions == {"Image": image.digest}


def test_the_tag_defaults_to_latest(registry: RegistryServer, source: ECRSource, job: Job) -> None:
    push_image(registry.url, "defaults", "v1")
    latest = push_image(registry.url, "defaults", "latest", files={"v": b"latest"})
    result = source.run(job.context("defaults"))
    assert result.succeeded, result.message
    assert result.output_variables["ImageTag"] == "latest"
    assert result.output_variables["ImageDigest"] == latest.digest


def test_the_account_id_wins_over_the_pipeline_arn(
    registry: RegistryServer, source: ECRSource, job: Job
) -> None:
    push_image(registry.url, "accounts", "latest")
    result = source.run(job.context("accounts", account_id="210987654321"))
    assert result.output_variables["RegistryId"] == "210987654321"


def test_a_pinned_digest_is_taken_instead_of_the_tag(
    registry: RegistryServer, source: ECRSource, job: Job
) -> None:
    old = push_image(registry.url, "pinned", "prod", files={"v": b"1"})
    new = push_image(registry.url, "pinned", "prod", files={"v": b"2"})

    result = source.run(
        job.context(
            "pinned", "prod", source_revision=old.digest, source_revision_type="IMAGE_DIGEST"
        )
    )

    assert result.succeeded, result.message
    assert result.output_variables["ImageDigest"] == old.digest
    detail = job.detail()
    assert detail["ImageDigest"] == old.digest
    assert detail["ImageTags"] == []  # "prod" has moved on to the new image

    again = Job(job.workspace.parent / "again")
    source.run(
        again.context(
            "pinned", "prod", source_revision=new.digest, source_revision_type="IMAGE_DIGEST"
        )
    )
    assert again.detail()["ImageTags"] == ["prod"]


def test_a_pinned_digest_the_registry_lacks_is_unavailable(
    registry: RegistryServer, source: ECRSource, job: Job
) -> None:
    push_image(registry.url, "pinned-missing", "latest")
    missing = "sha256:" + "0" * 64
    result = source.run(
        job.context("pinned-missing", source_revision=missing, source_revision_type="IMAGE_DIGEST")
    )
    assert failure(result) == "RevisionUnavailable"
    assert missing in str(result.message)


def test_a_missing_tag_is_unavailable(
    registry: RegistryServer, source: ECRSource, job: Job
) -> None:
    push_image(registry.url, "tags", "v1")
    result = source.run(job.context("tags", "v2"))
    assert failure(result) == "RevisionUnavailable"
    assert "tags:v2" in str(result.message)
    assert list(job.output.iterdir()) == []


def test_an_oci_index_is_one_image_sized_as_its_largest_platform(
    registry: RegistryServer, source: ECRSource, job: Job
) -> None:
    small = push_image(registry.url, "multi", "amd64", media_type=OCI_MANIFEST)
    large = push_image(
        registry.url,
        "multi",
        "arm64",
        media_type=OCI_MANIFEST,
        # Incompressible, so its gzipped layer really is the bigger one.
        files={"big.bin": b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(256))},
    )
    assert large.layers_size > small.layers_size
    index = push_index(registry.url, "multi", "latest", [small, large])

    result = source.run(job.context("multi"))

    assert result.succeeded, result.message
    assert result.output_variables["ImageDigest"] == index
    assert job.detail()["ImageSizeInBytes"] == str(max(small.layers_size, large.layers_size))


def test_an_unreachable_registry_names_the_server_flag(job: Job) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = ECRSource(registry_url=url).run(job.context("team/web"))
    assert failure(result) == "SystemUnavailable"
    assert "--registry-url" in str(result.message) and url in str(result.message)


def test_without_a_registry_the_action_names_the_server_flag(job: Job) -> None:
    result = ECRSource(registry_url=None).run(job.context("team/web"))
    assert failure(result) == "ConfigurationError"
    assert "--registry-url" in str(result.message)


@pytest.mark.parametrize(
    ("repository", "tag", "field"),
    [("", None, "RepositoryName"), ("../etc", None, "RepositoryName"), ("web", "-bad", "ImageTag")],
)
def test_bad_configuration_names_the_field(
    source: ECRSource, job: Job, repository: str, tag: str | None, field: str
) -> None:
    result = source.run(job.context(repository, tag))
    assert failure(result) == "ConfigurationError"
    assert f"configuration {field}" in str(result.message)


def test_poll_revision_is_the_digest_the_action_would_take(
    registry: RegistryServer, source: ECRSource
) -> None:
    config = {"RepositoryName": "polled", "ImageTag": "main"}
    assert source.poll_revision(config) is None
    first = push_image(registry.url, "polled", "main", files={"v": b"1"})
    assert source.poll_revision(config) == first.digest
    second = push_image(registry.url, "polled", "main", files={"v": b"2"})
    assert source.poll_revision(config) == second.digest


def test_poll_revision_raises_when_the_registry_cannot_be_asked() -> None:
    source = ECRSource(registry_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ECRSourceError, match="cannot reach the registry"):
        source.poll_revision({"RepositoryName": "web"})


# -- registries behind a token, and registries that lie: a mock transport plays them ------


MANIFEST = json.dumps(
    {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST, "config": {}, "layers": [{"size": 7}]}
).encode()
MANIFEST_DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()


def token_registry(seen: list[httpx.Request]) -> httpx.MockTransport:
    """A registry that wants an anonymous bearer token for repository:web:pull."""

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "auth.test":
            params = dict(request.url.params)
            assert params == {"service": "registry.test", "scope": "repository:web:pull"}
            return httpx.Response(200, json={"token": "t0k3n"})
        if request.headers.get("Authorization") != "Bearer t0k3n":
            challenge = (
                'Bearer realm="https://auth.test/token",service="registry.test",'
                'scope="repository:web:pull"'
            )
            return httpx.Response(401, headers={"WWW-Authenticate": challenge})
        return httpx.Response(
            200,
            content=MANIFEST,
            headers={"Content-Type": DOCKER_MANIFEST, "Docker-Content-Digest": MANIFEST_DIGEST},
        )

    return httpx.MockTransport(handle)


def test_a_registry_that_wants_a_bearer_token_gets_one_anonymously() -> None:
    seen: list[httpx.Request] = []
    with RegistryClient("https://registry.test", transport=token_registry(seen)) as client:
        assert client.manifest("web", "latest").digest == MANIFEST_DIGEST
        assert client.manifest("web", "v2").digest == MANIFEST_DIGEST
    # challenge, token, retry — then the token is reused without another round trip
    assert [r.url.host for r in seen] == [
        "registry.test",
        "auth.test",
        "registry.test",
        "registry.test",
    ]
    assert "Authorization" not in seen[1].headers


def test_a_manifest_that_does_not_match_its_digest_is_refused() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=MANIFEST, headers={"Docker-Content-Digest": "sha256:" + "1" * 64}
        )

    with (
        RegistryClient("http://registry.test", transport=httpx.MockTransport(handle)) as client,
        pytest.raises(RegistryError, match="corrupt"),
    ):
        client.manifest("web", "latest")


def failure(result: JobResult) -> str:
    assert not result.succeeded, "the action was expected to fail"
    return result.failure_type


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
