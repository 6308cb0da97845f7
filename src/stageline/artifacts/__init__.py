"""Artifacts: the store that keeps them and the zip code that packs and unpacks them.

Everything streams in chunks, so memory stays flat whatever an artifact's size,
and extraction treats every archive as hostile (DESIGN.md §2.6).
"""

from __future__ import annotations

from stageline.artifacts.extraction import ExtractSummary, UnsafeArchiveError, extract_zip
from stageline.artifacts.local import LocalArtifactStore
from stageline.artifacts.store import (
    ArtifactInfo,
    ArtifactNotFoundError,
    ArtifactStore,
    check_key,
    location,
    make_key,
)
from stageline.artifacts.zipping import PackagingError, ZipSummary, zip_directory

#: CodePipeline's quota on an S3 source artifact (5 GB), the default extraction limit.
DEFAULT_MAX_ARTIFACT_BYTES = 5 * 1024**3
#: CodePipeline's quota on a git (CodeCommit/connection) source artifact (1 GB).
MAX_GIT_SOURCE_BYTES = 1024**3

__all__ = [
    "DEFAULT_MAX_ARTIFACT_BYTES",
    "MAX_GIT_SOURCE_BYTES",
    "ArtifactInfo",
    "ArtifactNotFoundError",
    "ArtifactStore",
    "ExtractSummary",
    "LocalArtifactStore",
    "PackagingError",
    "UnsafeArchiveError",
    "ZipSummary",
    "check_key",
    "extract_zip",
    "location",
    "make_key",
    "zip_directory",
]
