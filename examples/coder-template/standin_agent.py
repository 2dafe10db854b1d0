#!/usr/bin/env python3
"""A stand-in AI agent that speaks AgentAPI's HTTP interface and answers without a model (no tokens spent).

It serves the three endpoints Coder's task API calls (coderd/aitasks.go: ``taskSend`` reads ``GET /status`` and
then ``POST /message``; ``taskLogs`` reads ``GET /messages``), with coder/agentapi's JSON shapes
(lib/httpapi/models.go, server.go, events.go; lib/screentracker/conversation.go, pty_conversation.go):

- ``GET /status`` -> ``{"status": "running"|"stable", "agent_type": "custom", "transport": "pty"}``.
- ``GET /messages`` -> ``{"messages": [{"id", "content", "role": "user"|"agent", "time"}]}``; ids count from 0 in
  conversation order, and message 0 is the agent's first screen (AgentAPI starts every conversation with it).
- ``POST /message`` with ``{"content": str, "type": "user"|"raw"}`` -> ``{"ok": true}``. A ``user`` message is
  trimmed of surrounding whitespace and recorded; the agent is then ``running`` for ``--busy`` seconds, after which
  its reply (``Done. I worked on your request: <input>``) appears and the status is ``stable`` again. While the
  agent is not ``stable``, or when the trimmed content is empty, AgentAPI answers 500 with a problem+json body
  (huma v2: ``detail`` "unexpected error occurred", the cause in ``errors[0].message``); so does this. ``raw``
  messages are keystrokes: answered ``ok`` and not recorded. A body that is not such an object answers 422.

``--initial-prompt`` is sent as the first user message at start (AgentAPI's ``--initial-prompt``).
``--state-file`` keeps the conversation across restarts (a paused and resumed task keeps its logs); a conversation
loaded from it is not prompted again. Not modelled: ``/events``, ``/upload``, the chat UI, in-place updates of the
agent's message while it works (the reply appears whole when the agent turns stable), huma's ``$schema`` links.

Read at: coder/agentapi 00ff7ffdc4badcf68b3903dd799cf6e2d4370d86 (default port 3284: cmd/server/server.go);
huma v2.32.0 (huma.go, error.go); coder/coder 0163b86649dec4482007f63c038d0221aef4a54a (coderd/aitasks.go).
Python 3.10+, standard library only: ``python3 standin_agent.py --port 3284``.
"""

from __future__ import annotations

import argparse
import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

GREETING = "Stand-in agent ready. It answers without a model."
WHITESPACE = " \t\n\r\f\v"  # agentapi lib/msgfmt.WhiteSpaceChars
NOT_STABLE = "message can only be sent when the agent is waiting for user input"
EMPTY = "message must not be empty"


def agent_reply(text: str) -> str:
    """The reply: deterministic, quoting the input (the reference server's fake agent answers the same)."""
    summary = " ".join(text.split())
    if len(summary) > 200:
        summary = summary[:197] + "..."
    return f"Done. I worked on your request: {summary}"


def go_time(moment: datetime) -> str:
    """``time.Time`` as Go's encoding/json writes it (RFC 3339 with nanoseconds, trailing zeros dropped)."""
    text = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "Z"


class Conversation:
    """The messages and the busy flag. A reply is stored with the instant it appears and shown from then on."""

    def __init__(self, busy: timedelta, state_file: Path | None) -> None:
        self.busy = busy
        self.state_file = state_file
        self.lock = threading.Lock()
        self.busy_until = datetime.now(timezone.utc)
        self.messages: list[tuple[str, str, datetime]] = []  # (role, content, time); the id is the index
        if state_file is not None and state_file.exists():
            saved = json.loads(state_file.read_text(encoding="utf-8"))
            self.messages = [(role, content, datetime.fromisoformat(at)) for role, content, at in saved]
        else:
            self.messages.append(("agent", GREETING, self.busy_until))

    @property
    def restored(self) -> bool:
        """Whether the conversation went past the greeting (then the initial prompt was sent before)."""
        return len(self.messages) > 1

    def status(self) -> str:
        with self.lock:
            return "running" if datetime.now(timezone.utc) < self.busy_until else "stable"

    def visible(self) -> list[dict[str, Any]]:
        """``GET /messages``: the conversation as it stands now."""
        with self.lock:
            now = datetime.now(timezone.utc)
            shown = [(i, m) for i, m in enumerate(self.messages) if m[2] <= now]
        return [{"id": i, "content": content, "role": role, "time": go_time(at)} for i, (role, content, at) in shown]

    def send(self, content: str) -> str | None:
        """Record a user message and schedule the reply; the refusal's cause when AgentAPI would refuse it."""
        message = content.strip(WHITESPACE)
        with self.lock:
            now = datetime.now(timezone.utc)
            if message == "":
                return EMPTY
            if now < self.busy_until:
                return NOT_STABLE
            self.busy_until = now + self.busy
            self.messages += [("user", message, now), ("agent", agent_reply(message), self.busy_until)]
            if self.state_file is not None:
                saved = [(role, text, at.isoformat()) for role, text, at in self.messages]
                self.state_file.write_text(json.dumps(saved), encoding="utf-8")
        return None


class Handler(BaseHTTPRequestHandler):
    """AgentAPI's routes over one :class:`Conversation` (set on the server)."""

    server: AgentServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _answer(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _problem(self, status: int, title: str, detail: str, cause: str) -> None:
        """An RFC 9457 problem as huma v2 writes it."""
        body = {"title": title, "status": status, "detail": detail, "errors": [{"message": cause}]}
        self._answer(status, body, "application/problem+json")

    def _not_found(self) -> None:
        data = b"404 page not found\n"  # chi's default NotFound answer
        self.send_response(404)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        conversation = self.server.conversation
        path = self.path.split("?", 1)[0]
        if path == "/status":
            self._answer(200, {"status": conversation.status(), "agent_type": "custom", "transport": "pty"})
        elif path == "/messages":
            self._answer(200, {"messages": conversation.visible()})
        else:
            self._not_found()

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != "/message":
            self._not_found()
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            body = None
        if not (
            isinstance(body, dict) and isinstance(body.get("content"), str) and body.get("type") in ("user", "raw")
        ):
            cause = 'expected an object with "content" (string) and "type" ("user" or "raw")'
            self._problem(422, "Unprocessable Entity", "validation failed", cause)
            return
        refusal = self.server.conversation.send(body["content"]) if body["type"] == "user" else None
        if refusal is not None:
            cause = f"failed to send message: {refusal}"
            self._problem(500, "Internal Server Error", "unexpected error occurred", cause)
            return
        self._answer(200, {"ok": True})


class AgentServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], conversation: Conversation, verbose: bool) -> None:
        super().__init__(address, Handler)
        self.conversation = conversation
        self.verbose = verbose


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=3284, help="port (default: 3284, AgentAPI's)")
    parser.add_argument("--busy", type=float, default=2.0, help="seconds the agent works on each user message")
    parser.add_argument("--initial-prompt", default="", help="first user message, sent at start")
    parser.add_argument("--state-file", type=Path, help="keep the conversation in this JSON file across restarts")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = parser.parse_args(argv)
    conversation = Conversation(timedelta(seconds=args.busy), args.state_file)
    if args.initial_prompt.strip(WHITESPACE) and not conversation.restored:
        conversation.send(args.initial_prompt)
    server = AgentServer((args.host, args.port), conversation, args.verbose)
    print(f"standin_agent: listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
