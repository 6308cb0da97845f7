"""Where a build goes after a phase fails: CodeBuild's phase transitions and ``on-failure``.

Without ``on-failure``, CodeBuild's documented transitions apply: a failure in
``install`` or ``pre_build`` ends the build (no later phase, no artifact
upload: straight to FINALIZING); a failure in ``build`` still runs
``post_build``, with ``CODEBUILD_BUILD_SUCCEEDING=0``; a failure in
``post_build`` still uploads artifacts ("The UPLOAD_ARTIFACTS phase is always
attempted, even if the BUILD phase fails"). ``on-failure: CONTINUE`` goes on
to the next phase whichever phase failed; ``ABORT`` ends the build at once. A
``RETRY…`` whose retries are spent (or whose regex did not match) falls back
to the default transition. Whatever happens next, a build with a failed phase
ends FAILED.
"""

from __future__ import annotations

from enum import StrEnum

from stageline.builds.onfailure import FailureAction, OnFailure


class Next(StrEnum):
    #: Run the next buildspec phase (after ``post_build``: upload artifacts).
    NEXT_PHASE = "next"
    #: Skip the remaining buildspec phases and the artifact upload.
    FINALIZE = "finalize"


_ENDS_BUILD = ("install", "pre_build")


def after_failure(phase: str, on_failure: OnFailure | None) -> Next:
    """Where to go when ``phase`` failed (after any retries)."""
    if on_failure is not None and on_failure.action is FailureAction.CONTINUE:
        return Next.NEXT_PHASE
    if on_failure is not None and on_failure.action is FailureAction.ABORT:
        return Next.FINALIZE
    return Next.FINALIZE if phase in _ENDS_BUILD else Next.NEXT_PHASE
