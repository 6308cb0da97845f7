"""Connections and hosts (CodeStar Connections / CodeConnections), and where they fetch from.

On AWS a new connection (or host) stays PENDING until someone completes the
provider's handshake in the console. stageline has no console handshake: the
address a connection reaches and the token it uses are stageline's own
settings, so a connection or host is AVAILABLE from the moment it is created.

Where a connection fetches from, first match wins: the connection's endpoint
override (``stageline connection set NAME --endpoint URL``), its host's
ProviderEndpoint, the server's ``--github-url`` for GitHub, https://gitlab.com
for GitLab, https://bitbucket.org for Bitbucket. Its credentials are the
secret named by ``--credentials-secret`` (a token, or ``user:token``), read
from the secret store only when a source action fetches. Deliveries to its
webhook URL must prove the secret named by ``--webhook-secret``
(connections/secrets.py reads both).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.exc import IntegrityError

from stageline.connections import names
from stageline.connections import secrets as connection_secrets
from stageline.connections import store as db
from stageline.connections.errors import (
    Conflict,
    InvalidInput,
    LimitExceeded,
    ResourceNotFound,
    ResourceUnavailable,
)
from stageline.connections.git import repository_url
from stageline.connections.model import (
    AVAILABLE,
    CLOUD_ENDPOINTS,
    GITHUB,
    HOST_PROVIDER_TYPES,
    PROVIDER_TYPES,
    Connection,
    Credentials,
    Host,
    RemoteRepository,
)
from stageline.errors import ApiError
from stageline.secrets import SecretKeyError, SecretStore
from stageline.services.context import ServiceContext
from stageline.store import tags as tag_store
from stageline.webhooks.auth import Refused

log = logging.getLogger("stageline.connections")

# The TagList shape's limit in both services' models.
MAX_TAGS = 200
UNSET: Any = object()
LIST_HINT = "list them with `stageline connection list` (ListConnections)"


class ConnectionService:
    """Creates, reads and deletes connections and hosts, and resolves them for source actions."""

    def __init__(
        self, ctx: ServiceContext, *, secrets: SecretStore | None, github_url: str
    ) -> None:
        self.ctx = ctx
        self.secrets = secrets
        self.github_url = names.check_endpoint(github_url, field="--github-url")

    # -- hosts -------------------------------------------------------------------------

    def create_host(
        self,
        name: str,
        provider_type: str,
        provider_endpoint: str,
        *,
        vpc_configuration: Mapping[str, Any] | None = None,
        tags: Sequence[tuple[str, str]] = (),
    ) -> Host:
        if provider_type not in HOST_PROVIDER_TYPES:
            raise InvalidInput(
                f"a host's ProviderType must be {' or '.join(HOST_PROVIDER_TYPES)}, not "
                f"{provider_type!r}; {provider_type} connections need no host"
            )
        endpoint = names.check_endpoint(provider_endpoint, field="ProviderEndpoint")
        host = Host(
            arn=names.host_arn(self.ctx.region, self.ctx.account_id, name),
            name=name,
            provider_type=provider_type,
            provider_endpoint=endpoint,
            status=AVAILABLE,
            created_ms=self.ctx.clock.now_ms(),
            vpc_configuration=dict(vpc_configuration) if vpc_configuration else None,
        )
        _check_tags(tags, [])
        taken = Conflict(f"a host named '{name}' already exists; choose another name")
        try:
            with self.ctx.db.write() as conn:
                if db.host_named(conn, name) is not None:
                    raise taken
                db.insert_host(conn, host)
                tag_store.put_tags(conn, host.arn, list(tags))
        except IntegrityError:
            raise taken from None
        log.info("created host %s at %s", name, endpoint)
        return host

    def get_host(self, arn: str) -> Host:
        with self.ctx.db.read() as conn:
            return self._require_host(conn, arn)

    def list_hosts(self) -> list[Host]:
        with self.ctx.db.read() as conn:
            return db.list_hosts(conn)

    def update_host(
        self,
        arn: str,
        *,
        provider_endpoint: str | None = None,
        vpc_configuration: Mapping[str, Any] | None = None,
    ) -> Host:
        with self.ctx.db.write() as conn:
            host = self._require_host(conn, arn)
            if provider_endpoint is not None:
                endpoint = names.check_endpoint(provider_endpoint, field="ProviderEndpoint")
                host = replace(host, provider_endpoint=endpoint)
            if vpc_configuration is not None:
                host = replace(host, vpc_configuration=dict(vpc_configuration) or None)
            db.save_host(conn, host)
        return host

    def delete_host(self, arn: str) -> None:
        """AWS's rule: a host's connections must be deleted before the host."""
        with self.ctx.db.write() as conn:
            host = self._require_host(conn, arn)
            users = db.count_connections_of_host(conn, host.arn)
            if users:
                raise ResourceUnavailable(
                    f"host '{host.name}' is used by {users} connection(s); delete them first "
                    f"(ListConnections with HostArnFilter {host.arn} lists them)"
                )
            db.delete_host(conn, host.arn)
            tag_store.remove_all(conn, host.arn)

    def _require_host(self, conn: Any, arn: str) -> Host:
        host = db.get_host(conn, names.canonical(arn))
        if host is None:
            raise ResourceNotFound(
                f"host '{arn}' does not exist; list hosts with ListHosts "
                "(aws codeconnections list-hosts)"
            )
        return host

    # -- connections -------------------------------------------------------------------

    def create_connection(
        self,
        name: str,
        *,
        provider_type: str | None = None,
        host_arn: str | None = None,
        tags: Sequence[tuple[str, str]] = (),
    ) -> Connection:
        """A new connection, AVAILABLE at once (there is no console handshake here)."""
        if not provider_type and not host_arn:
            raise InvalidInput(
                "give ProviderType (Bitbucket, GitHub, GitLab) or HostArn (for GitHub "
                "Enterprise Server and GitLab self-managed, from CreateHost)"
            )
        _check_tags(tags, [])
        taken = Conflict(
            f"a connection named '{name}' already exists; connection names are unique in an "
            f"account, so choose another ({LIST_HINT})"
        )
        try:
            with self.ctx.db.write() as conn:
                if host_arn:
                    host = self._require_host(conn, host_arn)
                    if provider_type and provider_type != host.provider_type:
                        raise InvalidInput(
                            f"ProviderType {provider_type} does not match host '{host.name}', "
                            f"which is {host.provider_type}; omit ProviderType or make them match"
                        )
                    provider_type, host_arn = host.provider_type, host.arn
                elif provider_type in HOST_PROVIDER_TYPES:
                    raise InvalidInput(
                        f"a {provider_type} connection needs HostArn: create a host for your "
                        "installation first with CreateHost (its ProviderEndpoint is your server's "
                        "URL), then pass its ARN"
                    )
                assert provider_type in PROVIDER_TYPES
                if db.connection_named(conn, name) is not None:
                    raise taken
                connection = Connection(
                    arn=names.connection_arn(self.ctx.region, self.ctx.account_id),
                    name=name,
                    provider_type=provider_type,
                    status=AVAILABLE,
                    owner_account_id=self.ctx.account_id,
                    created_ms=self.ctx.clock.now_ms(),
                    host_arn=host_arn,
                )
                db.insert_connection(conn, connection)
                tag_store.put_tags(conn, connection.arn, list(tags))
        except IntegrityError:
            raise taken from None
        log.info("created connection %s (%s)", name, provider_type)
        return connection

    def get_connection(self, arn: str) -> Connection:
        with self.ctx.db.read() as conn:
            return self._require_connection(conn, arn)

    def find_connection(self, name_or_arn: str) -> Connection:
        """A connection by its name or either form of its ARN (stageline's own routes)."""
        with self.ctx.db.read() as conn:
            if names.parse_arn(name_or_arn) is None:
                found = db.connection_named(conn, name_or_arn)
                if found is None:
                    raise ResourceNotFound(
                        f"no connection is named '{name_or_arn}'; {LIST_HINT}, or create it with "
                        f"`stageline connection create {name_or_arn} --provider-type TYPE`"
                    )
                return found
            return self._require_connection(conn, name_or_arn)

    def list_connections(
        self, *, provider_type: str | None = None, host_arn: str | None = None
    ) -> list[Connection]:
        with self.ctx.db.read() as conn:
            return db.list_connections(
                conn,
                provider_type=provider_type,
                host_arn=names.canonical(host_arn) if host_arn else None,
            )

    def delete_connection(self, arn: str) -> None:
        with self.ctx.db.write() as conn:
            connection = self._require_connection(conn, arn)
            db.delete_connection(conn, connection.arn)
            tag_store.remove_all(conn, connection.arn)
        log.info("deleted connection %s", connection.name)

    def update_settings(
        self,
        name_or_arn: str,
        *,
        endpoint: Any = UNSET,
        credentials_secret: Any = UNSET,
        webhook_secret: Any = UNSET,
    ) -> Connection:
        """stageline's extension: where the connection fetches from and the secrets it uses.

        An empty value (or None) clears the setting; a secret must exist when named,
        so a typo is caught here rather than by the next pipeline run or delivery,
        and a webhook secret must hold a value that is not blank.
        """
        connection = self.find_connection(name_or_arn)
        if endpoint is not UNSET:
            value = names.check_endpoint(endpoint, field="endpoint") if endpoint else None
            connection = replace(connection, endpoint=value)
        if credentials_secret is not UNSET:
            secret = credentials_secret or None
            if secret is not None:
                connection_secrets.check_exists(self.secrets, secret)
            connection = replace(connection, credentials_secret=secret)
        if webhook_secret is not UNSET:
            connection = replace(connection, webhook_secret=webhook_secret or None)
            connection_secrets.webhook_secret(self.secrets, connection)
        with self.ctx.db.write() as conn:
            self._require_connection(conn, connection.arn)
            db.save_settings(conn, connection)
        return connection

    def _require_connection(self, conn: Any, arn: str) -> Connection:
        found = db.get_connection(conn, names.canonical(arn))
        if found is None:
            raise ResourceNotFound(f"connection '{arn}' does not exist; {LIST_HINT}")
        return found

    # -- tags --------------------------------------------------------------------------

    def tag_resource(self, arn: str, tags: Sequence[tuple[str, str]]) -> None:
        with self.ctx.db.write() as conn:
            key = self._require_resource(conn, arn)
            _check_tags(tags, tag_store.list_tags(conn, key))
            tag_store.put_tags(conn, key, list(tags))

    def untag_resource(self, arn: str, keys: Sequence[str]) -> None:
        with self.ctx.db.write() as conn:
            tag_store.remove_tags(conn, self._require_resource(conn, arn), list(keys))

    def list_tags(self, arn: str) -> list[tuple[str, str]]:
        with self.ctx.db.read() as conn:
            return tag_store.list_tags(conn, self._require_resource(conn, arn))

    def _require_resource(self, conn: Any, arn: str) -> str:
        parsed = names.parse_arn(arn)
        if parsed is not None and parsed.kind == "host":
            return self._require_host(conn, arn).arn
        if parsed is not None:
            return self._require_connection(conn, arn).arn
        raise ResourceNotFound(
            f"'{arn}' is not the ARN of a connection or host; expected "
            f"arn:aws:codeconnections:{self.ctx.region}:{self.ctx.account_id}:connection/ID"
        )

    # -- resolving, for source actions -------------------------------------------------

    def base_url(self, connection: Connection, host: Host | None = None) -> str:
        """Where this connection's repositories live (see the module docstring)."""
        if connection.endpoint:
            return connection.endpoint
        if host is not None:
            return host.provider_endpoint
        if connection.provider_type == GITHUB:
            return self.github_url
        return CLOUD_ENDPOINTS[connection.provider_type]

    def fetches_from(self, connection: Connection) -> str:
        """The base URL a connection's repositories are fetched from now."""
        host = None
        if connection.host_arn and not connection.endpoint:
            with self.ctx.db.read() as conn:
                host = db.get_host(conn, connection.host_arn)
        if connection.host_arn and host is None and not connection.endpoint:
            raise ResourceUnavailable(
                f"connection '{connection.name}' uses host {connection.host_arn}, which no longer "
                "exists; create the connection again with a host that does"
            )
        return self.base_url(connection, host)

    def resolve(self, connection_arn: str, full_repository_id: str) -> RemoteRepository:
        """The URL and credentials a source action fetches FullRepositoryId with.

        Errors name what is wrong and the fix: an unknown connection (with how to
        list them), one that is not AVAILABLE, a FullRepositoryId that is not
        OWNER/NAME, a credentials secret that is missing.
        """
        repository_id = names.check_repository_id(full_repository_id)
        if names.parse_arn(connection_arn) is None:
            raise ResourceNotFound(
                f"configuration ConnectionArn {connection_arn!r} is not a connection ARN; expected "
                f"arn:aws:codeconnections:{self.ctx.region}:{self.ctx.account_id}:connection/ID "
                f"({LIST_HINT})"
            )
        with self.ctx.db.read() as conn:
            connection = db.get_connection(conn, names.canonical(connection_arn))
        if connection is None:
            raise ResourceNotFound(
                f"connection {connection_arn} does not exist; {LIST_HINT} and put one of their "
                "ARNs in the action's ConnectionArn, or create one with `stageline connection "
                "create NAME --provider-type GitHub`"
            )
        if connection.status != AVAILABLE:
            raise ResourceUnavailable(
                f"connection '{connection.name}' is {connection.status}, not AVAILABLE; "
                "it cannot be used until it is"
            )
        base = self.fetches_from(connection)
        return RemoteRepository(
            url=repository_url(base, repository_id),
            credentials=self.credentials(connection),
            web_url=f"{base}/{repository_id}" if base.startswith(("https:", "http:")) else None,
            provider_type=connection.provider_type,
        )

    def credentials(self, connection: Connection) -> Credentials | None:
        """The connection's credentials from the secret store, or None when it has none."""
        return connection_secrets.credentials(self.secrets, connection)

    # -- webhook deliveries ------------------------------------------------------------

    def webhook_secret(self, connection_id: str) -> str | None:
        """The secret a delivery to ``/webhooks/connections/<connection_id>`` must prove.

        None when no connection has that id or it names no webhook secret; the
        hook then accepts deliveries from this machine only. A webhook secret that
        cannot be read (deleted, blank, no secret store, a key that does not fit)
        refuses every delivery with 403 and the reason in the log: answering None
        instead would let unsigned deliveries from this machine in.
        """
        with self.ctx.db.read() as conn:
            connection = db.connection_with_id(conn, connection_id)
        if connection is None:
            return None
        try:
            return connection_secrets.webhook_secret(self.secrets, connection)
        except (ApiError, SecretKeyError) as exc:
            log.error(
                "connection %s: its webhook secret cannot be read, so every delivery is "
                "refused: %s",
                connection.name,
                exc,
            )
            raise Refused(
                403,
                "this connection's webhook secret cannot be read, so no delivery is accepted; "
                "the server's log says why",
            ) from None


def _check_tags(tags: Sequence[tuple[str, str]], existing: Sequence[tuple[str, str]]) -> None:
    total = len({k for k, _ in existing} | {k for k, _ in tags})
    if total > MAX_TAGS:
        raise LimitExceeded(
            f"a resource can have at most {MAX_TAGS} tags; this request would leave {total}"
        )
