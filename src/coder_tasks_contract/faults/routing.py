"""Faults in the order of routing under a task mount (ROUTE-2, ROUTE-3, ROUTE-4): Coder's resolvers of ``{user}`` and
``{task}`` are middleware of nested chi sub-routers, so they answer before a route or a method is matched.

Each fault rewrites the faithful server's answer to a request that no route of the level serves (a path without a
route, or a method its route does not serve): what a server answers that matches routes in another order. The
route table is the reference server's own (``task_routes`` of the level), walked as its router walks it.
"""

from __future__ import annotations

from dataclasses import replace

from starlette.responses import Response
from starlette.types import ASGIApp

from coder_tasks_contract.faults.asgi import Reply, serve
from coder_tasks_contract.faults.base import fault
from coder_tasks_contract.server.api.app import task_routes
from coder_tasks_contract.server.api.middleware import json_response
from coder_tasks_contract.server.api.router import Methods, method_not_allowed, route_not_found, split
from coder_tasks_contract.server.domain.errors import NOT_FOUND_MESSAGE
from coder_tasks_contract.server.domain.world import USER_PARAM_MESSAGE, World
from coder_tasks_contract.spec.levels import Level

_ROUTE_NOT_FOUND = "Route not found."  # chi's NotFound handler in Coder: httpapi.RouteNotFound
_RESOLVER_MESSAGES = frozenset({USER_PARAM_MESSAGE, NOT_FOUND_MESSAGE})


class _Unrouted:
    """Where a request under a task mount ends when no route serves it: how many of ``{user}``/``{task}`` its path
    passes through, and the methods of the route it names (None: no route at all)."""

    def __init__(self, segments: int, methods: Methods | None) -> None:
        self.segments = segments
        self.methods = methods

    def routing_answer(self, method: str) -> Response:
        """What chi answers once the resolvers on the way have passed: 404 ``Route not found.`` or 405."""
        return route_not_found() if self.methods is None else method_not_allowed(method, self.methods)


def _unrouted(level: Level, method: str, path: str) -> _Unrouted | None:
    """The unrouted request's place, or None when the request is routed or not under one of the level's mounts."""
    routes = task_routes(level)
    prefix = next((p for p in level.prefixes if path.startswith(p)), None)
    walked = split(path[len(prefix) :]) if prefix is not None else None
    if walked is None:
        return None
    segments, route_path = walked
    methods = routes.task.get(route_path) if len(segments) == 2 else (routes.collection, routes.user)[len(segments)]
    if methods is not None and method in methods:
        return None
    return _Unrouted(len(segments), methods)


def _answer(reply: Reply, response: Response) -> Reply:
    """``reply`` with the status, body and content headers of ``response``; the middleware's headers stay."""
    content = ("content-type", "content-length", "allow")
    kept = [(k, v) for k, v in reply.headers if k not in content]
    new = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.raw_headers]
    headers = kept + [(k, v) for k, v in new if k != "content-length"]
    return replace(reply, status=response.status_code, headers=headers, body=bytes(response.body))


def _json_message(reply: Reply) -> str | None:
    body = reply.json() if reply.is_json else None
    return body.get("message") if isinstance(body, dict) else None


@fault(
    "paths",
    "tests/test_path_resolution.py::test_task_resolver_answers_before_routing",
    "tests/test_path_resolution.py::test_user_resolver_answers_before_routing",
    ci=True,
)
def routes_before_resolvers(world: World) -> ASGIApp:
    """Routes and methods are matched before ``{user}`` and ``{task}`` are resolved, so ``POST <mount>/me/<phantom
    task>/pause`` at a level without pause answers 404 ``Route not found.`` and ``PUT <mount>/me/<phantom task>``
    405 (ROUTE-2: the API key check, the ``{user}`` resolver and the ``{task}`` resolver answer first; TASKREF-3,
    USER-2)."""

    def rewrite(reply: Reply) -> Reply | None:
        place = _unrouted(world.level, reply.request.method, reply.request.path)
        if place is None or reply.status not in (400, 404) or _json_message(reply) not in _RESOLVER_MESSAGES:
            return None
        return _answer(reply, place.routing_answer(reply.request.method))

    return serve(world, response=rewrite)


def _not_found(reply: Reply) -> Reply:
    """The task resolver's answer: 404 with the not-found body."""
    return _answer(reply, json_response(404, {"message": NOT_FOUND_MESSAGE}))


@fault(
    "paths",
    "tests/test_path_resolution.py::test_unknown_route_answers_404_route_not_found[unknown-task-subresource]",
    "tests/test_path_resolution.py::test_unknown_subroute_of_a_live_task_answers_route_not_found",
)
def unknown_subroute_answers_not_found(world: World) -> ASGIApp:
    """A path below a live task that no route serves (``<mount>/me/<task>/anything``) answers the task resolver's
    404 not-found body instead of 404 ``Route not found.``, as if the task were looked up only after routing
    failed (ROUTE-3: once the resolvers have passed, a path with no route answers ``Route not found.``)."""

    def rewrite(reply: Reply) -> Reply | None:
        place = _unrouted(world.level, reply.request.method, reply.request.path)
        if place is None or place.segments != 2 or place.methods is not None or reply.status != 404:
            return None
        return _not_found(reply) if _json_message(reply) == _ROUTE_NOT_FOUND else None

    return serve(world, response=rewrite)


@fault("paths", "tests/test_path_resolution.py::test_wrong_method_after_the_resolvers_answers_405")
def wrong_method_answers_not_found(world: World) -> ASGIApp:
    """A method the route does not serve (``PUT <mount>/me/<live task>``, ``GET <mount>/me``) answers 404 with the
    not-found body instead of 405 (ROUTE-4: once the resolvers on the way have passed, a known path with a method it
    does not serve answers chi's 405)."""

    def rewrite(reply: Reply) -> Reply | None:
        place = _unrouted(world.level, reply.request.method, reply.request.path)
        if place is None or place.methods is None or reply.status != 405:
            return None
        return _not_found(reply)

    return serve(world, response=rewrite)
