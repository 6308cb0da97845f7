"""The local artifact store: keys, streamed atomic writes, and hostile keys refused."""

from __future__ import annotations

import hashlib
import io
import os
import re
from pathlib import Path

import pytest

from stageline.artifacts import (
    ArtifactNotFoundError,
    ArtifactStore,
    LocalArtifactStore,
    location,
)


@pytest.fixture
def store(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "data" / "artifacts")


def test_local_store_satisfies_the_protocol(store: LocalArtifactStore) -> None:
    assert isinstance(store, ArtifactStore)


def test_new_key_is_shaped_like_aws_and_unique(store: LocalArtifactStore) -> None:
    key = store.new_key("deploy-the-whole-monolith", "SourceArtifactWithALongName")
    assert re.fullmatch(r"deploy-the-whole-mon/SourceArtifactWithAL/[A-Za-z0-9_-]{12}", key)
    keys = {store.new_key("p", "a") for _ in range(500)}
    assert len(keys) == 500


@pytest.mark.parametrize("pipeline", ["..", ".", "odd name#1", ""])
def test_new_key_is_valid_even_for_odd_names(store: LocalArtifactStore, pipeline: str) -> None:
    key = store.new_key(pipeline, "Out")
    info = store.put(key, io.BytesIO(b"x"))
    assert store.exists(info.key)
    assert store.local_path(key).is_relative_to(store.root)  # type: ignore[union-attr]


def test_location_is_the_job_data_shape() -> None:
    assert location("p/a/abc", "codepipeline-us-east-1-bucket") == {
        "type": "S3",
        "s3Location": {"bucketName": "codepipeline-us-east-1-bucket", "objectKey": "p/a/abc"},
    }
    with pytest.raises(ValueError, match=r"\.\./x"):
        location("../x", "bucket")


def test_put_open_size_delete_round_trip(store: LocalArtifactStore) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)  # spans several chunks
    key = store.new_key("pipe", "BuildOut")
    info = store.put(key, io.BytesIO(data))
    assert info.key == key
    assert info.size == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.md5 == hashlib.md5(data).hexdigest()
    assert store.exists(key)
    assert store.size(key) == len(data)
    with store.open(key) as stream:
        assert stream.read() == data
    path = store.local_path(key)
    assert path is not None and path.read_bytes() == data
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)  # deleting a missing key is not an error, as on S3


def test_missing_key_is_reported_by_name(store: LocalArtifactStore) -> None:
    with pytest.raises(ArtifactNotFoundError, match="'p/a/missing'"):
        store.open("p/a/missing")
    with pytest.raises(FileNotFoundError, match="'p/a/missing'"):
        store.size("p/a/missing")
    assert not store.exists("p/a/missing")


def test_put_replaces_an_object_whole(store: LocalArtifactStore) -> None:
    store.put("p/a/k", io.BytesIO(b"old"))
    store.put("p/a/k", io.BytesIO(b"new contents"))
    with store.open("p/a/k") as stream:
        assert stream.read() == b"new contents"


class _FailingReader(io.RawIOBase):
    """Yields a few chunks, then fails like a dropped upload connection."""

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self.chunks == 0:
            raise ConnectionResetError("upload interrupted")
        self.chunks -= 1
        return b"z" * 1024


def test_failed_upload_leaves_nothing_under_the_key(store: LocalArtifactStore) -> None:
    key = "pipe/BuildOut/abcdefghijkl"
    with pytest.raises(ConnectionResetError):
        store.put(key, _FailingReader(chunks=3))  # type: ignore[arg-type]
    assert not store.exists(key)
    directory = store.root / "pipe" / "BuildOut"
    assert list(directory.iterdir()) == []  # no temporary file left behind either


def test_failed_upload_keeps_the_previous_object(store: LocalArtifactStore) -> None:
    key = "pipe/BuildOut/abcdefghijkl"
    store.put(key, io.BytesIO(b"previous"))
    with pytest.raises(ConnectionResetError):
        store.put(key, _FailingReader(chunks=2))  # type: ignore[arg-type]
    with store.open(key) as stream:
        assert stream.read() == b"previous"
    assert sorted(p.name for p in (store.root / "pipe" / "BuildOut").iterdir()) == ["abcdefghijkl"]


def test_put_reads_in_chunks(store: LocalArtifactStore, zeros: type) -> None:
    info = store.put("p/a/big", zeros(64 * 1024 * 1024))
    assert info.size == 64 * 1024 * 1024
    assert info.sha256 == hashlib.sha256(bytes(64 * 1024 * 1024)).hexdigest()


HOSTILE_KEYS = [
    "",
    "../outside",
    "p/../../outside",
    "p/a/..",
    "/etc/passwd",
    "p\\..\\outside",
    "p/a/b\x00c",
    "p//a",
    "p/./a",
    "p/a/",
    ".",
    "p/a/with space",
    "C:/windows",
    "p/a/" + "x" * 300,
    "p/" * 600 + "x",
]


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_hostile_keys_are_refused_everywhere(store: LocalArtifactStore, key: str) -> None:
    calls = [
        lambda: store.put(key, io.BytesIO(b"x")),
        lambda: store.open(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
        lambda: store.size(key),
        lambda: store.local_path(key),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="artifact key"):
            call()
    outside = store.root.parent
    assert sorted(p.name for p in outside.iterdir()) == ["artifacts"]


def test_key_through_a_planted_symlink_is_refused(
    store: LocalArtifactStore, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (store.root / "p").symlink_to(elsewhere)
    with pytest.raises(ValueError, match="'p/a/k' resolves outside"):
        store.put("p/a/k", io.BytesIO(b"x"))
    assert list(elsewhere.iterdir()) == []
