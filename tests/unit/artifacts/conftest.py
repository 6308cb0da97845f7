"""Helpers for the artifact tests: streams that prove reading happens in bounded chunks."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest

#: The most one read() may ask for; the code under test reads 1 MiB at a time.
MAX_READ = 4 * 1024 * 1024


class GuardedReader(io.RawIOBase):
    """Wraps a binary stream and fails the test if one read could return more than 4 MiB.

    ``read()``/``read(-1)`` is allowed only when what is left is small (zipfile
    reads the end record that way), so a whole-file read of a large artifact fails.
    """

    def __init__(self, inner: Any, *, seekable: bool = True) -> None:
        self.inner = inner
        self._seekable = seekable
        self.largest = 0

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.inner.close()
        super().close()

    def seekable(self) -> bool:
        return self._seekable

    def _remaining(self) -> int:
        here = self.inner.tell()
        end = self.inner.seek(0, os.SEEK_END)
        self.inner.seek(here)
        return int(end - here)

    def read(self, size: int | None = -1) -> bytes:
        wanted = self._remaining() if size is None or size < 0 else size
        if wanted > MAX_READ:
            pytest.fail(f"read({size}) would return {wanted} bytes at once; expected chunks")
        self.largest = max(self.largest, wanted)
        return bytes(self.inner.read(size))

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if not self._seekable:
            raise io.UnsupportedOperation("seek")
        return int(self.inner.seek(offset, whence))

    def tell(self) -> int:
        if not self._seekable:
            raise io.UnsupportedOperation("tell")
        return int(self.inner.tell())


class ZeroStream(io.RawIOBase):
    """``size`` zero bytes, produced on demand (never held in memory), read through the guard."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > MAX_READ:
            pytest.fail(f"read({size}) on a {self.left}-byte stream; expected chunks")
        size = min(size, self.left)
        self.left -= size
        return bytes(size)


@pytest.fixture
def guarded() -> type[GuardedReader]:
    return GuardedReader


@pytest.fixture
def zeros() -> type[ZeroStream]:
    return ZeroStream
