"""Strict mode (``coder-tasks-fake --strict``): a request the emulated level does not describe answers 400 naming
what is wrong, so a client author learns about drift (a route a newer level added, a mount an older level lacks,
a method the route does not take) instead of reading Coder's bare ``404 Route not found.``.

"Described" means: a task route of the level at one of its mounts (``app.task_routes``, ROUTE-1, PAUSE-1/2) or one of
the routes the fake serves around them (``app.OTHER_ROUTES``). Real Coder has no strict mode: this is a test aid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from coder_tasks_contract.server.api.app import OTHER_ROUTES, task_routes
from coder_tasks_contract.server.api.middleware import collapse_slashes, json_response
from coder_tasks_contract.spec import levels
from coder_tasks_contract.spec.levels import Level

STRICT_MESSAGE = "Strict mode: this request is not described by the contract level."


@dataclass(frozen=True)
class Described:
    """One route template of a level: method, path template and the clause that describes it."""

    method: str
    template: str
    clause: str

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(self.template)) + "$")


def _clause(route: str) -> str:
    """The clause describing a task route: pause and resume have their own; the mounts are ROUTE-1."""
    return {"/pause": "PAUSE-1", "/resume": "PAUSE-2"}.get(route, "ROUTE-1")


def described_routes(level: Level) -> list[Described]:
    """Every (method, path template) the level describes: its task routes at each mount, then the other routes."""
    routes = task_routes(level)
    found: list[Described] = []
    for prefix in level.prefixes:
        found += [Described(method, prefix, "ROUTE-1") for method in routes.collection]
        found += [Described(method, prefix + "/{user}", "ROUTE-1") for method in routes.user]
        for route, methods in routes.task.items():
            path = prefix + "/{user}/{task}" + ("" if route == "/" else route)
            found += [Described(method, path, _clause(route)) for method in methods]
    found += [Described(method, path, "surrounding API") for method, path, _ in OTHER_ROUTES]
    return found


def refusal_detail(level: Level, method: str, path: str) -> str:
    """Why ``method path`` is not described at ``level``: another level's route, another method, or nothing."""
    same_path = [d for d in described_routes(level) if d.pattern.match(path)]
    if same_path:
        allowed = ", ".join(sorted({d.method for d in same_path}))
        return f"{method} {path}: the route {same_path[0].template} takes {allowed} at level {level.name}."
    elsewhere = [
        (other.name, d)
        for other in levels.LEVELS
        if other.name != level.name
        for d in described_routes(other)
        if d.method == method and d.pattern.match(path)
    ]
    if elsewhere:
        names = ", ".join(name for name, _ in elsewhere)
        template, clause = elsewhere[0][1].template, elsewhere[0][1].clause
        return (
            f"{method} {template} is a route of level {names}, not of level {level.name} ({clause}); "
            f"a server of level {level.name} answers it 404 Route not found."
        )
    return (
        f"{method} {path} is no route of any contract level: the fake serves the task routes and the API around them "
        "(users, organizations, templates, template versions, workspaces, builds); Coder answers 404 Route not found."
    )


class StrictMiddleware:
    """Refuse, before authentication and routing, what the level does not describe (400 with the reason)."""

    def __init__(self, app: ASGIApp, level: Level) -> None:
        self.app = app
        self.level = level
        self.routes = described_routes(level)

    def describes(self, method: str, path: str) -> bool:
        return any(d.method == method and d.pattern.match(path) for d in self.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method, path = scope["method"], collapse_slashes(scope["path"])
            if not self.describes(method, path):
                body = {"message": STRICT_MESSAGE, "detail": refusal_detail(self.level, method, path)}
                await json_response(400, body)(scope, receive, send)
                return
        await self.app(scope, receive, send)
