"""Repository errors, named as CodeCommit names them so the API can render them unchanged.

They subclass ApiError (stageline.errors) because CodeCommit's error names are
the vocabulary users already search for; providers turn them into job failures.
"""

from __future__ import annotations

from stageline.errors import ApiError


class RepositoryDoesNotExist(ApiError):
    code = "RepositoryDoesNotExistException"


class RepositoryNameExists(ApiError):
    code = "RepositoryNameExistsException"


class InvalidRepositoryName(ApiError):
    code = "InvalidRepositoryNameException"


class InvalidRepositoryDescription(ApiError):
    code = "InvalidRepositoryDescriptionException"


class InvalidBranchName(ApiError):
    code = "InvalidBranchNameException"


class InvalidReferenceName(ApiError):
    code = "InvalidReferenceNameException"


class BranchDoesNotExist(ApiError):
    code = "BranchDoesNotExistException"


class InvalidCommitId(ApiError):
    code = "InvalidCommitIdException"


class CommitDoesNotExist(ApiError):
    """A ref or commit id that names no commit; GetCommit reports it as CommitIdDoesNotExist."""

    code = "CommitDoesNotExistException"


class EmptyRepository(BranchDoesNotExist):
    """A repository nobody has pushed to yet: every branch lookup fails the same way on AWS."""


class GitFailed(ApiError):
    """A git subprocess failed for a reason that is ours, not the caller's."""

    code = "InternalFailure"
    status = 500


class UnsafeTree(ApiError):
    """A commit whose files would land outside the directory they are written to."""

    code = "ValidationException"


class TreeTooLarge(ApiError):
    code = "ValidationException"
