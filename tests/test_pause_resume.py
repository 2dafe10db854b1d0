"""Pausing and resuming a task, and the log snapshot a paused task answers with: the newest level only (PAUSE-1:
#21889/#21948 pause and resume, at /api/v2 too since #22544; #21771 log snapshots). Skipped at earlier levels,
where these routes do not exist (test_path_resolution checks they answer "Route not found." there)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from coder_tasks_contract.spec.levels import Level
from coder_tasks_contract.spec.vocabulary import ALREADY_RUNNING
from coder_tasks_contract.target.model import Target
from coder_tasks_contract.transport import polling
from coder_tasks_contract.transport.paths import task_path
from coder_tasks_contract.transport.task_pool import PAUSED, TOGGLE, SharedTask, TaskPool
from coder_tasks_contract.transport.task_registry import TaskRegistry

from .support import (
    BUILD_ACTIVE,
    UNCHECKED,
    assert_error,
    assert_not_found,
    assert_status,
    is_integer,
    is_uuid,
    json_body,
    only_at,
    parse_time,
)

PAUSE_RESUME = "pause and resume arrived after v2.31 (#21889, #21948, #22544; PAUSE-1)"
SNAPSHOTS = "logs of a paused task are refused before #21771 (LOGS-3)"
# Fresh tasks the pause-during-build test may use when a fast target finishes a build between its GET and POST.
BUSY_ATTEMPTS = 3
# The pooled tasks the pause-and-resume test toggles side by side, one per mount in turn.
TOGGLED = (TOGGLE, PAUSED)


def _assert_build(response: httpx.Response, task: dict[str, Any], transition: str, prefix: str) -> dict[str, Any]:
    """202 ``{"workspace_build": WorkspaceBuild}`` with a build of ``transition`` on the task's workspace, newer than
    the build the task last showed (``prefix``: the mount the request went through, named in a failure)."""
    where = f"{transition} through {prefix}"
    assert_status(response, 202, where)
    body = json_body(response)
    build = body.get("workspace_build") if isinstance(body, dict) else None
    assert isinstance(build, dict), f"{where}: expected {{'workspace_build': {{...}}}}: {body!r}"
    assert is_uuid(build.get("id")), (where, build.get("id"))
    assert build.get("transition") == transition, (where, build.get("transition"))
    assert build.get("workspace_id") == task["workspace_id"], (where, build.get("workspace_id"))
    number = build.get("build_number")
    assert is_integer(number), (where, number)
    assert number > int(task.get("workspace_build_number") or 0), (where, number, task.get("workspace_build_number"))
    return build


@pytest.mark.operation("pauseTask", 202)
@pytest.mark.operation("resumeTask", 202)
@pytest.mark.operation("getTaskLogs", 200)
@pytest.mark.writes
@pytest.mark.needs_template
@pytest.mark.pooled(*TOGGLED)
def test_pause_and_resume_answer_202_with_their_builds(
    client_a: httpx.Client, target: Target, level: Level, task_pool: TaskPool
) -> None:
    """PAUSE-1, PAUSE-2 (#21889, #21948): POST .../pause on an active task answers 202 with the queued ``stop`` build
    and the task becomes paused, its logs then being the stored snapshot (#21771); POST .../resume on a paused task
    answers 202 with a ``start`` build and the task becomes active again.

    Through each mount (ROUTE-1), each on its own pooled task and side by side (on a deployment each pair of builds
    takes about a minute): the task whose takers pause and resume it, and the paused one. Each is toggled in the
    order its state allows (an active task paused then resumed, a paused one resumed then paused), so it is left
    as it was found."""
    only_at(level, level.pause_resume, PAUSE_RESUME)
    plan: dict[str, list[str]] = {}
    for index, prefix in enumerate(level.prefixes):
        plan.setdefault(TOGGLED[index % len(TOGGLED)], []).append(prefix)
    tasks = {state: task_pool.at_rest(state).task for state in plan}  # the pool is not shared with the threads
    with ThreadPoolExecutor(max_workers=len(plan)) as executor:
        runs = [
            executor.submit(_toggle_through, client_a, tasks[state], prefixes, target.lifecycle_timeout)
            for state, prefixes in plan.items()
        ]
    for run in runs:
        run.result()  # the first failure, with its mount, once both have ended


def _toggle_through(client: httpx.Client, task: dict[str, Any], prefixes: list[str], timeout: float) -> None:
    """Pause and resume ``task`` through each of ``prefixes`` in turn, in the order its state allows."""
    for prefix in prefixes:
        if task.get("status") == "paused":
            task = _resume(client, task, prefix, timeout)
            task = _pause(client, task, prefix, timeout)
        else:
            task = _pause(client, task, prefix, timeout)
            task = _resume(client, task, prefix, timeout)


def _pause(client: httpx.Client, task: dict[str, Any], prefix: str, timeout: float) -> dict[str, Any]:
    """Pause through ``prefix``: 202 with a stop build, then paused, with the stored snapshot as its logs."""
    _assert_build(client.post(task_path("me", task["id"], "/pause", prefix=prefix)), task, "stop", prefix)
    task = polling.wait_for_status(client, task, {"paused"}, timeout)
    logs = json_body(client.get(task_path("me", task["id"], "/logs", prefix=prefix)))
    assert logs.get("snapshot") is True, (prefix, logs)
    return task


def _resume(client: httpx.Client, task: dict[str, Any], prefix: str, timeout: float) -> dict[str, Any]:
    """Resume through ``prefix``: 202 with a start build, then active."""
    _assert_build(client.post(task_path("me", task["id"], "/resume", prefix=prefix)), task, "start", prefix)
    return polling.wait_for_status(client, task, {"active"}, timeout)


@pytest.mark.operation("resumeTask", 409)
@pytest.mark.writes
def test_resume_of_a_running_task_answers_409(
    client_a: httpx.Client, active_task: SharedTask, level: Level, prefix: str
) -> None:
    """PAUSE-3 (#21948): resume on a task whose workspace runs answers 409 "Task workspace is already running." and
    starts nothing (the task stays active)."""
    only_at(level, level.pause_resume, PAUSE_RESUME)
    response = client_a.post(task_path("me", active_task.id, "/resume", prefix=prefix))
    assert_error(response, 409, ALREADY_RUNNING, UNCHECKED)
    assert json_body(client_a.get(task_path("me", active_task.id)))["status"] == "active"


@pytest.mark.operation("pauseTask", 409)
@pytest.mark.writes
@pytest.mark.needs_template
@pytest.mark.first_build
def test_pause_while_the_first_build_runs_answers_409(
    client_a: httpx.Client, level: Level, task_pool: TaskPool
) -> None:
    """PAUSE-4 (#21889; the 409 is inferred from the workspace build rules, DELETE-2): pause while the task's first
    build is queued or running answers 409 "A workspace build is already active." and queues nothing. A task caught
    while a GET shows its first build busy (``task_pool.unsettled``: shared with the other tests that need one while
    that build lasts, as a 409 changes nothing); a target whose builds always finish first makes the test skip."""
    only_at(level, level.pause_resume, PAUSE_RESUME)
    outcomes = []
    for _ in range(BUSY_ATTEMPTS):
        task = task_pool.unsettled()
        before = json_body(client_a.get(task_path("me", task["id"])))
        if before.get("workspace_status") not in {"pending", "starting"}:
            outcomes.append(f"build already finished (workspace_status {before.get('workspace_status')!r})")
            continue
        response = client_a.post(task_path("me", task["id"], "/pause"))
        if response.status_code == 202:
            outcomes.append(f"202 although workspace_status was {before.get('workspace_status')!r} just before")
            continue
        assert_error(response, 409, BUILD_ACTIVE, UNCHECKED)
        after = json_body(client_a.get(task_path("me", task["id"])))
        assert after.get("workspace_build_number") == before.get("workspace_build_number"), "pause queued a build"
        return
    if all(outcome.startswith("202") for outcome in outcomes):
        pytest.fail("pause during a running build never answered 409: " + "; ".join(outcomes), pytrace=False)
    pytest.skip("could not catch a first build running (this target builds too fast): " + "; ".join(outcomes))


@pytest.mark.writes
@pytest.mark.parametrize(
    "suffix",
    [
        pytest.param("/pause", id="pauseTask", marks=pytest.mark.operation("pauseTask", 404)),
        pytest.param("/resume", id="resumeTask", marks=pytest.mark.operation("resumeTask", 404)),
    ],
)
def test_pause_and_resume_of_an_unknown_task_answer_404(
    client_a: httpx.Client, registry: TaskRegistry, level: Level, prefix: str, suffix: str
) -> None:
    """TASKREF-3: pause and resume resolve ``{task}`` like every task route: a UUID no task has answers the exact
    not-found body (not "Route not found.": the routes exist at this level)."""
    only_at(level, level.pause_resume, PAUSE_RESUME)
    assert_not_found(client_a.post(task_path("me", registry.phantom_id(), suffix, prefix=prefix)))


@pytest.mark.operation("getTaskLogs", 200)
def test_logs_of_a_paused_task_answer_the_stored_snapshot(
    client_a: httpx.Client, paused_task: SharedTask, level: Level, prefix: str
) -> None:
    """LOGS-3 (newest, #21771): logs of a paused task answer 200 with the snapshot stored at shutdown:
    ``snapshot: true``, ``logs`` as TaskLogEntry items (``[]`` if none was stored) and, when present,
    ``snapshot_at`` as an RFC 3339 time."""
    only_at(level, level.logs_refusal("paused") is None, SNAPSHOTS)
    response = client_a.get(task_path("me", paused_task.id, "/logs", prefix=prefix))
    assert_status(response, 200)
    body = json_body(response)
    assert body.get("snapshot") is True, body
    assert isinstance(body.get("logs"), list), body
    for entry in body["logs"]:
        assert is_integer(entry.get("id")), entry
        assert entry.get("type") in {"input", "output"}, entry
        parse_time(entry.get("time", ""))
    if "snapshot_at" in body:
        parse_time(body["snapshot_at"])
