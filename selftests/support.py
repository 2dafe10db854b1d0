"""Shared helpers of the project's own tests: run pytest in a subprocess; loopback servers; aiming the suite.

Every server here listens on a real 127.0.0.1 socket; nothing is mocked. The hostile servers form a small
catalogue (:data:`HOSTILE`), one handler per way a target can be unusable; each docstring says how.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]


# -- running pytest in a subprocess -----------------------------------------------------------------------------
@dataclass
class Run:
    """Outcome of one subprocess pytest run."""

    ret: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def lines_with(self, needle: str) -> list[str]:
        return [line for line in self.output.splitlines() if needle in line]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment minus anything that would aim the suite elsewhere (CODER_*), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODER_", "PYTEST_"))}
    env.pop("HYPOTHESIS_PROFILE", None)
    env.update(extra)
    return env


# Every run's private reports folder lives in pytest's own temp tree (selftests/conftest.py hands the folder over at
# session start), which pytest prunes with its old runs. A folder of the system's temp dir, removed when this process
# ends, was left behind by every xdist worker: they exit without running the interpreter's exit handlers.
_REPORTS_ROOT: list[Path] = []


def use_reports_root(folder: Path) -> None:
    """Put the reports folders of later :func:`run_pytest` calls under ``folder``."""
    _REPORTS_ROOT[:] = [folder]


def _reports_root() -> Path:
    if not _REPORTS_ROOT:
        raise RuntimeError("run_pytest needs use_reports_root() first (selftests/conftest.py calls it per session)")
    return _REPORTS_ROOT[0]


def run_pytest(*args: str, cwd: Path = REPO_ROOT, env: dict[str, str] | None = None, timeout: float = 240) -> Run:
    """``python -m pytest *args`` in ``cwd`` with a clean environment; never inherits a CODER_* target."""
    env = dict(env if env is not None else clean_env())
    # Reports of a contract run go to a private folder, never into the shared reports/ of the working tree.
    env.setdefault("CODER_TASKS_REPORTS_DIR", tempfile.mkdtemp(prefix="reports-", dir=_reports_root()))
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(completed.returncode, completed.stdout, completed.stderr)


# -- loopback servers -------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def closed_port_url() -> str:
    """A loopback URL nobody listens on (bound, then released)."""
    return f"http://127.0.0.1:{free_port()}"


Handler = Callable[[BaseHTTPRequestHandler], None]


class LoopbackServer:
    """A threaded http.server on 127.0.0.1 whose every request is answered by ``handler``; counts requests."""

    def __init__(self, handler: Handler) -> None:
        outer = self
        self.requests: list[tuple[str, str]] = []

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _any(self) -> None:
                outer.requests.append((self.command, self.path))
                handler(self)

            do_GET = do_POST = do_DELETE = do_PATCH = do_PUT = do_HEAD = do_OPTIONS = _any

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def reply(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes = b"",
    content_type: str = "application/json",
    **headers: str,
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


def _html(handler: BaseHTTPRequestHandler) -> None:
    """Not Coder: an ordinary web server answering HTML to everything (breaks ROUTE-8: no JSON buildinfo)."""
    reply(handler, 200, b"<!doctype html><title>It works</title>", "text/html")


def _hang(handler: BaseHTTPRequestHandler) -> None:
    """Accepts the connection and never answers (a stuck proxy): only --request-timeout ends the wait."""
    time.sleep(30)


def _reset(handler: BaseHTTPRequestHandler) -> None:
    """Closes every connection without an answer (a crashing server or a wrong port behind a load balancer)."""
    handler.close_connection = True
    handler.connection.shutdown(socket.SHUT_RDWR)


def _error_5xx(handler: BaseHTTPRequestHandler) -> None:
    """Answers 503 to everything (a deployment that is down behind its proxy)."""
    reply(handler, 503, b'{"message":"Service Unavailable"}')


HOSTILE: dict[str, Handler] = {"html": _html, "hang": _hang, "reset": _reset, "5xx": _error_5xx}


# -- the reference server ---------------------------------------------------------------------------------------
def target_args(server: Any, *extra: str, url: str | None = None) -> list[str]:
    """Command-line options that aim the suite at ``server`` explicitly (as at a real deployment); ``url`` puts
    another address (e.g. a proxy in front of it) in ``--base-url``."""
    seed = server.seed
    return [
        "--base-url",
        url or seed.url,
        "--session-token",
        seed.users["alice"].token,
        "--second-session-token",
        seed.users["bob"].token,
        "--template-version-id",
        str(seed.template_versions["ai_task"]),
        "--non-task-template-version-id",
        str(seed.template_versions["no_ai_task"]),
        *extra,
    ]


def settings_for(server: Any, **overrides: Any) -> Any:
    """Settings aiming the plumbing at a reference server as at a deployment (explicit URL and tokens)."""
    from coder_tasks_contract.plugin.options import Settings
    from coder_tasks_contract.target.secret import Secret

    seed = server.seed
    values: dict[str, Any] = {
        "base_url": seed.url,
        "session_token": Secret(seed.users["alice"].token),
        "second_session_token": Secret(seed.users["bob"].token),
        "template_version_id": str(seed.template_versions["ai_task"]),
        "non_task_template_version_id": str(seed.template_versions["no_ai_task"]),
        "spec": None,
        "read_only": False,
        "max_tasks": 60,
        "request_timeout": 10.0,
        "lifecycle_timeout": 60.0,
        "rate_limit": None,
        "run_label": None,
        "reports_dir": "reports",
        "coder_version": None,
    }
    values.update(overrides)
    return Settings(**values)


def live_tasks(server: Any, prefix: str = "") -> list[Any]:
    """Tasks the reference server still holds (not deleted) whose name starts with ``prefix``."""
    with server.world.lock:
        return [t for t in server.world.tasks.values() if t.deleted_at is None and t.name.startswith(prefix)]


def all_tasks(server: Any, prefix: str = "") -> list[Any]:
    """Every task the reference server ever held (deleted or not) whose name starts with ``prefix``."""
    with server.world.lock:
        return [t for t in server.world.tasks.values() if t.name.startswith(prefix)]


@contextlib.contextmanager
def fake_command(*args: str) -> Iterator[dict[str, Any]]:
    """``python -m coder_tasks_contract.server --port 0 *args`` as a user starts it: yields the seed JSON it prints
    on its first line, and stops the process afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-m", "coder_tasks_contract.server", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        seed: dict[str, Any] = json.loads(process.stdout.readline())
        yield seed
    finally:
        process.terminate()
        process.wait(timeout=10)
