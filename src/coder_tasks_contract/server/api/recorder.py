"""A record of what a client sent the fake Coder and what it answered: one JSON object per request (method, path,
query, status, duration, body excerpts, which token transport was used), kept in memory for the embedded server
(``ReferenceServer.requests``) and, if asked, appended to a JSON-lines file (``coder-tasks-fake --record FILE``).

Secrets never reach the record: anything shaped like a Coder session token (``<10 chars>-<22 chars>``) is replaced by
``[REDACTED]`` in the path, query and bodies, and headers are not recorded, only which token transports were used.
"""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coder_tasks_contract.server.domain.auth import ACCESS_TOKEN_QUERY, SESSION_COOKIE, SESSION_HEADER, SESSION_QUERY
from coder_tasks_contract.server.golang.gofmt import rfc3339

EXCERPT = 2000  # characters of each body kept
REDACTED = "[REDACTED]"
# A Coder API key: 10-character id, dash, 22-character secret (what World.issue_token makes and Coder issues).
_TOKEN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{10}-[A-Za-z0-9]{22}(?![A-Za-z0-9])")


def redact(text: str) -> str:
    return _TOKEN.sub(REDACTED, text)


def excerpt(body: bytes) -> str:
    text = body[: EXCERPT * 4].decode("utf-8", "replace")
    text = redact(text)
    return text if len(text) <= EXCERPT else text[:EXCERPT] + "..."


def token_transports(scope: Scope) -> list[str]:
    """Which ways of sending a token the request used (Coder accepts several, AUTH-1): names, never values."""
    headers = Headers(scope=scope)
    query = scope.get("query_string", b"").decode("latin-1")
    used = []
    if headers.get(SESSION_HEADER):
        used.append("header")
    if headers.get("authorization", "").lower().startswith("bearer "):
        used.append("bearer")
    if f"{SESSION_COOKIE}=" in headers.get("cookie", ""):
        used.append("cookie")
    if re.search(rf"(^|&){SESSION_QUERY}=", query):
        used.append("query")
    if re.search(rf"(^|&){ACCESS_TOKEN_QUERY}=", query):
        used.append("access_token")
    return used


class RequestLog:
    """Thread-safe list of request records, optionally mirrored to a JSON-lines file (appended, flushed per line)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self._records: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._file = open(path, "a", encoding="utf-8") if path is not None else None  # noqa: SIM115 (closed in close())

    def add(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._records.append(record)
            if self._file is not None:
                self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
                self._file.flush()

    @property
    def records(self) -> list[dict[str, Any]]:
        """A copy of every record so far, oldest first."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


class RecordingMiddleware:
    """Outermost ASGI layer: sees every request and the answer the client got (401s and strict refusals too)."""

    def __init__(self, app: ASGIApp, log: RequestLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        at = datetime.now(timezone.utc)
        request_body = bytearray()
        response_body = bytearray()
        status = 0

        async def receive_and_keep() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                request_body.extend(message.get("body", b""))
            return message

        recorded = False

        def record() -> None:
            nonlocal recorded
            recorded = True
            self.log.add(
                {
                    "time": rfc3339(at),
                    "method": scope["method"],
                    "path": redact(scope["path"]),
                    "query": redact(scope.get("query_string", b"").decode("latin-1")),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    "token_via": token_transports(scope),
                    "request_body": excerpt(bytes(request_body)),
                    "response_body": excerpt(bytes(response_body)),
                }
            )

        start: Message | None = None

        async def send_and_keep(message: Message) -> None:
            nonlocal status, start
            if message["type"] == "http.response.start":
                # Held until the first body part: the server writes the headers at once, and a client reads an
                # empty answer (Content-Length: 0, e.g. a 202 DELETE) as complete from them alone.
                status, start = message["status"], message
                return
            if message["type"] == "http.response.body":
                response_body.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    # Recorded before the last byte leaves, so a client that got its answer finds it in the record.
                    record()
            if start is not None:
                await send(start)
                start = None
            await send(message)

        try:
            await self.app(scope, receive_and_keep, send_and_keep)
        finally:
            if not recorded:  # the app failed before finishing its answer
                record()
