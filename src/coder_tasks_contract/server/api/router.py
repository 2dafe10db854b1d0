"""How a request under a task mount reaches its handler, in the order Coder's chi router gives it (ROUTE-2..4).

Coder mounts the task routes as nested chi sub-routers, each with its resolver as middleware: ``/tasks`` uses the
API key check, ``/{user}`` the members resolver, ``/{task}`` the task resolver (``coderd/coderd.go``). A chi
sub-router runs its middleware before it matches a route, so under ``<mount>/{user}/...`` the ``{user}`` error, and
under ``<mount>/{user}/{task}/...`` the task resolver's 404, answer before "Route not found." (404) or the wrong
method (405) can. The API key check itself runs in ``middleware`` for the whole mount.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from coder_tasks_contract.server.api.middleware import KNOWN_METHODS, USER_SCOPE_KEY, json_response
from coder_tasks_contract.server.domain.entities import User
from coder_tasks_contract.server.domain.world import World

Handler = Callable[[Request], Awaitable[Response]]
# Handlers by method, for one route of a sub-router.
Methods = Mapping[str, Handler]


def route_not_found() -> Response:
    """Coder's ``httpapi.RouteNotFound``, the NotFound handler every task sub-router inherits (ROUTE-3)."""
    return json_response(404, {"message": "Route not found."})


def method_not_allowed(method: str, methods: Methods) -> Response:
    """chi's default 405: empty body, one ``Allow`` header per method the route serves (ROUTE-4)."""
    response = Response(status_code=405)
    if method in KNOWN_METHODS:
        for allowed in sorted(methods):
            response.raw_headers.append((b"allow", allowed.encode()))
    return response


@dataclass(frozen=True)
class TaskRoutes:
    """The routes of the three nested sub-routers of one task mount."""

    collection: Methods  # "/" of the mount: GET list
    user: Methods  # "/" of /{user}: POST create
    task: Mapping[str, Methods]  # routes of /{user}/{task}: "/" -> GET, DELETE; "/input" -> PATCH; ...


def split(rest: str) -> tuple[tuple[str, ...], str] | None:
    """The ``{user}``/``{task}`` segments a path after the mount passes through, and the route path left for the
    innermost sub-router; None when the path does not continue the mount (``/tasksfoo``).

    chi mounts a sub-router at ``/{x}``, ``/{x}/`` and ``/{x}/*``, so ``/me`` and ``/me/`` both reach the ``{user}``
    sub-router with route path ``/``; ``/me/t/logs/`` reaches the task sub-router with ``/logs/``, which no route has.
    """
    if rest in ("", "/"):
        return (), "/"
    if not rest.startswith("/"):
        return None
    user, _, more = rest[1:].partition("/")
    if not more:
        return (user,), "/"
    task, _, tail = more.partition("/")
    return (user, task), "/" + tail


def task_mount(world: World, routes: TaskRoutes) -> Handler:
    """The endpoint for everything under one task mount (``{rest:path}`` after the prefix)."""

    async def dispatch(request: Request) -> Response:
        walked = split(request.path_params["rest"])
        if walked is None:
            return route_not_found()
        segments, route_path = walked
        actor: User = request.scope[USER_SCOPE_KEY]
        # The sub-routers' middleware, outermost first: each may answer before any route is matched.
        if segments:
            owner = world.resolve_user(actor, segments[0])
        if len(segments) == 2:
            world.resolve_task(actor, owner, segments[1])
        methods = routes.task.get(route_path) if len(segments) == 2 else (routes.collection, routes.user)[len(segments)]
        if methods is None:
            return route_not_found()
        handler = methods.get(request.method)
        if handler is None:
            return method_not_allowed(request.method, methods)
        request.scope["path_params"] = dict(zip(("user", "task"), segments, strict=False))
        return await handler(request)

    return dispatch
