"""What Coder does to every request before routing (ROUTE-5, ROUTE-11, ROUTE-12, CSRF-1, RATE-1, AUTH-15): collapse
double slashes, set the build-version and nosniff headers, recover from crashes with Coder's 500 body, CSRF for
cookie-authenticated writes, the optional per-endpoint rate limit, and the API key check on the authenticated route
groups.

Pure ASGI (no BaseHTTPMiddleware) so the exact status, headers and bytes of each refusal are under control.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coder_tasks_contract.server.domain.auth import (
    ACCESS_TOKEN_QUERY,
    NO_TOKEN_DETAIL,
    SESSION_COOKIE,
    SESSION_HEADER,
    SESSION_QUERY,
    SIGNED_OUT,
    AuthFailure,
    RequestCredentials,
    cookie_value,
    csrf_refusal,
    extract_token,
    first,
    www_authenticate,
)
from coder_tasks_contract.server.domain.errors import CoderError
from coder_tasks_contract.server.domain.world import World
from coder_tasks_contract.server.golang.gofmt import go_json, go_parse_query, query_values, routing_path

log = logging.getLogger("coder_tasks_contract.server")

JSON_TYPE = "application/json; charset=utf-8"
USER_SCOPE_KEY = "coder.user"
# chi's method set: a method outside it gets 405 with no Allow header at all, from the root router (ROUTE-13).
KNOWN_METHODS = frozenset({"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"})
TASKS_PREFIX = "/api/experimental/tasks"


def authenticated_groups(prefixes: Sequence[str]) -> re.Pattern[str]:
    """Route groups whose API key middleware runs before their routes are matched: without a valid token, even an
    unknown path or a wrong method under them answers 401 (chi runs a group's middleware before its routing).
    The task mounts are the level's (``/api/v2/tasks`` from v2.29 on, ROUTE-1)."""
    mounts = "|".join(re.escape(prefix) for prefix in prefixes)
    # The routes the fake serves around the task mounts (app.OTHER_ROUTES) are each behind the API key in Coder.
    groups = (
        "/api/v2/users(/.+)?|/api/v2/workspaces/.+|/api/v2/organizations(/.+)?|/api/v2/templates(/.+)?"
        "|/api/v2/templateversions/.+|/api/v2/workspacebuilds/.+"
    )
    return re.compile(rf"^({mounts}|{groups})$|^({mounts})/")


_AUTHENTICATED = authenticated_groups([TASKS_PREFIX])
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})  # strconv.ParseBool


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON body written like Coder's ``httpapi.Write``."""
    return Response(go_json(body), status_code=status, headers=headers, media_type=JSON_TYPE)


def error_response(status: int, error: CoderError, headers: dict[str, str] | None = None) -> Response:
    return json_response(status, error.body(), headers)


def text_error(status: int, text: str) -> Response:
    """Go's ``http.Error``: plain text with a trailing newline."""
    return Response((text + "\n").encode(), status_code=status, media_type="text/plain; charset=utf-8")


def collapse_slashes(path: str) -> str:
    return re.sub("/{2,}", "/", path)


def credentials(scope: Scope) -> RequestCredentials:
    headers = Headers(scope=scope)
    query = go_parse_query(scope.get("query_string", b""))
    return RequestCredentials(
        cookie=cookie_value(headers.getlist("cookie"), SESSION_COOKIE),
        query_token=first(query_values(query, SESSION_QUERY)),
        header_token=headers.get(SESSION_HEADER),
        authorization=headers.get("authorization"),
        access_token=first(query_values(query, ACCESS_TOKEN_QUERY)),
    )


class RateLimiter:
    """httprate-style limit: ``limit`` requests per minute per client IP and path, fixed one-minute windows."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._counts: dict[tuple[str, str, int], int] = {}
        self._lock = threading.Lock()

    def check(self, client: str, path: str, now: datetime) -> Response | None:
        """None if the request may pass, else the 429 response."""
        window = int(now.timestamp()) // 60
        with self._lock:
            key = (client, path, window)
            count = self._counts.get(key, 0) + 1
            self._counts = {k: v for k, v in self._counts.items() if k[2] >= window}
            self._counts[key] = count
        reset = (window + 1) * 60
        headers = {
            "X-Ratelimit-Limit": str(self.limit),
            "X-Ratelimit-Remaining": str(max(self.limit - count, 0)),
            "X-Ratelimit-Reset": str(reset),
        }
        if count <= self.limit:
            return None
        headers["Retry-After"] = str(max(reset - int(now.timestamp()), 1))
        message = f"You've been rate limited for sending more than {self.limit} requests in 1m0s."
        return json_response(429, {"message": message}, headers)


class CoderMiddleware:
    """Everything before routing, in Coder's order: headers and recovery, CSRF, rate limit, API key."""

    def __init__(self, app: ASGIApp, world: World) -> None:
        self.app = app
        self.world = world
        self.limiter = RateLimiter(world.rate_limit) if world.rate_limit else None
        self.authenticated = authenticated_groups(world.level.prefixes)
        self.build_version = world.level.build_version.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = collapse_slashes(routing_path(scope["path"], scope.get("raw_path")))
        scope = dict(scope, path=path)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-content-type-options"]
                headers.append((b"x-coder-build-version", self.build_version))
                headers.append((b"x-content-type-options", b"nosniff"))
                message = dict(message, headers=headers)
            await send(message)

        try:
            refusal = self._before_routing(scope)
            if refusal is not None:
                await refusal(scope, receive, send_with_headers)
                return
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Coder's recover middleware: log the panic, answer 500 with a fixed body.
            log.exception("reference server crashed on %s %s", scope.get("method"), path)
            if not started:
                response = json_response(500, {"message": "An internal server error occurred."})
                await response(scope, receive, send_with_headers)

    def _before_routing(self, scope: Scope) -> Response | None:
        creds = credentials(scope)
        csrf = csrf_refusal(scope["method"], creds)
        if csrf is not None:
            return text_error(400, csrf)
        if scope["method"] not in KNOWN_METHODS:
            # chi's root router answers a method it does not know before any route group (rate limit, API key)
            # or route is looked at: 405, no body, no Allow (ROUTE-13).
            return Response(status_code=405)
        path: str = scope["path"]
        if self.limiter is not None and path.startswith("/api/") and not self._bypasses_limit(scope, creds):
            client = scope.get("client") or ("", 0)
            limited = self.limiter.check(client[0], path, self.world.now())
            if limited is not None:
                return limited
        if self.authenticated.match(path):
            try:
                token = extract_token(creds)
                if token is None:
                    raise AuthFailure(NO_TOKEN_DETAIL)
                scope[USER_SCOPE_KEY] = self.world.authenticate(token)
            except AuthFailure as failure:
                headers = {"WWW-Authenticate": www_authenticate(self.world.access_url, expired=failure.expired)}
                return json_response(401, {"message": SIGNED_OUT, "detail": failure.detail}, headers)
        return None

    def _bypasses_limit(self, scope: Scope, creds: RequestCredentials) -> bool:
        """An Owner may skip the limit with ``X-Coder-Bypass-Ratelimit: true`` (RATE-3)."""
        if Headers(scope=scope).get("x-coder-bypass-ratelimit", "") not in _TRUE:
            return False
        token = extract_token(creds)
        if token is None:
            return False
        try:
            return self.world.authenticate(token).is_owner
        except AuthFailure:
            return False
