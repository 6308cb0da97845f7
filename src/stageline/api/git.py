"""git's smart HTTP protocol at ``/git/<name>`` (and ``/git/<name>.git``), served by git.

We do not speak the protocol ourselves: each request runs ``git http-backend``
as a CGI program, the way Apache or nginx would, and this module only carries
bytes. The request body is streamed into the backend's stdin and its stdout
streamed back, so a pack of any size passes through in 64 KiB pieces. A push
that succeeds is turned into ref updates (for-each-ref before and after) and
handed to ``RepositoryService.on_push``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stageline.errors import ApiError
from stageline.repos import RepositoryService
from stageline.repos.errors import InvalidRepositoryName
from stageline.repos.model import diff_refs
from stageline.repos.names import check_repository_name

log = logging.getLogger("stageline.api.git")

CHUNK = 64 * 1024
MAX_CGI_HEADER_LINES = 100
# Git-Protocol carries "version=2" and similar key=value pairs separated by ':'.
_GIT_PROTOCOL = re.compile(r"[A-Za-z0-9=:._-]{1,256}")
_CONTENT_ENCODING = re.compile(r"[A-Za-z0-9-]{1,32}")


def git_routes(repos: RepositoryService) -> list[BaseRoute]:
    """The routes to mount on the app: smart HTTP for every hosted repository."""
    backend = GitHttpBackend(repos)

    def serving(path: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await backend.serve(request, path)

        return endpoint

    return [
        Route("/git/{repo}/info/refs", serving("info/refs"), methods=["GET"]),
        Route("/git/{repo}/git-upload-pack", serving("git-upload-pack"), methods=["POST"]),
        Route("/git/{repo}/git-receive-pack", serving("git-receive-pack"), methods=["POST"]),
        Route("/git/{repo}", backend.describe, methods=["GET"]),
    ]


class RememberBaseUrl:
    """Tells the repository service the server's own address, from the first request.

    Clone URLs (GetRepository's cloneUrlHttp, the origin of CODEBUILD_CLONE_REF
    clones) need it, and with ``--port 0`` it is only known once the socket is
    bound. ``scope["server"]`` is the address the connection arrived on, not a
    header a client chose.
    """

    def __init__(self, app: ASGIApp, repos: RepositoryService) -> None:
        self.app = app
        self.repos = repos

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.repos.base_url is None and scope["type"] == "http":
            server = scope.get("server")
            if server and server[1]:
                host, port = server
                shown = f"[{host}]" if ":" in host else host
                scheme = scope.get("scheme", "http")
                self.repos.base_url = f"{scheme}://{shown}:{port}{scope.get('root_path', '')}"
        await self.app(scope, receive, send)


class GitHttpBackend:
    """Runs ``git http-backend`` per request against the repository service's root."""

    def __init__(self, repos: RepositoryService) -> None:
        self.repos = repos
        # One push at a time per repository, so the before/after ref snapshots of a
        # push contain that push's changes only.
        self._push_locks: dict[str, asyncio.Lock] = {}

    def _repository(self, request: Request) -> str | None:
        raw = request.path_params["repo"]
        name = raw[: -len(".git")] if raw.endswith(".git") else raw
        try:
            check_repository_name(name)
        except InvalidRepositoryName:
            return None
        return name if self.repos.exists(name) else None

    async def describe(self, request: Request) -> Response:
        name = self._repository(request)
        if name is None:
            return _not_found(request)
        url = self.repos.clone_url_http(name) or str(request.url).rstrip("/")
        return PlainTextResponse(
            f"stageline hosts the git repository '{name}'.\n  git clone {url}\n"
        )

    async def serve(self, request: Request, path: str) -> Response:
        name = self._repository(request)
        if name is None:
            return _not_found(request)
        is_push = path == "git-receive-pack"
        lock = self._push_locks.setdefault(name, asyncio.Lock()) if is_push else None
        exchange = CgiExchange(self.repos, name, request, path)
        if lock is not None:
            await lock.acquire()
        try:
            before = await run_in_threadpool(self.repos.refs, name) if is_push else None
            await exchange.start()
            headers = await exchange.read_headers()
        except BaseException:
            await exchange.close()
            if lock is not None:
                lock.release()
            raise
        if headers is None:
            await exchange.close()
            if lock is not None:
                lock.release()
            message = exchange.stderr.decode(errors="replace").strip()
            log.error("git http-backend gave no response for %s: %s", name, message)
            return PlainTextResponse("git http-backend failed; see the server log\n", 500)
        status, media_type, out = _cgi_status(headers)
        # From here the response owns the process and the lock, and frees both.
        return GitResponse(
            exchange.body(before),
            status_code=status,
            headers=out,
            media_type=media_type,
            exchange=exchange,
            lock=lock,
        )


def _cgi_status(headers: list[tuple[str, str]]) -> tuple[int, str | None, dict[str, str]]:
    """(status, content type, other headers) from a CGI response's header block."""
    status = 200
    out: dict[str, str] = {}
    for key, value in headers:
        if key.lower() == "status":
            code = value.split(" ", 1)[0]
            status = int(code) if code.isdigit() else 500
        else:
            out[key] = value
    media_type = next((out.pop(k) for k in list(out) if k.lower() == "content-type"), None)
    return status, media_type, out


