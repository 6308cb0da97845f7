"""A small client for the container registry HTTP API v2 (the OCI distribution spec).

The ECR source action only needs to read: which manifest a tag points at now,
a manifest by digest, and the image's config blob. Any registry that speaks
the API works — Docker's ``registry`` (``docker-registry`` in Debian), Harbor,
Zot, GitLab's, ECR itself behind a token. Registries that demand a bearer
token get the usual dance: the first request answers 401 with
``WWW-Authenticate: Bearer realm=...,service=...,scope=...``, the client asks
the realm for a token (anonymously, or with the user and password of the
registry URL when it carries them) and repeats the request with it.

Every body is read with a cap, so a hostile registry cannot make the agent
buffer gigabytes, and a manifest fetched by digest is checked against that
digest.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import httpx

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
#: What we accept, so the registry never downgrades an image to the old schema 1.
MANIFEST_TYPES = (OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)

#: Docker's registry refuses manifests past 4 MiB; nothing bigger is a real manifest.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
#: An image config holds the history and environment; a few MiB is already huge.
MAX_CONFIG_BYTES = 8 * 1024 * 1024
#: Names and tags as the distribution spec (and ECR) allows them; anything else could
#: climb out of /v2/<name>/ in the URL.
REPOSITORY_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*")
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
DIGEST = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
_SHA256 = re.compile(r"sha256:[a-f0-9]{64}")
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')

ErrorKind = Literal["unreachable", "no_repository", "no_manifest", "denied", "invalid"]


class RegistryError(Exception):
    """A request the registry could not answer; ``kind`` says which failure it is."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True, kw_only=True)
class Manifest:
    """One manifest exactly as the registry stores it, with its content digest."""

    digest: str
    media_type: str
    body: bytes

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    def document(self) -> dict[str, Any]:
        try:
            value = json.loads(self.body)
        except ValueError as exc:
            raise RegistryError("invalid", f"manifest {self.digest} is not JSON ({exc})") from exc
        if not isinstance(value, dict):
            raise RegistryError("invalid", f"manifest {self.digest} is not a JSON object")
        return value


def sha256_digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


