"""Pinned pipeline versions, cached: an execution runs the version it started with."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy import Connection

from stageline.definitions.model import PipelineDecl, pipeline_from_wire
from stageline.store import pipelines as pipeline_store


class DeclarationCache:
    """(pipeline, version) -> declaration. Versions never change once written, so caching is safe;
    a deleted and re-created pipeline reuses version numbers, so entries carry the creation time."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, int, int], tuple[PipelineDecl, dict[str, Any]]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def get(
        self, conn: Connection, name: str, version: int, *, created_ms: int | None = None
    ) -> tuple[PipelineDecl, dict[str, Any]] | None:
        if created_ms is None:
            row = pipeline_store.get(conn, name)
            if row is None:
                return None
            created_ms = row.created_ms
        key = (name, version, created_ms)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        stored = pipeline_store.get_version(conn, name, version)
        if stored is None:
            return None
        value = (pipeline_from_wire(stored.declaration), stored.declaration)
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value
