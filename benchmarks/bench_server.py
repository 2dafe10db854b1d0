"""The server side of the benchmark: the reference server (or a fault variant) wrapped in a counting ASGI middleware.

Requests are counted where they arrive, so the figures do not depend on the suite's own bookkeeping (its traffic
recorder is read too, as a cross-check). Each request is put in a route group (list, get, logs, ...) and the time the
app spent on it and the bytes it answered are added per group: the growth-with-data figures need the list calls
apart from everything else.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coder_tasks_contract.server.api.app import create_app
from coder_tasks_contract.server.domain.world import World
from coder_tasks_contract.server.runner import ReferenceServer, start_reference_server
from coder_tasks_contract.spec import levels

TASKS = "/api/experimental/tasks"
# A pause between requests at least this long, with none in flight, counts as the server sitting idle: the suite
# sleeping between lifecycle polls, importing a test module, or generating a slow case. Shorter gaps are the
# ordinary client-side cost of each request (building it, checking the answer).
IDLE_GAP = 0.025
# --rate-limit for the suite: the counting server has no rate limit (like the embedded server, where the suite's
# default is unlimited too), so the suite should not pace itself as it does for a deployment (400/min/endpoint).
UNLIMITED_RATE = "1000000"
# Route groups, tried in order on "METHOD path" (path without query and trailing slash).
_GROUPS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("list", re.compile(rf"^GET {TASKS}$")),
    ("create", re.compile(rf"^POST {TASKS}/[^/]+$")),
    ("logs", re.compile(rf"^GET {TASKS}/[^/]+/[^/]+/logs$")),
    ("get", re.compile(rf"^GET {TASKS}/[^/]+/[^/]+$")),
    ("delete", re.compile(rf"^DELETE {TASKS}/[^/]+/[^/]+$")),
    ("input", re.compile(rf"^PATCH {TASKS}/[^/]+/[^/]+/input$")),
    ("send", re.compile(rf"^POST {TASKS}/[^/]+/[^/]+/send$")),
    ("v2", re.compile(r"^[A-Z]+ /api/v2/")),
)


def _not_invalid_request(record: logging.LogRecord) -> bool:
    # schemathesis' command line probes the server with a NUL byte in a header; uvicorn logs a warning for each.
    return "Invalid HTTP request" not in record.getMessage()


# A filter survives uvicorn re-applying its log level each time a server starts.
logging.getLogger("uvicorn.error").addFilter(_not_invalid_request)


def route_group(method: str, path: str) -> str:
    """The group of one request, e.g. ``route_group("GET", "/api/experimental/tasks")`` -> ``"list"``."""
    key = f"{method.upper()} {path.rstrip('/') or '/'}"
    for name, pattern in _GROUPS:
        if pattern.match(key):
            return name
    return "other"


@dataclass
class GroupTally:
    """Requests of one route group: how many, seconds the app spent on them, response body bytes."""

    requests: int = 0
    seconds: float = 0.0
    body_bytes: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"requests": self.requests, "server_seconds": round(self.seconds, 4), "body_bytes": self.body_bytes}


@dataclass
class Tally:
    """Every group's :class:`GroupTally`, plus the first and last arrival (monotonic seconds)."""

    groups: dict[str, GroupTally] = field(default_factory=dict)
    first: float | None = None
    last: float | None = None
    idle_seconds: float = 0.0  # sum of the gaps of at least IDLE_GAP with no request in flight
    idle_gaps: int = 0

    @property
    def requests(self) -> int:
        return sum(g.requests for g in self.groups.values())

    def group(self, name: str) -> GroupTally:
        return self.groups.get(name, GroupTally())

    @property
    def active_seconds(self) -> float:
        """First request to the end of the last one: the window in which the server was being driven."""
        return (self.last - self.first) if self.first is not None and self.last is not None else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "active_seconds": round(self.active_seconds, 3),
            "idle_seconds": round(self.idle_seconds, 3),
            "idle_gaps": self.idle_gaps,
            "by_group": {name: tally.to_json() for name, tally in sorted(self.groups.items())},
        }


