"""The secrets a connection names: the token it fetches with and the one its webhook proves.

A connection holds only secret names (``credentials_secret``, ``webhook_secret``);
the values stay in stageline's secret store and are read when they are needed,
by a fetch or a webhook delivery. No value ever reaches a log, an error
message or an API response.
"""

from __future__ import annotations

from stageline.connections.errors import InvalidInput, ResourceUnavailable
from stageline.connections.model import TOKEN_USERNAMES, Connection, Credentials
from stageline.secrets import SecretStore


def check_exists(secrets: SecretStore | None, name: str) -> None:
    """A secret named in a setting must exist, so a typo is caught when it is set."""
    if secrets is None:
        raise ResourceUnavailable("this server has no secret store to read secrets from")
    secrets.secrets.describe(name)


def credentials(secrets: SecretStore | None, connection: Connection) -> Credentials | None:
    """The connection's credentials, or None when it names no credentials secret."""
    name = connection.credentials_secret
    if not name:
        return None
    value = _read(secrets, connection, name)
    if not value.strip():
        raise InvalidInput(
            f"secret '{name}' of connection '{connection.name}' is empty; put the token in it "
            f"with `stageline secret put {name}`"
        )
    username = TOKEN_USERNAMES.get(connection.provider_type, "x-access-token")
    return Credentials.from_secret(value, default_username=username)


def webhook_secret(secrets: SecretStore | None, connection: Connection) -> str | None:
    """The value of the connection's webhook secret, or None when it names none.

    The value is used exactly as stored, since the git host signs with exactly
    what it was given. A blank one is an error rather than a secret: it would
    prove nothing, as anyone can sign with it.
    """
    name = connection.webhook_secret
    if not name:
        return None
    value = _read(secrets, connection, name)
    if not value.strip():
        raise InvalidInput(
            f"webhook secret '{name}' of connection '{connection.name}' is empty, and an empty "
            f"secret proves nothing; put a value in it with `stageline secret put {name}`"
        )
    return value


def _read(secrets: SecretStore | None, connection: Connection, name: str) -> str:
    if secrets is None:
        raise ResourceUnavailable(
            f"connection '{connection.name}' names the secret '{name}', but this process has "
            "no secret store"
        )
    _secret, _version, value = secrets.secrets.read(name)
    return value
