"""The default artifact store: a directory on this machine (``<data dir>/artifacts``).

Objects are plain files at ``<root>/<key>``, so an agent on the same machine
reads an input artifact in place instead of copying it (``local_path``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from stageline.artifacts.store import ArtifactInfo, ArtifactNotFoundError, check_key, make_key

#: Bytes read from a source per call; memory stays flat whatever the artifact's size.
CHUNK_BYTES = 1024 * 1024

# Temporary names carry '#', a character check_key never lets into a key, so a
# half-written upload can never be mistaken for (or read as) a stored artifact.
_TEMP_PREFIX = ".#"
_TEMP_SUFFIX = ".partial"


class LocalArtifactStore:
    """An :class:`~stageline.artifacts.store.ArtifactStore` in a local directory.

    Writes are atomic: the bytes go to a temporary file beside the final one,
    are fsynced, and are renamed into place, so a crash or a failing upload
    never leaves a half-written artifact under its key and a reader sees the
    whole old object or the whole new one. Files are created owner-only (0600):
    artifacts can hold source code and secrets.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.abspath(root))
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalArtifactStore({str(self.root)!r})"

    def new_key(self, pipeline_name: str, artifact_name: str) -> str:
        return make_key(pipeline_name, artifact_name)

    def put(self, key: str, source: BinaryIO) -> ArtifactInfo:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        sha256 = hashlib.sha256()
        md5 = hashlib.md5(usedforsecurity=False)
        size = 0
        fd, temp = tempfile.mkstemp(
            prefix=f"{_TEMP_PREFIX}{final.name[:100]}.", suffix=_TEMP_SUFFIX, dir=final.parent
        )
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(CHUNK_BYTES):
                    out.write(chunk)
                    sha256.update(chunk)
                    md5.update(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, final)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        _fsync_directory(final.parent)
        return ArtifactInfo(key=key, size=size, sha256=sha256.hexdigest(), md5=md5.hexdigest())

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            return path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ArtifactNotFoundError(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        # Directories are left in place: removing them would race with a
        # concurrent put under the same pipeline/artifact prefix, and there is
        # only one per pipeline and artifact name.
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            self._path(key).unlink()

    def size(self, key: str) -> int:
        path = self._path(key)
        if not path.is_file():
            raise ArtifactNotFoundError(key)
        return path.stat().st_size

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def _path(self, key: str) -> Path:
        """The file for ``key``, after checking the key cannot name anything outside the root.

        ``check_key`` already refuses ``..``, absolute keys and odd characters;
        the resolved-path check also refuses a key that would pass through a
        symlink someone planted under the root.
        """
        check_key(key)
        path = self.root.joinpath(*key.split("/"))
        resolved_root = self.root.resolve()
        if not path.resolve().is_relative_to(resolved_root):
            raise ValueError(
                f"artifact key {key!r} resolves outside the artifact store; the key is refused"
            )
        return path


def _fsync_directory(directory: Path) -> None:
    """Make a rename durable: the new directory entry must reach the disk too."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
