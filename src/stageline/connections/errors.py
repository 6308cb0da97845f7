"""Connection errors, named as CodeConnections names them so the API renders them unchanged.

They subclass ApiError (stageline.errors) because those names are what users
search for; the source actions turn them into job failures with the same
message. No message ever carries a credential.
"""

from __future__ import annotations

from stageline.errors import ApiError


class ResourceNotFound(ApiError):
    """A connection or host that does not exist (or a tag target that does not)."""

    code = "ResourceNotFoundException"


class ResourceUnavailable(ApiError):
    """A resource that exists but cannot be used now: a connection not AVAILABLE, a host in use."""

    code = "ResourceUnavailableException"


class LimitExceeded(ApiError):
    code = "LimitExceededException"


class Conflict(ApiError):
    """A name already taken: connection names are unique in an account, host names here too."""

    code = "ConflictException"


class InvalidInput(ApiError):
    code = "ValidationException"


class RemoteGitError(ApiError):
    """git could not read the remote repository, with AWS's job failure type for the reason.

    ``failure_type`` is CodePipeline's FailureType: PermissionError when the
    remote refused the credentials, ConfigurationError when it has no such
    repository, RevisionUnavailable for a branch or commit it does not hold,
    JobFailed otherwise (the network, the remote being down).
    """

    code = "RemoteGitError"

    def __init__(self, message: str, *, failure_type: str = "JobFailed") -> None:
        super().__init__(message)
        self.failure_type = failure_type