def _not_found(request: Request) -> Response:
    repo = request.path_params.get("repo", "")
    return PlainTextResponse(f"repository '{repo}' not found\n", status_code=404)


class CgiExchange:
    """One request/response through ``git http-backend``."""

    def __init__(self, repos: RepositoryService, name: str, request: Request, path: str) -> None:
        self.repos = repos
        self.name = name
        self.request = request
        self.path = path
        self.proc: asyncio.subprocess.Process | None = None
        self.body_done = asyncio.Event()
        self.disconnected = False
        self.stderr = bytearray()
        self.tasks: list[asyncio.Task[None]] = []

    def environment(self) -> dict[str, str]:
        request = self.request
        headers = request.headers
        env = {
            "GIT_PROJECT_ROOT": str(self.repos.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": f"/{self.name}.git/{self.path}",
            "REQUEST_METHOD": request.method,
            "QUERY_STRING": request.scope.get("query_string", b"").decode("latin-1"),
            "CONTENT_TYPE": headers.get("content-type", ""),
            "REMOTE_ADDR": request.client.host if request.client else "",
            "REMOTE_USER": "anonymous",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
        }
        length = headers.get("content-length")
        if length is not None and length.isdigit():
            env["CONTENT_LENGTH"] = length
        protocol = headers.get("git-protocol")
        if protocol and _GIT_PROTOCOL.fullmatch(protocol):
            env["GIT_PROTOCOL"] = protocol
        encoding = headers.get("content-encoding")
        if encoding and _CONTENT_ENCODING.fullmatch(encoding):
            env["HTTP_CONTENT_ENCODING"] = encoding
        return self.repos.git.env(env)

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            self.repos.git.executable,
            "http-backend",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.environment(),
            cwd=str(self.repos.root),
        )
        self.tasks = [
            asyncio.create_task(self._feed_stdin()),
            asyncio.create_task(self._drain_stderr()),
        ]

    async def _feed_stdin(self) -> None:
        """Copy the request body into the backend as it arrives; close stdin at its end."""
        assert self.proc is not None and self.proc.stdin is not None
        stdin = self.proc.stdin
        try:
            if self.request.method == "POST":
                async for chunk in self.request.stream():
                    if chunk:
                        stdin.write(chunk)
                        await stdin.drain()
        except ClientDisconnect:
            self.disconnected = True
            self._kill()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the backend stopped reading (it answered an error); its output says why
        finally:
            self.body_done.set()
            if not stdin.is_closing():
                stdin.close()

    async def _drain_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        while chunk := await self.proc.stderr.read(CHUNK):
            self.stderr += chunk
            del self.stderr[:-CHUNK]  # keep the tail; that is where git says what went wrong

    def _kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()

    async def read_headers(self) -> list[tuple[str, str]] | None:
        assert self.proc is not None and self.proc.stdout is not None
        headers: list[tuple[str, str]] = []
        for _ in range(MAX_CGI_HEADER_LINES):
            line = await self.proc.stdout.readline()
            if not line:
                return None
            text = line.decode("latin-1").rstrip("\r\n")
            if not text:
                return headers
            key, sep, value = text.partition(":")
            if sep:
                headers.append((key.strip(), value.strip()))
        return None

    async def body(self, before: dict[str, str] | None) -> AsyncIterator[bytes]:
        assert self.proc is not None and self.proc.stdout is not None
        while chunk := await self.proc.stdout.read(CHUNK):
            yield chunk
        code = await self.proc.wait()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if code != 0:
            log.warning(
                "git http-backend %s for %s exited %s: %s",
                self.path,
                self.name,
                code,
                self.stderr.decode(errors="replace").strip(),
            )
        elif before is not None and not self.disconnected:
            try:
                after = await run_in_threadpool(self.repos.refs, self.name)
            except ApiError as exc:  # deleted while the push ran: nobody left to tell
                log.warning("after a push to %s: %s", self.name, exc.message)
                return
            updates = diff_refs(before, after)
            if updates:
                await run_in_threadpool(self.repos.on_push, self.name, updates)

    async def close(self) -> None:
        self._kill()
        if self.proc is not None:
            await self.proc.wait()
        for task in self.tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


class GitResponse(StreamingResponse):
    """A StreamingResponse that shares ``receive`` with the task feeding the request body.

    Under ASGI spec < 2.4 StreamingResponse listens for a disconnect by calling
    ``receive()`` while it streams; for a push that would swallow pieces of the
    pack still being read. Here that listener waits until the body has been read.
    Whatever happens, the backend process is reaped and the push lock released.
    """

    def __init__(
        self,
        content: AsyncIterator[bytes],
        *,
        exchange: CgiExchange,
        lock: asyncio.Lock | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(content, **kwargs)
        self.exchange = exchange
        self.lock = lock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def after_body() -> Message:
            await self.exchange.body_done.wait()
            if self.exchange.disconnected:
                return {"type": "http.disconnect"}
            return await receive()

        try:
            await super().__call__(scope, after_body, send)
        finally:
            await self.exchange.close()
            if self.lock is not None:
                self.lock.release()
