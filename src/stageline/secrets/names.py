"""Names and ARNs of parameters and secrets, checked by AWS's rules.

Parameter names: letters, digits, ``_.-`` and ``/`` for a hierarchy, which
then starts with ``/`` (``/app/db/password``); at most 1,011 characters and 15
levels; no ``aws`` or ``ssm`` prefix. Secret names: letters, digits and
``/_+=.@-``, at most 512 characters; the ARN adds ``-`` and six random
characters, so a secret recreated under an old name gets a new ARN.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass

from stageline.errors import ApiError, ValidationError

MAX_PARAMETER_NAME = 1011
MAX_HIERARCHY_LEVELS = 15
MAX_SECRET_NAME = 512
ARN_SUFFIX_LENGTH = 6

_PARAMETER_NAME = re.compile(r"[a-zA-Z0-9_.\-/]+")
_SECRET_NAME = re.compile(r"[a-zA-Z0-9/_+=.@\-]+")
_PARAMETER_ARN = re.compile(
    r"arn:aws[\w-]*:ssm:(?P<region>[^:]*):(?P<account>\d*):parameter/(?P<rest>[^:]+)(?::(?P<selector>.+))?"
)
_SECRET_ARN = re.compile(
    r"arn:aws[\w-]*:secretsmanager:(?P<region>[^:]*):(?P<account>\d*):secret:(?P<resource>.+)"
)
_RANDOM = random.SystemRandom()


class HierarchyLevelLimitExceeded(ApiError):
    code = "HierarchyLevelLimitExceededException"


def check_parameter_name(name: str) -> str:
    if len(name) > MAX_PARAMETER_NAME:
        raise ValidationError(
            f"parameter name '{name[:40]}...' is {len(name)} characters; "
            f"the limit is {MAX_PARAMETER_NAME}"
        )
    if not _PARAMETER_NAME.fullmatch(name):
        raise ValidationError(
            f"parameter name '{name}' may contain only letters, digits, '_', '.', '-' and '/' "
            "(for a hierarchy, e.g. /app/db/password)"
        )
    if "/" in name:
        if not name.startswith("/"):
            raise ValidationError(
                f"parameter name '{name}' must be fully qualified: a name with '/' starts "
                f"with '/' (/{name})"
            )
        if "//" in name or name.endswith("/"):
            raise ValidationError(f"parameter name '{name}' has an empty level between '/'s")
        levels = name.count("/")
        if levels > MAX_HIERARCHY_LEVELS:
            raise HierarchyLevelLimitExceeded(
                f"parameter name '{name}' has {levels} levels; the limit is {MAX_HIERARCHY_LEVELS}"
            )
    first = name.lstrip("/").lower()
    if first.startswith(("aws", "ssm")):
        raise ValidationError(
            f"parameter name '{name}' can't be prefixed with 'aws' or 'ssm' "
            "(case-insensitive); AWS reserves them"
        )
    return name


def parameter_arn(region: str, account_id: str, name: str) -> str:
    separator = "" if name.startswith("/") else "/"
    return f"arn:aws:ssm:{region}:{account_id}:parameter{separator}{name}"


@dataclass(frozen=True, kw_only=True)
class ParameterReference:
    """What GetParameter's Name (or a buildspec) names: candidate names and a version selector."""

    names: tuple[str, ...]
    selector: str | None
    # The region and account an ARN named, which must be ours.
    region: str | None = None
    account_id: str | None = None


def parse_parameter_reference(reference: str) -> ParameterReference:
    """``name``, ``name:selector`` or the parameter's ARN (optionally with ``:selector``)."""
    m = _PARAMETER_ARN.fullmatch(reference)
    if m:
        rest = m.group("rest")
        # parameter/token is the ARN of both "token" and "/token"; a hierarchy always has the '/'.
        names = (f"/{rest}",) if "/" in rest else (rest, f"/{rest}")
        return ParameterReference(
            names=names,
            selector=m.group("selector"),
            region=m.group("region"),
            account_id=m.group("account"),
        )
    name, _, selector = reference.partition(":")
    return ParameterReference(names=(name,), selector=selector or None)


def check_secret_name(name: str) -> str:
    if len(name) > MAX_SECRET_NAME:
        raise ValidationError(
            f"secret name '{name[:40]}...' is {len(name)} characters; the limit is {MAX_SECRET_NAME}"
        )
    if not _SECRET_NAME.fullmatch(name):
        raise ValidationError(
            f"secret name '{name}' may contain only ASCII letters, digits and the characters /_+=.@-"
        )
    return name


def secret_arn(region: str, account_id: str, name: str) -> str:
    alphabet = string.ascii_letters + string.digits
    suffix = "".join(_RANDOM.choice(alphabet) for _ in range(ARN_SUFFIX_LENGTH))
    return f"arn:aws:secretsmanager:{region}:{account_id}:secret:{name}-{suffix}"


def secret_name_in_arn(secret_id: str) -> str | None:
    """The name part of a secret ARN, full (with the random suffix) or partial; None if not an ARN."""
    m = _SECRET_ARN.fullmatch(secret_id)
    return m.group("resource") if m else None
