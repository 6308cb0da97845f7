"""What a connection, a host and a remote repository are, inside stageline.

Frozen dataclasses (STYLE.md §4); the CodeConnections wire shapes are built
from them at the API edge only. ARNs are held in one canonical form (the
``codestar-connections`` one) so that both services' ARNs of one resource
compare equal; the API writes them in its own service's form.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

BITBUCKET = "Bitbucket"
GITHUB = "GitHub"
GITHUB_ENTERPRISE_SERVER = "GitHubEnterpriseServer"
GITLAB = "GitLab"
GITLAB_SELF_MANAGED = "GitLabSelfManaged"
PROVIDER_TYPES = (BITBUCKET, GITHUB, GITHUB_ENTERPRISE_SERVER, GITLAB, GITLAB_SELF_MANAGED)
# Installed (self-managed) providers are reached through a host, which holds their address.
HOST_PROVIDER_TYPES = (GITHUB_ENTERPRISE_SERVER, GITLAB_SELF_MANAGED)
# Where the cloud providers' repositories are; GitHub's is the server's --github-url.
CLOUD_ENDPOINTS = {GITLAB: "https://gitlab.com", BITBUCKET: "https://bitbucket.org"}
# The user name each provider expects beside a bare access token in HTTP basic auth.
TOKEN_USERNAMES = {
    GITHUB: "x-access-token",
    GITHUB_ENTERPRISE_SERVER: "x-access-token",
    GITLAB: "oauth2",
    GITLAB_SELF_MANAGED: "oauth2",
    BITBUCKET: "x-token-auth",
}

# stageline has no console handshake to wait for: a connection or host is usable at once.
AVAILABLE = "AVAILABLE"
PENDING = "PENDING"
ERROR = "ERROR"


@dataclass(frozen=True, kw_only=True)
class Host:
    """A self-managed provider's installation (CreateHost), reached at ``provider_endpoint``."""

    arn: str
    name: str
    provider_type: str
    provider_endpoint: str
    status: str
    created_ms: int
    vpc_configuration: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class Connection:
    """A connection (CreateConnection) plus stageline's settings for reaching the provider.

    ``endpoint`` overrides where repositories are fetched from; ``credentials_secret``
    names the secret in stageline's store that holds the token (never the token), and
    ``webhook_secret`` the secret that deliveries to the connection's webhook URL must
    prove (never its value).
    """

    arn: str
    name: str
    provider_type: str
    status: str
    owner_account_id: str
    created_ms: int
    host_arn: str | None = None
    endpoint: str | None = None
    credentials_secret: str | None = None
    webhook_secret: str | None = None


@dataclass(frozen=True)
class Credentials:
    """HTTP basic credentials for a remote; the secret half never shows in a repr or a log."""

    username: str
    password: str = field(repr=False)

    def authorization(self) -> str:
        """The ``Authorization`` header value git sends (``Basic base64(user:token)``)."""
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    @classmethod
    def from_secret(cls, value: str, *, default_username: str) -> Credentials:
        """A secret holds a bare token, or ``user:token`` when the provider needs a user."""
        value = value.strip()
        user, sep, token = value.partition(":")
        if sep and user and token and "/" not in user:
            return cls(user, token)
        return cls(default_username, value)


@dataclass(frozen=True, kw_only=True)
class RemoteRepository:
    """Where a source action fetches from, and how it authenticates there."""

    url: str
    credentials: Credentials | None = field(default=None, repr=False)
    # The provider's web address of the repository (commit links), when it has one.
    web_url: str | None = None
    provider_type: str | None = None

    def commit_page(self, commit: str) -> str | None:
        """The provider's web page of one commit, as AWS links a revision to it."""
        if self.web_url is None:
            return None
        if self.provider_type in (GITLAB, GITLAB_SELF_MANAGED):
            return f"{self.web_url}/-/commit/{commit}"
        if self.provider_type == BITBUCKET:
            return f"{self.web_url}/commits/{commit}"
        return f"{self.web_url}/commit/{commit}"
