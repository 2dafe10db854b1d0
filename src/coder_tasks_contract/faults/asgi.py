"""How a fault changes the reference server: ASGI wrappers that rewrite one kind of request or response, a tag that
tells domain rules which operation is being served, and :func:`serve`, which assembles a variant.

The wrappers sit outside the whole reference app (its authentication middleware included), so a fault can change
what the client sends before Coder's checks run, or what Coder answered before it leaves the socket. Everything
else about the server stays the faithful one.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coder_tasks_contract.server.api.app import create_app, task_routes
from coder_tasks_contract.server.api.router import split
from coder_tasks_contract.server.domain.world import World
from coder_tasks_contract.server.golang.gofmt import go_escape_path, go_json
from coder_tasks_contract.spec import levels

# Every mount of the same handlers: /api/experimental/tasks, and /api/v2/tasks on servers from v2.29 on (ROUTE-1).
MOUNTS = levels.LEVEL_NEWEST.prefixes
# The seven operations every level serves, from the reference server's route table (ROUTE-6); its handlers are
# named after Coder's operations (``get_task_logs`` serves getTaskLogs).
_ROUTES = task_routes(levels.LEVEL_82F)

#: The operation the current request addresses (set by :class:`OperationTag`), for domain rules that a fault
#: changes for some operations only, e.g. "another member may delete the task" but not read it.
current_operation: ContextVar[str | None] = ContextVar("current_operation", default=None)


def operation_of(method: str, path: str) -> str | None:
    """The operationId of a request, or None outside the seven task operations."""
    path = re.sub("/{2,}", "/", path)
    mount = next((mount for mount in MOUNTS if path == mount or path.startswith(mount + "/")), None)
    walked = None if mount is None else split(path[len(mount) :])
    if walked is None:
        return None
    segments, route = walked
    methods = _ROUTES.task.get(route, {}) if len(segments) == 2 else (_ROUTES.collection, _ROUTES.user)[len(segments)]
    handler = methods.get(method.upper())
    if handler is None:
        return None
    first, *rest = handler.__name__.split("_")
    return first + "".join(word.title() for word in rest)


def is_task_route(path: str) -> bool:
    """Whether ``path`` is under a task mount (any of the seven operations, or an unknown path below them)."""
    return any(path == mount or path.startswith(mount + "/") for mount in MOUNTS)


# ---- requests ------------------------------------------------------------------------------------------------


@dataclass
class Incoming:
    """A request as a fault may rewrite it: header names lower-case, the query string raw (still encoded)."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    operation: str | None = None

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)

    def without_header(self, name: str) -> Incoming:
        name = name.lower()
        return replace(self, headers=[(k, v) for k, v in self.headers if k != name])

    def with_header(self, name: str, value: str) -> Incoming:
        stripped = self.without_header(name)
        return replace(stripped, headers=[*stripped.headers, (name.lower(), value)])

    def cookie(self, name: str) -> str | None:
        """The first value of cookie ``name`` (a simple reading: enough for the cookies the suite sends)."""
        for key, value in self.headers:
            if key != "cookie":
                continue
            for part in value.split(";"):
                cookie, sep, cookie_value = part.strip().partition("=")
                if sep and cookie == name:
                    return cookie_value
        return None

    def query_pairs(self) -> list[tuple[str, str]]:
        """Raw ``key=value`` pairs (not decoded: a rewrite keeps the client's encoding)."""
        pairs = []
        for part in self.query.split("&"):
            if part:
                key, _, value = part.partition("=")
                pairs.append((key, value))
        return pairs

    def without_query(self, key: str) -> Incoming:
        kept = [f"{k}={v}" if v else k for k, v in self.query_pairs() if k != key]
        return replace(self, query="&".join(kept))


def _incoming(scope: Scope, body: bytes = b"") -> Incoming:
    """The HTTP request of ``scope`` (with ``body``) as a fault sees it."""
    return Incoming(
        scope["method"],
        scope["path"],
        scope.get("query_string", b"").decode("latin-1"),
        _headers(scope.get("headers", [])),
        body,
        operation_of(scope["method"], scope["path"]),
    )


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in raw]


RequestRewrite = Callable[[Incoming], "Incoming | Response | None"]
ResponseRewrite = Callable[["Reply"], "Reply | None"]
_Rewrite = TypeVar("_Rewrite")


class _HttpRewriter(ABC, Generic[_Rewrite]):
    """An ASGI wrapper that hands HTTP exchanges to ``rewrite`` (in :meth:`http`) and passes every other scope,
    such as lifespan, straight to the app."""

    def __init__(self, app: ASGIApp, rewrite: _Rewrite) -> None:
        self.app = app
        self.rewrite = rewrite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    @abstractmethod
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP exchange, rewriting it on the way."""


class RewriteRequest(_HttpRewriter[RequestRewrite]):
    """Hands every HTTP request to ``rewrite`` (body included); a returned ``Incoming`` replaces the request, a
    returned ``Response`` is the answer (the reference app never sees the request)."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away; let the app see an empty body
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        request = _incoming(scope, b"".join(chunks))
        changed = self.rewrite(request) or request
        if isinstance(changed, Response):
            await changed(scope, receive, send)
            return
        new_scope = dict(scope)
        new_scope.update(
            method=changed.method,
            path=changed.path,
            raw_path=go_escape_path(changed.path).encode("latin-1"),
            query_string=changed.query.encode("latin-1"),
            headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in changed.headers],
        )
        body = changed.body
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(new_scope, replay, send)


