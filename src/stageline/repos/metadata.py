"""Repository metadata in a small JSON file beside the bare repository (``<name>.json``).

CodeCommit keeps an id, a description and dates that git itself has no place
for. A file per repository is enough until the team settles on a table; only
RepositoryService touches it, so the storage can change behind that API.
Writes go to a temporary file and are renamed into place, so a crash leaves the
old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True, kw_only=True)
class StoredMetadata:
    repository_id: str
    description: str | None
    created_ms: int
    last_modified_ms: int

    def touched(self, now_ms: int) -> StoredMetadata:
        return replace(self, last_modified_ms=now_ms)


def read(path: Path) -> StoredMetadata | None:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None
    try:
        return StoredMetadata(
            repository_id=str(data["repositoryId"]),
            description=data.get("description"),
            created_ms=int(data["createdMs"]),
            last_modified_ms=int(data.get("lastModifiedMs", data["createdMs"])),
        )
    except (KeyError, TypeError, ValueError):
        return None


def write(path: Path, meta: StoredMetadata) -> None:
    payload = {
        "repositoryId": meta.repository_id,
        "description": meta.description,
        "createdMs": meta.created_ms,
        "lastModifiedMs": meta.last_modified_ms,
    }
    fd, tmp = tempfile.mkstemp(prefix=".meta-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
