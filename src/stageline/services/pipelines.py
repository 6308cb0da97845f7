"""Pipeline definitions: create, read, update (every version kept), delete and list.

Declarations are stored in the wire form AWS returns from GetPipeline, with the
defaults AWS fills in made explicit (runOrder 1, empty artifact lists,
pipelineType V1, executionMode SUPERSEDED), so a stored version reads back the
same way whichever client wrote it.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from stageline.definitions.catalog import ActionTypeKey
from stageline.definitions.model import pipeline_from_wire
from stageline.definitions.validation import DeclarationError, validate
from stageline.errors import ApiError, error
from stageline.services import catalog as catalog_service
from stageline.services import paging
from stageline.services.context import ServiceContext
from stageline.services.tags import check_new_tags
from stageline.store import pipelines as store
from stageline.store import tags as tag_store

log = logging.getLogger(__name__)

MAX_PIPELINES = 1000
DEFAULT_PAGE_SIZE = 100
SECRET_MASK = "****"

# Called inside the CreatePipeline transaction once the pipeline exists; the
# execution engine registers here to start the first execution, as AWS does.
CreatedHook = Callable[[Connection, store.PipelineRow, dict[str, Any]], None]


@dataclass(frozen=True, kw_only=True)
class PipelineView:
    """A stored version as a client sees it: declaration (secrets masked) plus metadata."""

    declaration: dict[str, Any]
    arn: str
    created_ms: int
    updated_ms: int


def not_found(ctx: ServiceContext, name: str) -> ApiError:
    return error(
        "PipelineNotFoundException",
        f"Pipeline with name '{name}' does not exist in account '{ctx.account_id}'",
    )


def normalise(declaration: dict[str, Any], version: int) -> dict[str, Any]:
    """The declaration with AWS's defaults written out and ``version`` set."""
    out = copy.deepcopy(declaration)
    out["version"] = version
    out.setdefault("pipelineType", "V1")
    out.setdefault("executionMode", "SUPERSEDED")
    for stage in out.get("stages", []):
        for action in stage.get("actions", []):
            action.setdefault("runOrder", 1)
            action.setdefault("configuration", {})
            action.setdefault("inputArtifacts", [])
            action.setdefault("outputArtifacts", [])
    return out


def mask_secrets(declaration: dict[str, Any], conn: Connection) -> dict[str, Any]:
    """``declaration`` with every secret configuration value replaced by ``****``.

    Mutates and returns its argument: callers pass a freshly decoded document.
    Custom action types are looked up only when the pipeline uses one.
    """
    builtin = catalog_service.builtin_types()
    custom: catalog_service.Catalog | None = None
    for stage in declaration.get("stages", []):
        for action in stage.get("actions", []):
            config = action.get("configuration")
            if not config:
                continue
            key = ActionTypeKey(**action["actionTypeId"])
            spec = builtin.get(key)
            if spec is None:
                custom = custom or catalog_service.load(conn)
                spec = custom.get(key)
            for name in spec.secret_names if spec else ():
                if name in config:
                    config[name] = SECRET_MASK
    return declaration


def _actions_with_specs(declaration: dict[str, Any], catalog: catalog_service.Catalog) -> Any:
    for stage in declaration.get("stages", []):
        for action in stage.get("actions", []):
            spec = catalog.get(ActionTypeKey(**action["actionTypeId"]))
            if spec is not None:
                yield stage, action, spec


def _keep_masked_secrets(
    new: dict[str, Any], old: dict[str, Any], catalog: catalog_service.Catalog
) -> None:
    """An edit that sends ``****`` back keeps the stored secret instead of storing the mask."""
    previous = {
        (s["name"], a["name"]): a.get("configuration") or {}
        for s in old.get("stages", [])
        for a in s.get("actions", [])
    }
    for stage, action, spec in _actions_with_specs(new, catalog):
        config = action.get("configuration") or {}
        before = previous.get((stage["name"], action["name"]), {})
        for name in spec.secret_names:
            if config.get(name) == SECRET_MASK and name in before:
                config[name] = before[name]


def _validate(conn: Connection, declaration: dict[str, Any]) -> None:
    catalog = catalog_service.load(conn)
    try:
        validate(pipeline_from_wire(declaration), catalog)
    except DeclarationError as exc:
        raise error(exc.code, exc.render()) from exc


def check_declaration(ctx: ServiceContext, declaration: dict[str, Any]) -> None:
    """Validate without storing (used by `stageline lint` against a server)."""
    with ctx.db.read() as conn:
        _validate(conn, declaration)


