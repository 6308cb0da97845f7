"""What a build reports: its phases, their statuses and contexts, in CodeBuild's vocabulary.

The names are CodeBuild's (``BuildPhase.phaseType``, ``phaseStatus``,
``contexts[].statusCode/message``, ``buildStatus``) so the API layer only
changes the case of the keys when it renders ``BatchGetBuilds``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType


class PhaseType(StrEnum):
    """CodeBuild's build phases, in the order a build goes through them."""

    SUBMITTED = "SUBMITTED"
    QUEUED = "QUEUED"
    PROVISIONING = "PROVISIONING"
    DOWNLOAD_SOURCE = "DOWNLOAD_SOURCE"
    INSTALL = "INSTALL"
    PRE_BUILD = "PRE_BUILD"
    BUILD = "BUILD"
    POST_BUILD = "POST_BUILD"
    UPLOAD_ARTIFACTS = "UPLOAD_ARTIFACTS"
    FINALIZING = "FINALIZING"
    COMPLETED = "COMPLETED"


class Status(StrEnum):
    """CodeBuild's ``StatusType``, used for phases and for the whole build."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    FAULT = "FAULT"
    TIMED_OUT = "TIMED_OUT"
    IN_PROGRESS = "IN_PROGRESS"
    STOPPED = "STOPPED"


#: The buildspec's phase names and the phase types they run in.
BUILDSPEC_PHASES: tuple[tuple[str, PhaseType], ...] = (
    ("install", PhaseType.INSTALL),
    ("pre_build", PhaseType.PRE_BUILD),
    ("build", PhaseType.BUILD),
    ("post_build", PhaseType.POST_BUILD),
)


@dataclass(frozen=True, kw_only=True)
class PhaseContext:
    """Why a phase ended as it did: ``COMMAND_EXECUTION_ERROR`` and the failing command."""

    status_code: str
    message: str

    def __str__(self) -> str:
        return f"{self.status_code}: {self.message}"


@dataclass(frozen=True, kw_only=True)
class PhaseResult:
    """One entry of a build's ``phases``. COMPLETED has a start and nothing else, as in AWS."""

    phase_type: PhaseType
    status: Status | None
    start: datetime
    end: datetime | None
    contexts: tuple[PhaseContext, ...] = ()

    @property
    def duration_s(self) -> float | None:
        return None if self.end is None else (self.end - self.start).total_seconds()


@dataclass(frozen=True, kw_only=True)
class ArtifactOutput:
    """Where an artifact's files were put (``identifier`` None is the primary one)."""

    identifier: str | None
    #: The ``name`` after the shell expanded it (``myname-$(date +%F)``), or None.
    name: str | None
    directory: Path
    files: int


@dataclass(frozen=True, kw_only=True)
class BuildResult:
    """How a build ended, what it exported, and where its artifacts are."""

    build_id: str
    status: Status
    start: datetime
    end: datetime
    phases: tuple[PhaseResult, ...]
    #: ``env.exported-variables`` read from the shell after ``post_build``.
    exported_variables: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    artifacts: tuple[ArtifactOutput, ...] = ()

    @property
    def succeeded(self) -> bool:
        return self.status is Status.SUCCEEDED

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()

    def phase(self, phase_type: PhaseType) -> PhaseResult | None:
        """The last result of ``phase_type`` (None when the build never entered it)."""
        found = [p for p in self.phases if p.phase_type is phase_type]
        return found[-1] if found else None

    @property
    def failure(self) -> PhaseContext | None:
        """The first context of the first phase that did not succeed, for a summary line."""
        for result in self.phases:
            if result.status not in (None, Status.SUCCEEDED) and result.contexts:
                return result.contexts[0]
        return None
