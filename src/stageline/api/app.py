"""The ASGI application: AWS protocol at ``POST /``, health at ``GET /health``."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from stageline import __version__
from stageline.agent.registry import ProviderContext, ProviderRegistry
from stageline.api import codebuild, codecommit, codepipeline, executions, jobs
from stageline.api import connections as connection_api
from stageline.api import events as events_api
from stageline.api import webhooks as webhook_api
from stageline.api.agent_routes import agent_routes
from stageline.api.event_routes import event_routes
from stageline.api.git import RememberBaseUrl, git_routes
from stageline.api.logs import log_link, log_routes
from stageline.api.protocol import Dispatcher
from stageline.api.secrets import build_endpoints as secret_endpoints
from stageline.arns import Arns
from stageline.changes import store as change_store
from stageline.changes.managed_rules import ManagedRules
from stageline.changes.pipeline_target import PipelineTarget
from stageline.changes.polling import Poller
from stageline.changes.probe import SourceProbe
from stageline.changes.push_events import PushEvents
from stageline.changes.starts import start_recorded
from stageline.clock import Clock, SystemClock
from stageline.codebuild.runner import BuildRunner
from stageline.codebuild.service import BuildService
from stageline.config import Settings
from stageline.connections.service import ConnectionService
from stageline.console import Console
from stageline.engine.core import Engine
from stageline.events.bus import EventBus
from stageline.functions import FunctionStore
from stageline.functions.routes import function_routes
from stageline.repos import RepositoryService
from stageline.runtime import Runtime, build_runtime
from stageline.secrets import SecretStore
from stageline.services.action_types import ActionTypeService
from stageline.services.context import ServiceContext
from stageline.services.pipelines import PipelineService
from stageline.services.tags import TagService
from stageline.store import migrate
from stageline.store.changefeed import ChangeFeed
from stageline.store.db import Database
from stageline.triggers.hosted import HostedPushTriggers
from stageline.webhooks import wiring as webhook_wiring


@dataclass
class Services:
    """Everything the HTTP edge calls into, built once per process."""

    ctx: ServiceContext
    pipelines: PipelineService
    tags: TagService
    action_types: ActionTypeService
    repos: RepositoryService
    functions: FunctionStore
    runtime: Runtime
    builds: BuildService
    build_runner: BuildRunner
    secrets: SecretStore
    poller: Poller
    bus: EventBus
    connections: ConnectionService
    webhooks: webhook_wiring.Webhooks
    change_feed: ChangeFeed


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    migrate.upgrade(db)
    ctx = ServiceContext(
        db=db,
        clock=clock or SystemClock(),
        arns=Arns(region=settings.region, account_id=settings.account_id),
    )
    pipelines = PipelineService(ctx)
    secrets = SecretStore.open(ctx, settings.data_dir)
    repos = RepositoryService(settings.data_dir, ctx, base_url=settings.extra.get("public_url"))
    functions = FunctionStore(
        settings.data_dir, region=settings.region, account_id=settings.account_id
    )

    def server_url() -> str:
        return repos.base_url or f"http://127.0.0.1:{settings.port}"

    builds = BuildService(ctx, log_url=lambda log_id: f"{server_url()}/logs/{log_id}/text")
    connections = ConnectionService(ctx, secrets=secrets, github_url=settings.github_url)
    provider_services: dict[str, Any] = {
        "repos": repos,
        "functions": functions,
        "server_url": server_url,
        "builds": builds,
        "build_executor": settings.build_executor,
        "secret_resolver": secrets.resolver,
        "secrets": secrets,
        "s3_endpoint_url": settings.s3_endpoint_url,
        "registry_url": settings.registry_url,
        "github_url": settings.github_url,
        "connections": connections,
    }
    runtime = build_runtime(
        ctx,
        settings.data_dir,
        pipelines,
        provider_services=provider_services,
        with_agent=settings.extra.get("agent", "on") != "off",
        max_artifact_bytes=settings.max_artifact_bytes,
        lease_ms=settings.job_lease_seconds * 1000,
    )
    runtime.queries.log_url = log_link(runtime.logs, server_url)
    build_runner = BuildRunner(
        builds,
        data_dir=settings.data_dir,
        logs=runtime.logs,
        repos=repos,
        secret_resolver=lambda: provider_services.get("secret_resolver"),
        executor=settings.build_executor,
    )

    def source_providers() -> ProviderRegistry:
        """The in-process agent's providers; discovered anew only when it runs elsewhere."""
        if runtime.agent is not None:
            return runtime.agent.registry
        return ProviderRegistry.discover(
            ProviderContext(data_dir=settings.data_dir, services=provider_services)
        )

    probe = SourceProbe(repos, source_providers)
    poller = Poller(runtime.operations, probe, interval_s=settings.poll_interval_seconds)
    pipelines.deleted_hooks.append(change_store.forget_pipeline)

    # Events: the engine's outbox and hosted pushes feed the bus, whose rules may start
    # pipelines; CodeCommit sources without polling get their rule made for them.
    bus = EventBus(ctx, retry_base_seconds=settings.event_retry_base_seconds)
    bus.add_deliverer(PipelineTarget(runtime.operations))
    runtime.engine.listeners.append(lambda _pipeline: bus.wake())
    managed = ManagedRules(ctx, changed=bus.wake)
    pipelines.created_hooks.append(managed.sync)
    pipelines.updated_hooks.append(managed.sync)
    pipelines.deleted_hooks.append(managed.forget)
    repos.add_push_hook(PushEvents(ctx, repos, wake=bus.wake))

    # V2 triggers: webhooks from git hosts and pushes to hosted repositories.
    webhooks = webhook_wiring.build(
        ctx,
        start=functools.partial(start_recorded, runtime.operations),
        server_url=server_url,
        changed_files=probe.changed_files,
    )
    repos.add_push_hook(HostedPushTriggers(repos, webhooks.router))

    # Replicas on one PostgreSQL pass each other their changes, so live pages, long polls and
    # agents on each see what was done through any (nothing to do on SQLite: one process).
    change_feed = ChangeFeed(db)
    runtime.engine.relays.append(change_feed.executions_changed)
    pipelines.relays.append(change_feed.pipeline_changed)
    change_feed.on_executions.append(runtime.engine.notify_local)
    change_feed.on_pipeline.append(pipelines.notify_local)
    change_feed.on_anything.append(functools.partial(_all_changed, runtime.engine, pipelines))
    return Services(
        change_feed=change_feed,
        bus=bus,
        connections=connections,
        webhooks=webhooks,
        poller=poller,
        ctx=ctx,
        pipelines=pipelines,
        tags=TagService(ctx),
        action_types=ActionTypeService(ctx),
        repos=repos,
        functions=functions,
        runtime=runtime,
        builds=builds,
        build_runner=build_runner,
        secrets=secrets,
    )


