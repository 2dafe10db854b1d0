"""Fixtures of the project's own tests: throw-away projects, loopback servers, reference servers."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .support import HOSTILE, Handler, LoopbackServer


@pytest.fixture
def mini_suite(tmp_path: Path) -> Callable[..., Path]:
    """A throw-away project that loads the plugin and holds one test file with the given source."""

    def make(source: str, name: str = "test_mini.py") -> Path:
        (tmp_path / "conftest.py").write_text('pytest_plugins = ["coder_tasks_contract.plugin"]\n')
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
