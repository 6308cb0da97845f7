"""CodeStar Connections and CodeConnections operations, and stageline's connection settings.

Both services are one set of resources: botocore's ``codestar-connections``
(JSON 1.0) and ``codeconnections`` (Smithy RPC v2 CBOR, or JSON 1.0) clients
create, read, tag and delete the same connections and hosts. Each API writes
ARNs in its own service's form (``arn:aws:codestar-connections:...`` or
``arn:aws:codeconnections:...``) and accepts either.

Git sync (repository links, sync configurations) is not implemented: those
operations answer UnsupportedOperationException saying so.

stageline's own route sets what AWS settles in its console handshake, where a
connection fetches from, the secret holding its token and the secret its webhook
deliveries must prove (secret names, never values):

* ``GET /_stageline/connections/{name}/settings`` -> the settings
* ``POST /_stageline/connections/{name}/settings``
  ``{endpoint?, credentialsSecret?, webhookSecret?}`` -> the settings after the
  change; a member left out is unchanged, null or "" clears it. ``{name}`` is
  the connection's name or ARN.

Errors there are ``{"error": <CodeConnections' exception name>, "message": ...}``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from stageline.api.protocol import ServiceEndpoint
from stageline.connections import names
from stageline.connections.errors import ResourceNotFound
from stageline.connections.model import Connection, Host
from stageline.connections.service import UNSET, ConnectionService
from stageline.errors import ApiError, error
from stageline.services import paging

CODESTAR_CONNECTIONS_PREFIX = "com.amazonaws.codestar.connections.CodeStar_connections_20191201"
CODECONNECTIONS_PREFIX = "com.amazonaws.codeconnections.CodeConnections_20231201"
SETTINGS_PATH = "/_stageline/connections/{name:path}/settings"
# The settings route's members, and update_settings' keyword for each.
SETTINGS = {
    "endpoint": "endpoint",
    "credentialsSecret": "credentials_secret",
    "webhookSecret": "webhook_secret",
}
DEFAULT_PAGE = 50
GIT_SYNC_OPERATIONS = (
    "CreateRepositoryLink",
    "CreateSyncConfiguration",
    "DeleteRepositoryLink",
    "DeleteSyncConfiguration",
    "GetRepositoryLink",
    "GetRepositorySyncStatus",
    "GetResourceSyncStatus",
    "GetSyncBlockerSummary",
    "GetSyncConfiguration",
    "ListRepositoryLinks",
    "ListRepositorySyncDefinitions",
    "ListSyncConfigurations",
    "UpdateRepositoryLink",
    "UpdateSyncBlocker",
    "UpdateSyncConfiguration",
)


def build_endpoints(service: ConnectionService) -> list[ServiceEndpoint]:
    return [
        _endpoint(service, "codestar-connections", CODESTAR_CONNECTIONS_PREFIX),
        _endpoint(service, "codeconnections", CODECONNECTIONS_PREFIX),
    ]


def _tags_in(p: dict[str, Any]) -> list[tuple[str, str]]:
    return [(t["Key"], t["Value"]) for t in p.get("Tags") or []]


def _tags_out(tags: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags]


def _page_size(p: dict[str, Any]) -> int:
    return int(p.get("MaxResults") or DEFAULT_PAGE)


def _endpoint(service: ConnectionService, name: str, prefix: str) -> ServiceEndpoint:
    """One service's operations; ``name`` decides the form of the ARNs it answers with."""
    endpoint = ServiceEndpoint(service_name=name, target_prefix=prefix)

    def arn(value: str | None) -> str | None:
        return names.in_service(value, name) if value else None

    def connection_shape(c: Connection) -> dict[str, Any]:
        return {
            "ConnectionName": c.name,
            "ConnectionArn": arn(c.arn),
            "ProviderType": c.provider_type,
            "OwnerAccountId": c.owner_account_id,
            "ConnectionStatus": c.status,
            "HostArn": arn(c.host_arn),
        }

    def host_shape(h: Host) -> dict[str, Any]:
        return {
            "Name": h.name,
            "HostArn": arn(h.arn),
            "ProviderType": h.provider_type,
            "ProviderEndpoint": h.provider_endpoint,
            "VpcConfiguration": h.vpc_configuration,
            "Status": h.status,
        }

    def create_connection(p: dict[str, Any]) -> dict[str, Any]:
        made = service.create_connection(
            p["ConnectionName"],
            provider_type=p.get("ProviderType"),
            host_arn=p.get("HostArn"),
            tags=_tags_in(p),
        )
        return {"ConnectionArn": arn(made.arn), "Tags": p.get("Tags")}

    def get_connection(p: dict[str, Any]) -> dict[str, Any]:
        return {"Connection": connection_shape(service.get_connection(p["ConnectionArn"]))}

    def list_connections(p: dict[str, Any]) -> dict[str, Any]:
        found = service.list_connections(
            provider_type=p.get("ProviderTypeFilter"), host_arn=p.get("HostArnFilter")
        )
        page, token = paging.offset_page("connections", found, p.get("NextToken"), _page_size(p))
        return {"Connections": [connection_shape(c) for c in page], "NextToken": token}

    def delete_connection(p: dict[str, Any]) -> dict[str, Any]:
        service.delete_connection(p["ConnectionArn"])
        return {}

    def create_host(p: dict[str, Any]) -> dict[str, Any]:
        made = service.create_host(
            p["Name"],
            p["ProviderType"],
            p["ProviderEndpoint"],
            vpc_configuration=p.get("VpcConfiguration"),
            tags=_tags_in(p),
        )
        return {"HostArn": arn(made.arn), "Tags": p.get("Tags")}

    def get_host(p: dict[str, Any]) -> dict[str, Any]:
        shape = host_shape(service.get_host(p["HostArn"]))
        shape.pop("HostArn")
        return shape

    def list_hosts(p: dict[str, Any]) -> dict[str, Any]:
        page, token = paging.offset_page(
            "hosts", service.list_hosts(), p.get("NextToken"), _page_size(p)
        )
        return {"Hosts": [host_shape(h) for h in page], "NextToken": token}

    def update_host(p: dict[str, Any]) -> dict[str, Any]:
        service.update_host(
            p["HostArn"],
            provider_endpoint=p.get("ProviderEndpoint"),
            vpc_configuration=p.get("VpcConfiguration"),
        )
        return {}

    def delete_host(p: dict[str, Any]) -> dict[str, Any]:
        service.delete_host(p["HostArn"])
        return {}

    def tag_resource(p: dict[str, Any]) -> dict[str, Any]:
        service.tag_resource(p["ResourceArn"], _tags_in(p))
        return {}

    def untag_resource(p: dict[str, Any]) -> dict[str, Any]:
        service.untag_resource(p["ResourceArn"], p["TagKeys"])
        return {}

    def list_tags_for_resource(p: dict[str, Any]) -> dict[str, Any]:
        return {"Tags": _tags_out(service.list_tags(p["ResourceArn"]))}

    def git_sync(_p: dict[str, Any]) -> dict[str, Any]:
        raise error(
            "UnsupportedOperationException",
            "stageline does not implement Git sync (repository links and sync configurations); "
            "use a CodeStarSourceConnection source action in a pipeline instead",
        )

    endpoint.handlers.update(
        {
            "CreateConnection": create_connection,
            "GetConnection": get_connection,
            "ListConnections": list_connections,
            "DeleteConnection": delete_connection,
            "CreateHost": create_host,
            "GetHost": get_host,
            "ListHosts": list_hosts,
            "UpdateHost": update_host,
            "DeleteHost": delete_host,
            "TagResource": tag_resource,
            "UntagResource": untag_resource,
            "ListTagsForResource": list_tags_for_resource,
            **dict.fromkeys(GIT_SYNC_OPERATIONS, git_sync),
        }
    )
    return endpoint


