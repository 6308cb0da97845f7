"""ARNs of connections and hosts, repository ids and endpoint URLs, checked before use.

CodeStar Connections was renamed CodeConnections: the same resources are
named ``arn:aws:codestar-connections:...`` by the old API and
``arn:aws:codeconnections:...`` by the new one, and pipelines hold either.
Everything below the API works on one canonical form (the older one).

Repository ids and endpoints reach git's command line and URLs, so they are
validated here, once: ids are OWNER/NAME (GitLab allows subgroups:
GROUP/SUB/NAME) of safe characters, never ``.`` or ``..``; endpoints are
http, https or file URLs without user names or passwords in them (credentials
live in the secret store).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from stageline.connections.errors import InvalidInput

CANONICAL_SERVICE = "codestar-connections"
SERVICES = (CANONICAL_SERVICE, "codeconnections")
_ARN = re.compile(
    r"arn:(?P<partition>aws[\w-]*):(?P<service>codestar-connections|codeconnections):"
    r"(?P<region>[^:]+):(?P<account>\d{12}):(?P<kind>connection|host)/(?P<id>.+)"
)
_SEGMENT = re.compile(r"[A-Za-z0-9_.-]+")
MAX_REPOSITORY_ID = 200
URL_SCHEMES = ("https", "http", "file")
_HOST_ID_CHARS = re.compile(r"[^A-Za-z0-9-]+")


@dataclass(frozen=True, kw_only=True)
class ParsedArn:
    service: str
    region: str
    account_id: str
    kind: str  # connection | host
    resource_id: str


def parse_arn(arn: str) -> ParsedArn | None:
    m = _ARN.fullmatch(arn or "")
    if not m:
        return None
    return ParsedArn(
        service=m.group("service"),
        region=m.group("region"),
        account_id=m.group("account"),
        kind=m.group("kind"),
        resource_id=m.group("id"),
    )


def canonical(arn: str) -> str:
    """The ``codestar-connections`` form of either service's ARN (others unchanged)."""
    return in_service(arn, CANONICAL_SERVICE)


def in_service(arn: str, service: str) -> str:
    """``arn`` written as ``service`` (codestar-connections or codeconnections) names it."""
    parsed = parse_arn(arn)
    if parsed is None:
        return arn
    return arn.replace(f":{parsed.service}:", f":{service}:", 1)


def connection_arn(region: str, account_id: str) -> str:
    return f"arn:aws:{CANONICAL_SERVICE}:{region}:{account_id}:connection/{uuid.uuid4()}"


def host_arn(region: str, account_id: str, name: str) -> str:
    """AWS's form, ``host/<name>-<8 hex>``, with the name cut to characters safe in an ARN."""
    stem = _HOST_ID_CHARS.sub("-", name).strip("-")[:32] or "host"
    return f"arn:aws:{CANONICAL_SERVICE}:{region}:{account_id}:host/{stem}-{uuid.uuid4().hex[:8]}"


def check_repository_id(value: str, *, field: str = "FullRepositoryId") -> str:
    """``value`` if it is OWNER/NAME (or GROUP/.../NAME) of safe characters, else InvalidInput."""
    rule = (
        "it must be OWNER/REPOSITORY (GitLab: GROUP/SUBGROUP/REPOSITORY) of letters, digits, "
        "'_', '.' and '-', such as some-user/my-repo"
    )
    shown = repr(value[:120]) if isinstance(value, str) else repr(value)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"configuration {field} is required; {rule}")
    parts = value.split("/")
    if (
        len(value) > MAX_REPOSITORY_ID
        or len(parts) < 2
        or not all(_SEGMENT.fullmatch(p) for p in parts)
        or any(p in {".", ".."} or p.startswith("-") for p in parts)
    ):
        raise InvalidInput(f"configuration {field} {shown} is not valid: {rule}")
    return value


def check_name_segment(value: str, *, field: str) -> str:
    """One segment of a repository path (GitHub's Owner or Repo), with the same rules."""
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"configuration {field} is required")
    if not _SEGMENT.fullmatch(value) or value in {".", ".."} or value.startswith("-"):
        raise InvalidInput(
            f"configuration {field} {value[:120]!r} is not valid: use letters, digits, '_', '.' "
            "and '-' only, as GitHub does"
        )
    return value


def check_endpoint(url: str, *, field: str) -> str:
    """An http(s) or file URL without credentials in it, returned without a trailing slash."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput(f"{field} is required: an https://, http:// or file:// URL")
    url = url.strip()
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        raise InvalidInput(f"{field} {url!r} is not a valid URL: {exc}") from None
    if parts.scheme not in URL_SCHEMES:
        raise InvalidInput(
            f"{field} {url!r} is not valid: use an https://, http:// or file:// URL "
            "(e.g. https://git.example.com or file:///srv/git)"
        )
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(
            f"{field} must not hold a user name or password; store the token in a secret and "
            "name it with `stageline connection set NAME --credentials-secret SECRET`"
        )
    if parts.query or parts.fragment:
        raise InvalidInput(f"{field} {url!r} must not have a query or a fragment")
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or parts.path.strip("/") == "":
            raise InvalidInput(
                f"{field} {url!r} is not valid: write a file URL as file:///path/to/directory"
            )
    elif not parts.hostname:
        raise InvalidInput(f"{field} {url!r} has no host name")
    return url.rstrip("/")