class CountingApp:
    """ASGI middleware counting every HTTP request by route group; thread-safe snapshots for the benchmark.

    It also counts requests per (user, path), the key of Coder's rate limit (RATE-1: the API key's user, then
    httprate's ``KeyByEndpoint``, which is the request's URL path whatever its method). ``users`` maps a session
    token to its user's name; a token is looked up, never kept.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._tally = Tally()
        self._in_flight = 0
        self._arrivals: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.users: dict[str, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.monotonic()
        with self._lock:
            tally = self._tally
            if self._in_flight == 0 and tally.last is not None and started - tally.last >= IDLE_GAP:
                tally.idle_seconds += started - tally.last
                tally.idle_gaps += 1
            self._in_flight += 1
        sent = 0

        async def counting_send(message: Message) -> None:
            nonlocal sent
            if message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self._app(scope, receive, counting_send)
        finally:
            ended = time.monotonic()
            group = route_group(scope["method"], scope["path"])
            user = self._user(scope)
            with self._lock:
                self._arrivals[(user, scope["path"])].append(started)
                self._in_flight -= 1
                counts = self._tally.groups.setdefault(group, GroupTally())
                counts.requests += 1
                counts.seconds += ended - started
                counts.body_bytes += sent
                if self._tally.first is None:
                    self._tally.first = started
                self._tally.last = ended

    def _user(self, scope: Scope) -> str:
        for name, value in scope.get("headers", ()):
            if name == b"coder-session-token":
                return self.users.get(value.decode("latin-1"), "(other token)")
        return "(no token)"

    def endpoints(self) -> dict[tuple[str, str], list[float]]:
        """Arrival times (monotonic seconds) per (user, URL path) since the last reset: what Coder's rate limit
        counts."""
        with self._lock:
            return {key: list(times) for key, times in self._arrivals.items()}

    def snapshot(self) -> Tally:
        with self._lock:
            groups = {k: GroupTally(v.requests, v.seconds, v.body_bytes) for k, v in self._tally.groups.items()}
            t = self._tally
            return Tally(groups, t.first, t.last, t.idle_seconds, t.idle_gaps)

    def reset(self) -> None:
        with self._lock:
            self._tally = Tally()
            self._arrivals = defaultdict(list)


@dataclass
class CountedServer:
    """A running reference server (``server``) and the counter in front of it (``counter``)."""

    server: ReferenceServer
    counter: CountingApp

    @property
    def url(self) -> str:
        return self.server.url

    def tokens(self) -> dict[str, str]:
        """The suite's environment for this server's two members (never printed: see ``bench_run.redact``)."""
        users = self.server.seed.users
        return {"CODER_SESSION_TOKEN": users["alice"].token, "CODER_SECOND_SESSION_TOKEN": users["bob"].token}

    def suite_args(self, *, paced: bool = False) -> list[str]:
        """Command-line options aiming the suite at this server (the tokens go in the environment); ``paced``
        keeps the suite's own pacing for a deployment instead of lifting it."""
        versions = self.server.seed.template_versions
        args = [
            "--base-url",
            self.url,
            "--template-version-id",
            versions["ai_task"],
            "--non-task-template-version-id",
            versions["no_ai_task"],
        ]
        return args if paced else [*args, "--rate-limit", UNLIMITED_RATE]


@contextmanager
def counted_server(
    *,
    preexisting_tasks: int = 0,
    factory: Callable[[World], ASGIApp] | None = None,
    speed: str = "fast",
    coder_version: str | None = None,
) -> Iterator[CountedServer]:
    """Start the reference server (or the variant ``factory`` builds) behind a :class:`CountingApp`; stop it after."""
    holder: list[CountingApp] = []

    def build(world: World) -> ASGIApp:
        counter = CountingApp((factory or create_app)(world))
        holder.append(counter)
        return counter

    server = start_reference_server(
        speed=speed,
        app_factory=build,
        preexisting_tasks=preexisting_tasks,
        coder_version=coder_version or levels.DEFAULT.name,
    )
    holder[0].users = {user.token: name for name, user in server.seed.users.items()}
    try:
        yield CountedServer(server, holder[0])
    finally:
        server.stop()