# -- stageline's settings route -------------------------------------------------------------


def connection_routes(service: ConnectionService) -> list[BaseRoute]:
    """``/_stageline/connections/{name}/settings``: a connection's endpoint and secrets."""

    def view(connection: Connection) -> dict[str, Any]:
        return {
            "connectionName": connection.name,
            "connectionArn": connection.arn,
            "providerType": connection.provider_type,
            "endpoint": connection.endpoint,
            "credentialsSecret": connection.credentials_secret,
            "webhookSecret": connection.webhook_secret,
            "fetchesFrom": service.fetches_from(connection),
        }

    async def settings(request: Request) -> Response:
        name = request.path_params["name"]
        try:
            if request.method == "GET":
                found = await run_in_threadpool(service.find_connection, name)
                return JSONResponse(await run_in_threadpool(view, found))
            changes = _settings_changes(await request.body())
            changed = await run_in_threadpool(lambda: service.update_settings(name, **changes))
            return JSONResponse(await run_in_threadpool(view, changed))
        except ApiError as exc:
            status = 404 if isinstance(exc, ResourceNotFound) else exc.status
            return JSONResponse({"error": exc.code, "message": exc.message}, status_code=status)

    return [Route(SETTINGS_PATH, settings, methods=["GET", "POST"])]


def _settings_changes(body: bytes) -> dict[str, Any]:
    """``{endpoint?, credentialsSecret?, webhookSecret?}`` as ``update_settings`` keywords."""
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise error("ValidationException", "the body must be a JSON object")
    unknown = sorted(set(document) - set(SETTINGS))
    if unknown:
        raise error(
            "ValidationException",
            f"unknown setting(s) {', '.join(unknown)}; the settings are endpoint, "
            "credentialsSecret and webhookSecret",
        )
    changes: dict[str, Any] = dict.fromkeys(SETTINGS.values(), UNSET)
    for member, keyword in SETTINGS.items():
        if member in document:
            value = document[member]
            if value is not None and not isinstance(value, str):
                raise error("ValidationException", f"{member} must be a string or null")
            changes[keyword] = value
    return changes
