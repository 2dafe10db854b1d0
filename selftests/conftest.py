"""Fixtures of the project's own tests: throw-away projects, loopback servers, reference servers."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from coder_tasks_contract.server.domain.clock import ManualClock
from coder_tasks_contract.server.domain.seed import SeedInfo, seed_world
from coder_tasks_contract.server.domain.world import World

from .support import HOSTILE, Handler, LoopbackServer, Run, run_pytest, target_args, use_reports_root


@pytest.fixture(scope="session", autouse=True)
def _subprocess_reports_root(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The reports folders of the suite runs self-tests start go under pytest's temp tree, never the system's."""
    use_reports_root(tmp_path_factory.mktemp("subprocess-reports"))


@pytest.fixture
def mini_suite(tmp_path: Path) -> Callable[..., Path]:
    """A throw-away project that loads the plugin and holds one test file with the given source."""

    def make(source: str, name: str = "test_mini.py") -> Path:
        (tmp_path / "conftest.py").write_text('pytest_plugins = ["coder_tasks_contract.plugin.hooks"]\n')
        (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
        (tmp_path / name).write_text(textwrap.dedent(source))
        return tmp_path

    return make


@pytest.fixture
def loopback_server() -> Iterator[Callable[[Handler], LoopbackServer]]:
    """Factory of loopback servers answering every request with a handler; stopped after the test."""
    started: list[LoopbackServer] = []

    def start(handler: Handler) -> LoopbackServer:
        server = LoopbackServer(handler)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def hostile_server(loopback_server: Callable[[Handler], LoopbackServer]) -> Callable[[str], LoopbackServer]:
    """Factory of misbehaving loopback servers by kind (see ``support.HOSTILE``)."""
    return lambda kind: loopback_server(HOSTILE[kind])


@pytest.fixture
def reference_server_factory() -> Iterator[Callable[..., Any]]:
    """Starts reference servers (``start_reference_server(**kwargs)``) and stops them after the test."""
    runner = pytest.importorskip("coder_tasks_contract.server.runner", reason="the reference server is not there yet")
    started: list[Any] = []

    def start(**kwargs: Any) -> Any:
        server = runner.start_reference_server(**kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def reference_server(reference_server_factory: Callable[..., Any]) -> Any:
    """A fresh reference server (fast speed) for one test."""
    return reference_server_factory(speed="fast")


@dataclass
class FullRun:
    """One run of the whole real suite against an explicit reference server (see :func:`full_suite_run`)."""

    run: Run
    server: Any
    reports_dir: Path
    preexisting: dict[str, tuple[str, str, Any]]
    sentinels: tuple[str, ...]


class BreakLogs:
    """A fault: GET .../logs answers 500, so some real tests fail and pytest prints their tracebacks and locals."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].endswith("/logs"):
            body = b'{"message":"Internal error (selftest fault)."}'
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


@pytest.fixture(scope="session")
def full_suite_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FullRun]:
    """The real ``tests/`` run once, whole, as a user would against a deployment: explicit URL and tokens, with
    ``-l``, ``--setup-show``, ``-rA``, JUnit and HTML reports; the server holds 5 tasks of user A that no run
    created, and its logs endpoint fails so tracebacks (with locals) are printed too."""
    runner = pytest.importorskip("coder_tasks_contract.server.runner")
    from coder_tasks_contract.server.api.app import create_app

    server = runner.start_reference_server(preexisting_tasks=5, app_factory=lambda world: BreakLogs(create_app(world)))
    reports = tmp_path_factory.mktemp("reports")
    with server.world.lock:
        preexisting = {t.id: (t.name, t.prompt, t.deleted_at) for t in server.world.tasks.values()}
    try:
        run = run_pytest(
            "tests",
            *target_args(server),
            # Fast enough for a selftest: the logs fault makes some tests poll until the lifecycle timeout.
            "--lifecycle-timeout",
            "15",
            "--rate-limit",
            "6000",
            "-l",
            "--setup-show",
            "-rA",
            "--tb=long",
            f"--reports-dir={reports}",
            f"--junitxml={reports / 'junit.xml'}",
            f"--html={reports / 'report.html'}",
            "--self-contained-html",
            timeout=900,
        )
        (reports / "stdout.txt").write_text(run.stdout)
        (reports / "stderr.txt").write_text(run.stderr)
        tokens = tuple(user.token for user in (server.seed.users["alice"], server.seed.users["bob"]))
        yield FullRun(run, server, reports, preexisting, tokens)
    finally:
        server.stop()


# --- The reference server's domain model without HTTP (test_server_model_*.py) ---------------------------------


@pytest.fixture
def clock() -> ManualClock:
    """A clock the model tests move by hand."""
    return ManualClock()


@pytest.fixture
def world(clock: ManualClock) -> World:
    """A fresh reference-server world at the fast speed, on the manual clock."""
    return World(clock, speed="fast")


@pytest.fixture
def seed(world: World) -> SeedInfo:
    """The seeded users, organization and template versions of ``world``."""
    return seed_world(world, "http://127.0.0.1:1")