class RegistryClient:
    """Reads manifests and blobs from one registry; use it as a context manager."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
            raise RegistryError(
                "invalid", f"registry URL {base_url!r} is not an http:// or https:// URL"
            )
        self.credentials = (
            (unquote(parts.username), unquote(parts.password or "")) if parts.username else None
        )
        # An IPv6 literal keeps its brackets; the user and password stay out of URLs we log.
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        netloc = host + (f":{port}" if port else "")
        self.host = netloc
        self.base_url = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=True)
        self._tokens: dict[str, str] = {}

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def head_digest(self, repository: str, reference: str) -> str | None:
        """The digest ``reference`` points at, from a HEAD; None when the registry does not say."""
        response = self._send("HEAD", repository, f"manifests/{quote(reference, safe=':')}")
        response.close()
        self._raise_for(response, repository, reference)
        return response.headers.get("Docker-Content-Digest")

    def manifest(self, repository: str, reference: str) -> Manifest:
        """The manifest ``reference`` (a tag or a digest) names, checked against its digest."""
        response = self._send("GET", repository, f"manifests/{quote(reference, safe=':')}")
        try:
            self._raise_for(response, repository, reference)
            body = _read_capped(response, MAX_MANIFEST_BYTES, f"manifest {reference}")
        finally:
            response.close()
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        if media_type not in MANIFEST_TYPES:
            media_type = str(_media_type_in(body) or media_type)
        computed = sha256_digest(body)
        expected = reference if DIGEST.fullmatch(reference) else None
        expected = expected or response.headers.get("Docker-Content-Digest") or computed
        if _SHA256.fullmatch(expected) and expected != computed:
            raise RegistryError(
                "invalid",
                f"the registry sent a manifest for {repository}@{reference} whose sha256 is "
                f"{computed}, not {expected}; the registry or something between is corrupt",
            )
        return Manifest(digest=expected, media_type=media_type, body=body)

    def blob_json(self, repository: str, digest: str, max_bytes: int) -> dict[str, Any] | None:
        """A small JSON blob (an image config), or None if it is missing, too big or not JSON."""
        response = self._send("GET", repository, f"blobs/{quote(digest, safe=':')}")
        try:
            if response.status_code == 404:
                return None
            self._raise_for(response, repository, digest)
            body = _read_capped(response, max_bytes, f"blob {digest}")
        except RegistryError as exc:
            if exc.kind != "invalid":
                raise
            return None
        finally:
            response.close()
        if _SHA256.fullmatch(digest) and sha256_digest(body) != digest:
            return None
        try:
            value = json.loads(body)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    # -- transport -------------------------------------------------------------------------

    def _send(self, method: str, repository: str, tail: str) -> httpx.Response:
        url = f"{self.base_url}/v2/{repository}/{tail}"
        headers = {"Accept": ", ".join(MANIFEST_TYPES)}
        scope = f"repository:{repository}:pull"
        if scope in self._tokens:
            headers["Authorization"] = f"Bearer {self._tokens[scope]}"
        response = self._stream(method, url, headers)
        if response.status_code == 401:
            authorization = self._authorize(response.headers.get("WWW-Authenticate", ""), scope)
            if authorization:
                response.close()
                response = self._stream(method, url, {**headers, "Authorization": authorization})
        return response

    def _stream(self, method: str, url: str, headers: Mapping[str, str]) -> httpx.Response:
        try:
            request = self._http.build_request(method, url, headers=headers)
            return self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise RegistryError(
                "unreachable", f"cannot reach the registry at {self.base_url} ({exc})"
            ) from exc

    def _authorize(self, challenge: str, scope: str) -> str | None:
        """The Authorization header that answers a 401 challenge, or None if we have none."""
        scheme, _, params_text = challenge.partition(" ")
        params = dict(_CHALLENGE_PARAM.findall(params_text))
        if scheme.lower() == "basic" and self.credentials:
            user, password = self.credentials
            return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        if scheme.lower() != "bearer" or "realm" not in params:
            return None
        query = {"scope": params.get("scope") or scope}
        if params.get("service"):
            query["service"] = params["service"]
        auth = httpx.BasicAuth(*self.credentials) if self.credentials else None
        try:
            response = self._http.get(params["realm"], params=query, auth=auth)
        except httpx.TransportError as exc:
            raise RegistryError(
                "unreachable",
                f"cannot reach the registry's token service {params['realm']} ({exc})",
            ) from exc
        if response.status_code != 200:
            raise RegistryError(
                "denied",
                f"the registry's token service {params['realm']} refused a token for "
                f"{query['scope']} (HTTP {response.status_code})",
            )
        try:
            document = response.json()
            token = document.get("token") or document.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise RegistryError(
                "denied", f"the registry's token service {params['realm']} sent no token"
            )
        self._tokens[scope] = token
        return f"Bearer {token}"

    def _raise_for(self, response: httpx.Response, repository: str, reference: str) -> None:
        status = response.status_code
        if status < 300:
            return
        codes = _error_codes(response)
        where = (
            f"{repository}@{reference}"
            if DIGEST.fullmatch(reference)
            else f"{repository}:{reference}"
        )
        if status == 404 and "NAME_UNKNOWN" in codes:
            raise RegistryError(
                "no_repository", f"the registry at {self.base_url} has no repository {repository!r}"
            )
        if status == 404:
            raise RegistryError(
                "no_manifest", f"the registry at {self.base_url} has no image {where}"
            )
        if status in (401, 403):
            raise RegistryError(
                "denied",
                f"the registry at {self.base_url} refused to let us pull {where} (HTTP {status}); "
                "give the user and password in the registry URL (http://user:password@host)",
            )
        raise RegistryError(
            "unreachable",
            f"the registry at {self.base_url} answered HTTP {status} for {where}"
            + (f" ({', '.join(codes)})" if codes else ""),
        )


def _read_capped(response: httpx.Response, limit: int, what: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise RegistryError("invalid", f"{what} is larger than {limit} bytes; refused")
        chunks.append(chunk)
    return b"".join(chunks)


def _error_codes(response: httpx.Response) -> list[str]:
    """The ``errors[].code`` of a registry error body (a HEAD has none)."""
    if response.request.method == "HEAD":
        return []
    try:
        body = _read_capped(response, 64 * 1024, "error body")
        errors = json.loads(body).get("errors") or []
        return [str(e.get("code")) for e in errors if isinstance(e, dict) and e.get("code")]
    except (RegistryError, ValueError, AttributeError, httpx.HTTPError, httpx.StreamError):
        return []


def _media_type_in(body: bytes) -> object:
    """The ``mediaType`` a manifest declares in its body (registries may omit the header)."""
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value.get("mediaType") if isinstance(value, dict) else None
