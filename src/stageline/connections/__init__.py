"""Connections (CodeStar Connections / CodeConnections) and the git remotes they reach.

``ConnectionService`` keeps connections and hosts and resolves a connection
ARN plus a FullRepositoryId to a URL and credentials; ``RemoteGit`` fetches
from such URLs into a local mirror. The source actions that use them are in
providers/source/connection.py and providers/source/github.py.
"""

from stageline.connections.git import RemoteGit
from stageline.connections.model import Connection, Credentials, Host, RemoteRepository
from stageline.connections.service import ConnectionService

__all__ = [
    "Connection",
    "ConnectionService",
    "Credentials",
    "Host",
    "RemoteGit",
    "RemoteRepository",
]
