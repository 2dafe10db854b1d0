"""Serve the reference server with uvicorn on a real loopback socket, in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from coder_tasks_contract.server.api.app import create_app
from coder_tasks_contract.server.api.control import Control, ControlMiddleware, ShiftableClock
from coder_tasks_contract.server.api.recorder import RecordingMiddleware, RequestLog
from coder_tasks_contract.server.api.strict import StrictMiddleware
from coder_tasks_contract.server.domain.clock import Clock
from coder_tasks_contract.server.domain.seed import SeedInfo, SeedUser, seed_world
from coder_tasks_contract.server.domain.world import World

__all__ = ["ReferenceServer", "SeedInfo", "SeedUser", "start_reference_server"]

STARTUP_TIMEOUT = 10.0


class ReferenceServer:
    """A running reference server: ``url``, ``seed``, ``world``; ``stop()`` (or use it as a context manager).
    Started with ``record``, ``requests`` is what clients sent and got (``recorder``)."""

    def __init__(
        self,
        server: uvicorn.Server,
        thread: threading.Thread,
        url: str,
        seed: SeedInfo,
        world: World,
        log: RequestLog | None = None,
        control: Control | None = None,
    ):
        self._server = server
        self._thread = thread
        self.url = url
        self.seed = seed
        self.world = world
        self._log = log
        self._control = control

    @property
    def control(self) -> Control:
        """The control surface (``control``): put a task into any state, inject faults, advance the clock."""
        if self._control is None:
            raise RuntimeError("the control surface exists only on a server started with control=True")
        return self._control

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request so far, oldest first: method, path, query, status, duration_ms, token_via, body excerpts."""
        if self._log is None:
            raise RuntimeError("requests are recorded only by a server started with record=True (or a file)")
        return self._log.records

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._log is not None:
            self._log.close()

    def __enter__(self) -> ReferenceServer:
        return self

    def __exit__(
        self, _exc_type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"ReferenceServer(url={self.url!r})"


def _bind(host: str, port: int) -> socket.socket:
    """Bind the listening socket ourselves so a bad host or a busy port fails here, with a clear error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit this. Without it every response waits ~40 ms for Nagle + delayed ACK
    # (uvicorn writes headers and body separately).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def start_reference_server(
    *,
    speed: str = "fast",
    host: str = "127.0.0.1",
    port: int = 0,
    app_factory: Callable[[World], ASGIApp] | None = None,
    preexisting_tasks: int = 0,
    rate_limit: int | None = None,
    clock: Clock | None = None,
    coder_version: str = "82f",
    record: bool | str | Path = False,
    strict: bool = False,
    control: bool = False,
) -> ReferenceServer:
    """Start a freshly seeded reference server and return once it accepts connections.

    ``app_factory`` builds the ASGI app from the world (default ``create_app``); fault variants wrap it.
    ``rate_limit`` turns on Coder's per-endpoint limit (RATE-1); ``clock`` replaces wall-clock time (tests pass a
    ``ManualClock`` to step the simulated lifecycle by hand). ``coder_version`` is the contract level the server
    emulates (``levels.py``: "82f", "2.29" or "newest"): its routes, fields, statuses and reported version.
    ``record`` keeps a record of every request (``ReferenceServer.requests``); a path also appends it there as JSON
    lines. ``strict`` answers 400 to any request the level does not describe (``strict``). ``control`` mounts the
    control surface at ``/__control/`` and offers it as ``ReferenceServer.control`` (``control``).
    Raises ``OSError`` if the address cannot be bound, ``RuntimeError`` if the server does not start.
    """
    shifted = ShiftableClock(clock) if control and clock is not None else None
    world = World(shifted or clock, speed=speed, rate_limit=rate_limit, level=coder_version)
    if control and shifted is None:
        shifted = ShiftableClock(world.clock)  # the world's own wall clock, made shiftable
        world.clock = shifted
    sock = _bind(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
    url = f"http://{shown_host}:{bound_port}"
    world.access_url = url
    seed = seed_world(world, url, preexisting_tasks=preexisting_tasks)
    app = (app_factory or create_app)(world)
    if strict:
        app = StrictMiddleware(app, world.level)
    controls = None
    if shifted is not None:
        controls = Control(world, shifted)
        app = ControlMiddleware(app, controls)
    log = None
    if record is not False:
        log = RequestLog(None if record is True else record)
        app = RecordingMiddleware(app, log)
    config = uvicorn.Config(app, log_level="warning", access_log=False, server_header=False, lifespan="off")
    server = uvicorn.Server(config)
    # uvicorn installs signal handlers only in the main thread; in a background thread it must not try.
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"reference-server-{bound_port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"reference server did not start on {url}")
        time.sleep(0.01)
    return ReferenceServer(server, thread, url, seed, world, log, controls)
