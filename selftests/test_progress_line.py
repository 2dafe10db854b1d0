"""A long lifecycle wait prints a progress line on the terminal (issue 18): which task, which state, how long so
far; never a token, never in the test's captured output or JUnit; silenced by ``-qq``.

The slow wait is real: a reference server at ``--speed realistic`` (create to active in 10 s) is the deployment,
and a throw-away test creates a task on it and waits for it through the suite's own ``polling`` module."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from coder_tasks_contract.plugin import progress
from coder_tasks_contract.transport import polling

from .support import run_pytest, target_args

SLOW_WAIT = """
from coder_tasks_contract.transport import paths, polling


def test_waits_for_a_slow_build(client_a, target):
    response = client_a.post(
        paths.task_path("me"), json={"template_version_id": target.template_version_id, "input": "progress"}
    )
    assert response.status_code == 201, response.text
    print("captured by pytest")
    task = polling.wait_for_status(client_a, response.json(), {"active"}, 30)
    assert task["status"] == "active"
"""


@pytest.fixture(autouse=True)
def _no_progress_sink() -> Iterator[None]:
    yield
    polling.report_progress_to(None)
    polling.pace_polls_by(None)


def test_a_slow_wait_shows_progress_on_stderr_and_nowhere_else(
    mini_suite: Callable[..., Path], reference_server_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = reference_server_factory(speed="realistic")
    project = mini_suite(SLOW_WAIT)
    junit = tmp_path / "junit.xml"
    run = run_pytest(*target_args(server), "-q", "-rA", f"--junitxml={junit}", str(project), cwd=project)
    assert run.ret == 0, run.output[-3000:]
    lines = [line for line in run.stderr.splitlines() if line.startswith(progress.PREFIX)]
    assert lines, run.output[-3000:]
    # 5 s into the 10 s build: the task by its name, what is awaited, the state it is in and for how long.
    assert re.fullmatch(
        rf"{progress.PREFIX}task \S+: waiting for status active, [5-9]s of 30s so far; "
        r"now status '(pending|initializing)' \(workspace '\w+'\) for \d+s",
        lines[0],
    ), lines
    tokens = [user.token for user in server.seed.users.values()]
    assert not any(token in run.output for token in tokens)
    report = junit.read_text(encoding="utf-8")
    assert "captured by pytest" in run.stdout  # -rA shows the test's captured output: the line is not in it
    assert progress.PREFIX not in report
    assert progress.PREFIX not in run.stdout


def test_minus_qq_silences_the_progress_lines() -> None:
    config = SimpleNamespace(get_verbosity=lambda: -2, add_cleanup=lambda stop: None)
    state = SimpleNamespace(rate_limit=lambda embedded: None, settings=SimpleNamespace(base_url=None), worker=None)
    polling.report_progress_to(print)
    progress.configure(config, state)  # type: ignore[arg-type]
    assert polling._progress is None


def test_the_polls_are_paced_by_the_run_s_rate_limit_on_a_deployment() -> None:
    """A deployment's default pace (400 a minute per route) reaches the polls; the embedded server sets none."""
    cleanups: list[Callable[[], None]] = []
    config = SimpleNamespace(get_verbosity=lambda: 0, add_cleanup=cleanups.append, pluginmanager=None)
    deployment = SimpleNamespace(
        rate_limit=lambda embedded: None if embedded else 400,
        settings=SimpleNamespace(base_url="https://coder.example"),
        worker="gw1",
    )
    progress.configure(config, deployment)  # type: ignore[arg-type]
    assert polling._per_minute == 400
    assert polling._progress is not None
    for cleanup in cleanups:
        cleanup()
    assert polling._progress is None


def test_a_line_starts_fresh_and_names_the_worker(capfd: pytest.CaptureFixture[str]) -> None:
    class Writer:
        width_of_current_line = 3  # "..." of progress dots on the current line

    plugins = SimpleNamespace(get_plugin=lambda name: SimpleNamespace(_tw=Writer()))
    sink = progress.StderrLines(SimpleNamespace(pluginmanager=plugins), "gw0")  # type: ignore[arg-type]
    sink("task ctc-1: waiting for status active, 5s of 600s so far")
    sink("task ctc-1: waiting for status active, 35s of 600s so far")  # nothing else written in between
    sink.close()
    sink("after close: dropped")
    assert capfd.readouterr().err == (
        f"\n{progress.PREFIX}[gw0] task ctc-1: waiting for status active, 5s of 600s so far\n"
        f"{progress.PREFIX}[gw0] task ctc-1: waiting for status active, 35s of 600s so far\n"
    )