class PipelineService:
    """CreatePipeline, GetPipeline, UpdatePipeline, DeletePipeline and ListPipelines."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.created_hooks: list[CreatedHook] = []
        # Called inside UpdatePipeline's transaction with the new version (managed event rules).
        self.updated_hooks: list[CreatedHook] = []
        self.deleted_hooks: list[Callable[[Connection, str], None]] = []
        # Told a pipeline's name once an update or delete has committed (live console views).
        self.changed_listeners: list[Callable[[str], None]] = []
        # Told too, to pass the change on to other processes (the change feed); their changes
        # come back in through notify_local, never to the relays.
        self.relays: list[Callable[[str], None]] = []
        # Callbacks queued by hooks, run once this thread's transaction has committed.
        self._local = threading.local()

    @property
    def after_commit(self) -> list[Callable[[], None]]:
        if not hasattr(self._local, "callbacks"):
            self._local.callbacks = []
        callbacks: list[Callable[[], None]] = self._local.callbacks
        return callbacks

    def create(self, declaration: dict[str, Any], tags: list[dict[str, str]]) -> PipelineView:
        ctx = self.ctx
        name = declaration["name"]
        check_new_tags(tags, existing=[])
        stored = normalise(declaration, version=1)
        now = ctx.clock.now_ms()
        name_in_use = error(
            "PipelineNameInUseException",
            f"A pipeline with the name '{name}' already exists in account "
            f"'{ctx.account_id}'; choose another name or use UpdatePipeline",
        )
        try:
            view = self._create(name, stored, tags, now, name_in_use)
        except IntegrityError as exc:  # a concurrent CreatePipeline of the same name won
            raise name_in_use from exc
        finally:
            callbacks = list(self.after_commit)
            self.after_commit.clear()
        for callback in callbacks:
            callback()
        return view

    def _create(
        self,
        name: str,
        stored: dict[str, Any],
        tags: list[dict[str, str]],
        now: int,
        name_in_use: ApiError,
    ) -> PipelineView:
        ctx = self.ctx
        with ctx.db.write() as conn:
            if store.get(conn, name) is not None:
                raise name_in_use
            if store.count(conn) >= MAX_PIPELINES:
                raise error(
                    "LimitExceededException",
                    f"this deployment already has {MAX_PIPELINES} pipelines, the limit; "
                    "delete one first",
                )
            _validate(conn, stored)
            row = store.PipelineRow(
                name=name,
                arn=ctx.arns.pipeline(name),
                version=1,
                pipeline_type=stored["pipelineType"],
                execution_mode=stored["executionMode"],
                created_ms=now,
                updated_ms=now,
            )
            store.insert_pipeline(conn, row, stored)
            tag_store.put_tags(conn, row.arn, [(t["key"], t.get("value", "")) for t in tags])
            for hook in self.created_hooks:
                hook(conn, row, stored)
            return self._view(conn, row, copy.deepcopy(stored))

    def get(self, name: str, version: int | None = None) -> PipelineView:
        with self.ctx.db.read() as conn:
            found = store.get_version(conn, name, version)
            if found is None:
                if version is not None and store.get(conn, name) is not None:
                    raise error(
                        "PipelineVersionNotFoundException",
                        f"Pipeline '{name}' has no version {version}; versions run from 1 to "
                        f"{store.get(conn, name).version}",  # type: ignore[union-attr]
                    )
                raise not_found(self.ctx, name)
            return self._view(conn, found.pipeline, found.declaration)

    def update(self, declaration: dict[str, Any]) -> PipelineView:
        ctx = self.ctx
        name = declaration["name"]
        with ctx.db.write() as conn:
            current = store.get_version(conn, name, for_update=True)
            if current is None:
                raise not_found(ctx, name)
            sent = declaration.get("version")
            if sent is not None and sent != current.version:
                raise error(
                    "ConflictException",
                    f"pipeline '{name}' is at version {current.version} but the update was "
                    f"based on version {sent}; someone else changed it. Read it again with "
                    "GetPipeline, reapply your change and send the new version",
                    status=409,
                )
            stored = normalise(declaration, version=current.version + 1)
            catalog = catalog_service.load(conn)
            _keep_masked_secrets(stored, current.declaration, catalog)
            _validate(conn, stored)
            try:
                row = store.add_version(conn, current.pipeline, stored, ctx.clock.now_ms())
            except store.ConcurrentUpdate as exc:
                raise error(
                    "ConcurrentModificationException",
                    f"pipeline '{name}' was changed by another request at the same time; retry",
                    status=400,
                ) from exc
            for hook in self.updated_hooks:
                hook(conn, row, stored)
            view = self._view(conn, row, copy.deepcopy(stored))
        self._changed(name)
        return view

    def delete(self, name: str) -> None:
        """Deleting a pipeline that does not exist succeeds, as it does on AWS."""
        with self.ctx.db.write() as conn:
            deleted = store.delete_pipeline(conn, name)
            if deleted:
                tag_store.remove_all(conn, self.ctx.arns.pipeline(name))
                for hook in self.deleted_hooks:
                    hook(conn, name)
        if deleted:
            self._changed(name)

    def _changed(self, name: str) -> None:
        self.notify_local(name)
        for relay in self.relays:
            try:
                relay(name)
            except Exception:  # a broken relay must not fail a committed change
                log.exception("pipeline change relay failed")

    def notify_local(self, name: str) -> None:
        """Tell this process's listeners only: how other processes' updates and deletes arrive."""
        for listener in self.changed_listeners:
            try:
                listener(name)
            except Exception:  # a broken listener must not fail a committed change
                log.exception("pipeline change listener failed")

    def list(
        self, *, next_token: str | None, max_results: int | None
    ) -> tuple[list[store.PipelineRow], str | None]:
        after = paging.decode("pipelines", next_token)
        limit = max_results or DEFAULT_PAGE_SIZE
        with self.ctx.db.read() as conn:
            rows = store.list_page(conn, after=after, limit=limit)
        token = None
        if len(rows) > limit:
            rows = rows[:limit]
            token = paging.encode("pipelines", rows[-1].name)
        return rows, token

    def _view(
        self, conn: Connection, row: store.PipelineRow, declaration: dict[str, Any]
    ) -> PipelineView:
        return PipelineView(
            declaration=mask_secrets(declaration, conn),
            arn=row.arn,
            created_ms=row.created_ms,
            updated_ms=row.updated_ms,
        )
