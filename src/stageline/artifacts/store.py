"""The artifact store contract: where zipped artifacts live between actions.

An action's output artifact is one zip object under a key; a later action reads
it by the same key. On AWS the object sits in the pipeline's S3 bucket, and job
data points at it with ``location{type: S3, s3Location{bucketName, objectKey}}``
(DESIGN.md §3, job data). stageline keeps the same shape whatever the backend:
a local directory by default, an S3-compatible store past one machine.

Keys reach a store from job results, from the database and from users, so every
implementation validates them with :func:`check_key` before touching anything.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol, runtime_checkable

#: How much of the pipeline and artifact names go into a key, as the brief for
#: AWS-like keys says; the random id keeps keys unique whatever the names.
KEY_NAME_CHARS = 20
KEY_ID_BYTES = 9  # secrets.token_urlsafe(9) is 12 url-safe characters
MAX_KEY_BYTES = 1024  # S3's limit on object key length
MAX_SEGMENT_CHARS = 200  # a segment is a file name in the local store (255-byte limit)

# S3's "safe characters" for object keys, plus @ + = , ~ which pipeline names
# and common keys use. Anything else (spaces, backslash, control characters,
# NUL, '#', ':') is refused: keys become file paths in the local store.
_KEY_SEGMENT = re.compile(r"[A-Za-z0-9!\-_.*'()@+=,~]+")


@dataclass(frozen=True, kw_only=True)
class ArtifactInfo:
    """What a store knows about one stored object once it is written."""

    key: str
    size: int
    sha256: str
    md5: str  # hex digest, what S3 reports as the ETag of a single-part upload


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe object key, else raise ``ValueError`` naming it.

    Every key is treated as hostile: it may come from a job result or a stored
    row written by someone else, and the local store turns it into a path.
    """
    if not isinstance(key, str) or not key:
        raise ValueError(f"artifact key {key!r} is empty; expected '<pipeline>/<artifact>/<id>'")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise ValueError(f"artifact key {key[:60]!r}... is longer than {MAX_KEY_BYTES} bytes")
    if key.startswith("/"):
        raise ValueError(f"artifact key {key!r} starts with '/'; keys are relative")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise ValueError(
                f"artifact key {key!r} has an empty, '.' or '..' path segment; the key is refused"
            )
        if len(segment) > MAX_SEGMENT_CHARS:
            raise ValueError(
                f"artifact key {key[:60]!r}... has a path segment longer than "
                f"{MAX_SEGMENT_CHARS} characters; the key is refused"
            )
        if not _KEY_SEGMENT.fullmatch(segment):
            raise ValueError(
                f"artifact key {key!r} contains a character outside "
                "A-Z a-z 0-9 ! - _ . * ' ( ) @ + = , ~ and '/'; the key is refused"
            )
    return key


def _key_segment(name: str) -> str:
    """A name cut to :data:`KEY_NAME_CHARS`, made safe to stand as one key segment.

    Pipeline names may legally be ``..`` or contain characters a key refuses;
    such names still get a key, with the odd characters replaced by ``_``.
    """
    cut = name[:KEY_NAME_CHARS]
    safe = "".join(c if _KEY_SEGMENT.fullmatch(c) else "_" for c in cut)
    if safe.strip(".") == "":
        safe = "_" * max(len(safe), 1)
    return safe


def make_key(pipeline_name: str, artifact_name: str) -> str:
    """A fresh key ``<pipeline[:20]>/<artifact[:20]>/<12 random chars>``, shaped like AWS's.

    AWS names artifact objects ``<pipeline>/<artifact>/<random id>`` with both
    names truncated; the random id makes every execution's output a new object,
    so a retried or concurrent action never overwrites another's artifact.
    """
    key = "/".join(
        (
            _key_segment(pipeline_name),
            _key_segment(artifact_name),
            secrets.token_urlsafe(KEY_ID_BYTES),
        )
    )
    return check_key(key)


def location(key: str, bucket: str) -> dict[str, Any]:
    """The ``location`` member of a job's input or output artifact, as AWS writes it.

    The bucket is the pipeline's ``artifactStore.location``; for the local store
    it is only a label, but clients (and custom job workers) expect it there.
    """
    return {"type": "S3", "s3Location": {"bucketName": bucket, "objectKey": check_key(key)}}


@runtime_checkable
class ArtifactStore(Protocol):
    """Somewhere to keep artifact objects by key; the local directory is one, S3 another.

    Implementations stream: ``put`` reads its source in chunks and ``open``
    returns a stream, so memory stays flat whatever the artifact's size
    (DESIGN.md §2.6). Every method refuses a malformed key with ``ValueError``;
    reading a key that does not exist raises :class:`ArtifactNotFoundError`.
    """

    def new_key(self, pipeline_name: str, artifact_name: str) -> str:
        """A fresh, unique key for an output artifact of ``pipeline_name``."""
        ...

    def put(self, key: str, source: BinaryIO) -> ArtifactInfo:
        """Store everything ``source`` yields under ``key``; all or nothing."""
        ...

    def open(self, key: str) -> BinaryIO:
        """A readable binary stream of the object at ``key``; the caller closes it."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored at ``key``."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object at ``key``; deleting a missing key is not an error (as on S3)."""
        ...

    def size(self, key: str) -> int:
        """The size in bytes of the object at ``key``."""
        ...

    def local_path(self, key: str) -> Path | None:
        """A file path agents on this machine can read directly, or None if not local."""
        ...


class ArtifactNotFoundError(FileNotFoundError):
    """No object is stored at the key; the message names the key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"artifact {key!r} does not exist in the artifact store")
        self.key = key
