"""A real container registry for tests: Debian's ``docker-registry`` on a loopback port.

The registry (Docker's ``distribution``, the reference implementation of the
HTTP API v2) runs as its own process with a generated config — plain HTTP, no
auth, storage in a temp dir — so the Debian package's own service and its
``/etc`` config are never used. :func:`push_image` pushes a tiny image the way
``docker push`` does, with nothing but HTTP: each blob by a monolithic upload
(POST, then PUT with the digest), then the manifest.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import shutil
import tarfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx

from tests.support.processes import Announced, await_http, launch, stop

REGISTRY_BINARY = Path("/usr/bin/docker-registry")
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
_LISTENING = re.compile(r"listening on (127\.0\.0\.1:\d+)")
_CONFIG = """\
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:0
  secret: stageline-tests
"""
# Media types of an image's config and layers, per manifest flavour.
_PARTS = {
    DOCKER_MANIFEST: (
        "application/vnd.docker.container.image.v1+json",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
    ),
    OCI_MANIFEST: (
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.oci.image.layer.v1.tar+gzip",
    ),
}


def registry_available() -> bool:
    return REGISTRY_BINARY.exists() or shutil.which("docker-registry") is not None


class RegistryServer:
    """A running docker-registry: its base URL (``http://127.0.0.1:PORT``) and its output."""

    def __init__(self, started: Announced, url: str) -> None:
        self.started = started
        self.proc = started.proc
        self.url = url
        self.log = started.log

    @property
    def host(self) -> str:
        return self.url.removeprefix("http://")

    def stop(self) -> None:
        stop(self.proc, self.started.pump)


def start_registry(root: Path, timeout: float = 30.0) -> RegistryServer:
    """Start docker-registry with storage under ``root``; it picks a free port and logs it."""
    binary = str(REGISTRY_BINARY) if REGISTRY_BINARY.exists() else shutil.which("docker-registry")
    if binary is None:
        raise RuntimeError("docker-registry is not installed (scripts/test installs it)")
    (root / "data").mkdir(parents=True, exist_ok=True)
    config = root / "config.yml"
    config.write_text(_CONFIG.format(root=root / "data"))
    started = launch(
        [binary, "serve", str(config)],
        announce=_LISTENING,
        what="docker-registry",
        env={"PATH": "/usr/bin:/bin"},
        timeout=timeout,
    )
    server = RegistryServer(started, f"http://{started.match.group(1)}")
    await_http(
        started,
        f"{server.url}/v2/",
        what="docker-registry",
        timeout=timeout,
        ok=lambda response: response.status_code == 200,
    )
    return server


@contextmanager
def registry_server(root: Path) -> Iterator[RegistryServer]:
    server = start_registry(root)
    try:
        yield server
    finally:
        server.stop()


@dataclass(frozen=True, kw_only=True)
class PushedImage:
    """What a push produced: the manifest's digest and the sizes ECR would report."""

    digest: str
    media_type: str
    manifest_size: int
    layers_size: int
    created: str


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_blob(url: str, repository: str, data: bytes) -> str:
    """Monolithic upload: POST opens an upload session, PUT with ?digest= closes it."""
    digest = sha256(data)
    started = httpx.post(f"{url}/v2/{repository}/blobs/uploads/")
    assert started.status_code == 202, started.text
    location = urljoin(f"{url}/", started.headers["Location"])
    separator = "&" if "?" in location else "?"
    done = httpx.put(
        f"{location}{separator}digest={digest}",
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert done.status_code == 201, done.text
    return digest


def push_manifest(url: str, repository: str, reference: str, body: bytes, media_type: str) -> str:
    response = httpx.put(
        f"{url}/v2/{repository}/manifests/{reference}",
        content=body,
        headers={"Content-Type": media_type},
    )
    assert response.status_code == 201, response.text
    digest = response.headers.get("Docker-Content-Digest") or sha256(body)
    assert digest == sha256(body)
    return digest


def push_image(
    url: str,
    repository: str,
    tag: str,
    *,
    files: Mapping[str, bytes] | None = None,
    created: str = "2024-05-06T07:08:09.123456789Z",
    media_type: str = DOCKER_MANIFEST,
) -> PushedImage:
    """Push a one-layer image holding ``files`` under ``tag``, as ``docker push`` would."""
    config_type, layer_type = _PARTS[media_type]
    tar = _tar(files or {"hello.txt": f"{repository}:{tag}\n".encode()})
    layer = gzip.compress(tar, mtime=0)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": created,
            "config": {"Cmd": ["cat", "/hello.txt"]},
            "rootfs": {"type": "layers", "diff_ids": [sha256(tar)]},
        }
    ).encode()
    config_digest = push_blob(url, repository, config)
    layer_digest = push_blob(url, repository, layer)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {"mediaType": config_type, "size": len(config), "digest": config_digest},
            "layers": [{"mediaType": layer_type, "size": len(layer), "digest": layer_digest}],
        },
        indent=3,
    ).encode()
    digest = push_manifest(url, repository, tag, manifest, media_type)
    return PushedImage(
        digest=digest,
        media_type=media_type,
        manifest_size=len(manifest),
        layers_size=len(layer),
        created=created,
    )


def push_index(url: str, repository: str, tag: str, images: list[PushedImage]) -> str:
    """Push an OCI image index (a multi-platform image) over images already in the repository."""
    platforms = [("amd64", "linux"), ("arm64", "linux"), ("s390x", "linux")]
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": image.media_type,
                    "digest": image.digest,
                    "size": image.manifest_size,
                    "platform": {"architecture": arch, "os": os_name},
                }
                for image, (arch, os_name) in zip(images, platforms, strict=False)
            ],
        }
    ).encode()
    return push_manifest(url, repository, tag, body, OCI_INDEX)


def _tar(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