def _all_changed(engine: Engine, pipelines: PipelineService) -> None:
    """The change feed may have missed other replicas' messages (it lost its connection): tell
    this process's listeners that every pipeline changed and that jobs came and went. Repeated
    wake-ups cost nothing; a pipeline deleted meanwhile is shown until its page is reloaded."""
    token: str | None = None
    while True:
        rows, token = pipelines.list(next_token=token, max_results=100)
        for row in rows:
            engine.notify_local(row.name, True, True)
            pipelines.notify_local(row.name)
        if token is None:
            return


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    services = services or build_services(settings)
    dispatcher = Dispatcher(max_body_bytes=settings.max_request_bytes)
    pipeline_endpoint = codepipeline.build_endpoint(
        services.pipelines, services.tags, services.action_types
    )
    executions.register(pipeline_endpoint, services.runtime)
    webhook_api.register(pipeline_endpoint, services.webhooks.service)
    jobs.register(pipeline_endpoint, services.runtime.jobs)
    dispatcher.add(pipeline_endpoint)
    dispatcher.add(codecommit.build_endpoint(services.repos))
    dispatcher.add(codebuild.build_endpoint(services.builds, services.build_runner))
    for endpoint in secret_endpoints(services.secrets):
        dispatcher.add(endpoint)
    dispatcher.add(events_api.build_endpoint(services.bus))
    for endpoint in connection_api.build_endpoints(services.connections):
        dispatcher.add(endpoint)
    console = Console(services)

    async def health(_request: Request) -> Response:
        with services.ctx.db.read() as conn:
            conn.exec_driver_sql("SELECT 1")
        return JSONResponse({"status": "ok", "version": __version__})

    async def root(_request: Request) -> Response:
        return PlainTextResponse(
            "stageline speaks the AWS CodePipeline API here: POST / with X-Amz-Target.\n"
        )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        services.builds.recover()
        services.runtime.start()
        services.bus.start()
        services.poller.start()
        console.start()
        services.change_feed.start()
        if settings.example:
            from stageline.example import seed

            seed(services, settings.data_dir)
        try:
            yield
        finally:
            services.change_feed.stop()
            console.stop()
            services.poller.stop()
            services.build_runner.stop()
            services.bus.stop()
            services.runtime.stop()
            services.ctx.db.dispose()

    app = Starlette(
        routes=[
            Route("/", dispatcher.handle, methods=["POST"]),
            Route(
                "/service/{service}/operation/{operation}",
                dispatcher.handle_cbor,
                methods=["POST"],
            ),
            Route("/", root, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
            *console.routes(),
            *git_routes(services.repos),
            *log_routes(services.runtime.logs),
            *function_routes(services.functions),
            *event_routes(services.bus),
            *connection_api.connection_routes(services.connections),
            *webhook_api.webhook_routes(
                services.webhooks.service,
                services.webhooks.router,
                connection_secret=services.connections.webhook_secret,
            ),
            *agent_routes(
                services.runtime.jobs,
                services.runtime.artifacts,
                services.runtime.logs,
                max_artifact_bytes=settings.max_artifact_bytes,
            ),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(RememberBaseUrl, repos=services.repos)
    app.state.services = services
    return app
