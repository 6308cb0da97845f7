"""Creating and editing pipelines: a JSON/YAML editor checked as you type, a visual editor,
and saving through CreatePipeline / UpdatePipeline.

The checks are the API's own (see :mod:`stageline.console.validation`). Saving
an edit sends the version it was based on, so a pipeline changed by someone
else meanwhile is refused with ``ConflictException`` instead of overwritten.
Without script, every editor operation is a form post that renders the page
again; with it, the same endpoints answer JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from stageline.ascode.model import DefinitionError
from stageline.console.calls import message_of
from stageline.console.context import PREFIX, ConsoleContext, wants_json
from stageline.console.forms import FormError, read_form
from stageline.console.render import page, render, segment
from stageline.console.validation import FORMATS, STARTER, Checked, check, dump, parse
from stageline.console.visual import VisualError, apply, decode, form_model, type_options
from stageline.errors import ApiError


@dataclass(frozen=True, kw_only=True)
class EditorState:
    """What the editor page shows."""

    name: str | None  # None: a new pipeline
    text: str
    fmt: str
    base_version: int | None
    checked: Checked | None
    pipeline_json: str
    stages: list[Any]
    types: list[Any]
    error: str | None = None
    tab: str = "code"

    @property
    def action(self) -> str:
        return (
            f"{PREFIX}/new"
            if self.name is None
            else f"{PREFIX}/pipelines/{segment(self.name)}/edit"
        )

    @property
    def visual_action(self) -> str:
        return f"{self.action}/visual" if self.name else f"{PREFIX}/new/visual"


def _types(ctx: ConsoleContext) -> list[Any]:
    found, _ = ctx.services.action_types.list(owner=None, next_token=None, region=None)
    return type_options(found)


def editor_state(
    ctx: ConsoleContext,
    *,
    name: str | None,
    text: str,
    fmt: str,
    base_version: int | None,
    error: str | None = None,
    tab: str = "code",
    declaration: dict[str, Any] | None = None,
) -> EditorState:
    checked = check(ctx, text, name=name, base_version=base_version)
    visual = declaration if declaration is not None else checked.declaration
    pipeline_json, stages = form_model(visual or {"stages": []})
    return EditorState(
        name=name,
        text=text,
        fmt=fmt,
        base_version=base_version,
        checked=checked,
        pipeline_json=pipeline_json,
        stages=stages,
        types=_types(ctx),
        error=error,
        tab=tab,
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def routes(ctx: ConsoleContext) -> list[BaseRoute]:
    def fmt_of(value: str | None) -> str:
        return value if value in FORMATS else "json"

    async def edit_page(request: Request) -> Response:
        name = request.path_params["name"]
        fmt = fmt_of(request.query_params.get("format"))
        try:
            declaration = await run_in_threadpool(lambda: ctx.services.pipelines.get(name))
        except ApiError as exc:
            return page("error.html", status_code=404, title="Not found", message=exc.message)
        decl = declaration.declaration
        state = await run_in_threadpool(
            lambda: editor_state(
                ctx,
                name=name,
                text=dump(decl, fmt),
                fmt=fmt,
                base_version=decl.get("version"),
            )
        )
        return page("editor.html", title=f"Edit {name}", e=state)

    async def new_page(request: Request) -> Response:
        fmt = fmt_of(request.query_params.get("format"))
        state = await run_in_threadpool(
            lambda: editor_state(
                ctx, name=None, text=dump(STARTER, fmt), fmt=fmt, base_version=None
            )
        )
        return page("editor.html", title="New pipeline", e=state)

    async def validate(request: Request) -> Response:
        try:
            form = await read_form(request)
        except FormError as exc:
            return JSONResponse({"ok": False, "problems": [{"path": "", "message": str(exc)}]})
        name = form.get("name") or None
        checked = await run_in_threadpool(
            lambda: check(
                ctx, form.get("text", ""), name=name, base_version=_int(form.get("base_version"))
            )
        )
        return JSONResponse(checked.wire())

    async def save(request: Request) -> Response:
        name = request.path_params.get("name")
        try:
            form = await read_form(request)
        except FormError as exc:
            return JSONResponse({"ok": False, "message": str(exc)}, status_code=400)
        text = form.get("text", "")
        fmt = fmt_of(form.get("format"))
        base_version = _int(form.get("base_version"))

        def run() -> tuple[str | None, str | None, Checked]:
            checked = check(ctx, text, name=name, base_version=base_version)
            if checked.declaration is None or checked.problems:
                return None, "; ".join(p.message for p in checked.problems), checked
            declaration = dict(checked.declaration)
            try:
                if name is None:
                    params: dict[str, Any] = {"pipeline": declaration}
                    if checked.tags:
                        params["tags"] = checked.tags
                    saved = ctx.api.call("CreatePipeline", params)["pipeline"]
                else:
                    declaration.setdefault("version", base_version)
                    if declaration["version"] is None:
                        del declaration["version"]
                    saved = ctx.api.call("UpdatePipeline", {"pipeline": declaration})["pipeline"]
            except ApiError as exc:
                return None, message_of(exc), checked
            ctx.hub.notify(saved["name"])
            return saved["name"], None, checked

        saved_name, error, checked = await run_in_threadpool(run)
        if saved_name is not None:
            location = f"{PREFIX}/pipelines/{segment(saved_name)}"
            if wants_json(request):
                return JSONResponse({"ok": True, "message": "Saved", "location": location})
            return Response(status_code=303, headers={"Location": location})
        if wants_json(request):
            return JSONResponse({**checked.wire(), "ok": False, "message": error}, status_code=400)
        state = await run_in_threadpool(
            lambda: editor_state(
                ctx, name=name, text=text, fmt=fmt, base_version=base_version, error=error
            )
        )
        return page("editor.html", status_code=400, title="Edit", e=state)

    async def visual_op(request: Request) -> Response:
        """Apply a visual editor operation; JSON (panel, text, check) or the editor page."""
        name = request.path_params.get("name")
        try:
            form = await read_form(request)
            declaration = apply(decode(form), form.get("op", ""))
        except (FormError, VisualError) as exc:
            return JSONResponse({"ok": False, "message": str(exc)}, status_code=400)
        fmt = fmt_of(form.get("format"))
        base_version = _int(form.get("base_version"))
        text = dump(declaration, fmt)
        state = await run_in_threadpool(
            lambda: editor_state(
                ctx,
                name=name,
                text=text,
                fmt=fmt,
                base_version=base_version,
                tab="visual",
                declaration=declaration,
            )
        )
        if wants_json(request):
            assert state.checked is not None
            return JSONResponse(
                {
                    "ok": True,
                    "text": text,
                    "html": render("_visual.html", e=state),
                    "check": state.checked.wire(),
                }
            )
        return page("editor.html", title="Edit", e=state)

    async def text_to_visual(request: Request) -> Response:
        """The visual panel for the editor's current text (when switching to the visual tab)."""
        try:
            form = await read_form(request)
        except FormError as exc:
            return JSONResponse({"ok": False, "message": str(exc)}, status_code=400)
        try:
            declaration, _tags = parse(form.get("text", ""))
        except DefinitionError as exc:
            return JSONResponse(
                {"ok": False, "message": f"fix the text first: {exc}"}, status_code=400
            )
        name = form.get("name") or None
        fmt = fmt_of(form.get("format"))
        state = await run_in_threadpool(
            lambda: editor_state(
                ctx,
                name=name,
                text=form.get("text", ""),
                fmt=fmt,
                base_version=_int(form.get("base_version")),
                tab="visual",
                declaration=declaration,
            )
        )
        return JSONResponse({"ok": True, "html": render("_visual.html", e=state)})

    return [
        Route("/new", new_page, methods=["GET"]),
        Route("/new", save, methods=["POST"]),
        Route("/new/visual", visual_op, methods=["POST"]),
        Route("/pipelines/{name}/edit", edit_page, methods=["GET"]),
        Route("/pipelines/{name}/edit", save, methods=["POST"]),
        Route("/pipelines/{name}/edit/visual", visual_op, methods=["POST"]),
        Route("/api/validate", validate, methods=["POST"]),
        Route("/api/visual", text_to_visual, methods=["POST"]),
    ]
