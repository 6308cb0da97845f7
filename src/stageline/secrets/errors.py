"""Secret store errors, named as Secrets Manager and SSM name them so the API renders them unchanged.

They subclass ApiError (stageline.errors) because those names are what users
search for; a build that cannot resolve a reference reports the same message.
No message ever carries a secret value.
"""

from __future__ import annotations

from stageline.errors import ApiError


class ResourceNotFound(ApiError):
    """A secret (or a version of one) that does not exist."""

    code = "ResourceNotFoundException"


class ResourceExists(ApiError):
    code = "ResourceExistsException"


class InvalidParameter(ApiError):
    code = "InvalidParameterException"


class InvalidRequest(ApiError):
    """A request that is valid but not now, e.g. on a secret scheduled for deletion."""

    code = "InvalidRequestException"


class DecryptionFailure(ApiError):
    """A stored value the configured key cannot decrypt (the key changed or is missing)."""

    code = "DecryptionFailure"


class ParameterNotFound(ApiError):
    code = "ParameterNotFound"


class ParameterAlreadyExists(ApiError):
    code = "ParameterAlreadyExists"


class ParameterVersionNotFound(ApiError):
    code = "ParameterVersionNotFound"


class ValueRefused(ApiError):
    """stageline never hands a secret value to an API caller; builds read values directly."""

    code = "AccessDeniedException"


def secret_not_found(secret_id: str) -> ResourceNotFound:
    return ResourceNotFound(
        f"secret '{secret_id}' does not exist; create it with `stageline secret put {secret_id}`"
    )


def parameter_not_found(name: str) -> ParameterNotFound:
    return ParameterNotFound(
        f"parameter '{name}' does not exist; create it with "
        f"`stageline secret put {name} --kind parameter`"
    )


def scheduled_for_deletion(name: str) -> InvalidRequest:
    return InvalidRequest(
        f"secret '{name}' is scheduled for deletion, so it cannot be used or changed; restore "
        f"it with `stageline secret restore {name}` (RestoreSecret), or remove it for good with "
        f"`stageline secret delete {name} --force`"
    )