# ---- responses -----------------------------------------------------------------------------------------------


@dataclass
class Reply:
    """A complete response as a fault may rewrite it (header names lower-case)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    request: Incoming = field(repr=False)

    @property
    def operation(self) -> str | None:
        return self.request.operation

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)

    def with_header(self, name: str, value: str | None) -> Reply:
        """The reply with header ``name`` set to ``value`` (None removes it)."""
        name = name.lower()
        headers = [(k, v) for k, v in self.headers if k != name]
        if value is not None:
            headers.append((name, value))
        return replace(self, headers=headers)

    @property
    def is_json(self) -> bool:
        return (self.header("content-type") or "").startswith("application/json") and bool(self.body.strip())

    def json(self) -> Any:
        return json.loads(self.body)

    def with_json(self, value: Any) -> Reply:
        """The reply with ``value`` as its body, written as Coder writes JSON."""
        return replace(self, body=go_json(value))


class RewriteResponse(_HttpRewriter[ResponseRewrite]):
    """Buffers each HTTP response and hands it to ``rewrite``; a returned ``Reply`` is sent instead (with its
    Content-Length recomputed)."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message | None = None
        chunks: list[bytes] = []

        async def collect(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await self._flush(scope, start, b"".join(chunks), send)
                return
            await send(message)

        await self.app(scope, receive, collect)

    async def _flush(self, scope: Scope, start: Message | None, body: bytes, send: Send) -> None:
        assert start is not None, "a response body came before its start"
        reply = Reply(start["status"], _headers(start.get("headers", [])), body, _incoming(scope))
        changed = self.rewrite(reply) or reply
        out = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in changed.headers if k != "content-length"]
        if changed.body or changed.status not in (204, 304):
            out.append((b"content-length", str(len(changed.body)).encode()))
        await send({"type": "http.response.start", "status": changed.status, "headers": out})
        await send({"type": "http.response.body", "body": changed.body, "more_body": False})


# ---- the operation tag and assembly --------------------------------------------------------------------------


class OperationTag:
    """Sets :data:`current_operation` for the request it passes on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = current_operation.set(operation_of(scope["method"], scope["path"]) if scope["type"] == "http" else None)
        try:
            await self.app(scope, receive, send)
        finally:
            current_operation.reset(token)


def serve(
    world: World,
    *,
    rules: type[World] | None = None,
    request: RequestRewrite | None = None,
    response: ResponseRewrite | None = None,
) -> ASGIApp:
    """The reference app for ``world``, changed in one place: domain ``rules`` (a ``World`` subclass the world
    becomes), a ``request`` rewrite before Coder sees the request, or a ``response`` rewrite after it answered."""
    if rules is not None:
        if not issubclass(rules, World) or rules.__dict__.get("__slots__"):
            raise TypeError(f"{rules!r} is not a plain World subclass")
        world.__class__ = rules
    app: ASGIApp = create_app(world)
    if response is not None:
        app = RewriteResponse(app, response)
    if request is not None:
        app = RewriteRequest(app, request)
    return OperationTag(app)


# ---- small helpers shared by the catalogue -------------------------------------------------------------------


def on_operations(operations: Iterable[str], rewrite: ResponseRewrite) -> ResponseRewrite:
    """``rewrite``, applied only to responses of the given operations."""
    wanted = frozenset(operations)

    def apply(reply: Reply) -> Reply | None:
        return rewrite(reply) if reply.operation in wanted else None

    return apply


def map_tasks(reply: Reply, change: Callable[[dict[str, Any]], None]) -> Reply | None:
    """Apply ``change`` to every Task in a successful JSON task response (create, get, list); None otherwise."""
    if not reply.is_json or reply.status >= 300 or reply.operation not in {"createTask", "getTask", "listTasks"}:
        return None
    body = reply.json()
    tasks = body.get("tasks") if reply.operation == "listTasks" else [body]
    for task in tasks or []:
        change(task)
    return reply.with_json(body)


def map_error(reply: Reply, change: Callable[[dict[str, Any]], dict[str, Any] | None]) -> Reply | None:
    """Apply ``change`` to a JSON error body on the task routes; a returned dict replaces the body."""
    if reply.status < 400 or not reply.is_json or not is_task_route(reply.request.path):
        return None
    body = reply.json()
    if not isinstance(body, dict):
        return None
    new = change(body)
    return reply.with_json(body if new is None else new)
