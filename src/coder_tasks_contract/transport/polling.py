"""Waiting for a task's state to change: polling with growing pauses and a deadline, never blind sleeps.

Task status is computed from the build, then the agent, then the app (STATUS clauses). A task is paused by a
``stop`` build of its workspace and resumed by a ``start`` build (INPUT clauses).

Every poll is an answer like any other, so a wait ends with a verdict as soon as one is due: a poll that is not a
200 ``Task`` of the level's document (``task_shape``), or a task in a state that cannot lead to the awaited one
without something the suite did not do (``error``; ``unknown`` with no build running), fails the waiting test at
once, naming what it saw. A wait that times out says the state it saw last and for how long.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from coder_tasks_contract.spec.task_shape import TaskShape
from coder_tasks_contract.transport import paths

#: Statuses during which the first build (or a start after a stop) has not finished (STATUS-2).
UNSETTLED_STATUSES = frozenset({"pending", "initializing"})
#: workspace_status values meaning a build job is still queued or running (SCHEMA-4, WorkspaceStatus).
BUSY_WORKSPACE_STATUSES = frozenset({"pending", "starting", "stopping", "canceling", "deleting"})

#: workspace_status values of a build whose job failed or was canceled: the task is ``error`` until a new build.
FAILED_BUILD_WORKSPACE_STATUSES = frozenset({"failed", "canceling", "canceled"})
#: How long ``unknown`` with no build running is watched before the wait gives up on it (STATUS-6).
UNKNOWN_GRACE = 30.0

FIRST_POLL = 0.05
MAX_POLL = 2.0
# A gentle back-off: a fast target (the reference server is active 0.3 s after a create) is seen ready soon after
# it is, while a deployment's minute-long build still costs few GETs once the pause reaches MAX_POLL.
POLL_GROWTH = 1.25


# Why a polled task (and how long its state has held, in seconds) can no longer reach the awaited state, or None.
Hopeless = Callable[[dict[str, Any], float], "str | None"]


class LifecycleError(AssertionError):
    """A task did not reach the awaited state (timeout, an error status, or it disappeared)."""


# The level's Task schema every poll is judged by; set once the target's level is known (``judge_polls_by``).
_shape: TaskShape | None = None


def judge_polls_by(shape: TaskShape | None) -> None:
    """Check every poll of every wait against ``shape`` (None: only the status rules below)."""
    global _shape
    _shape = shape


def _state_of(task: dict[str, Any]) -> str:
    return f"status {task.get('status')!r} (workspace {task.get('workspace_status')!r})"


def _task_url(task: dict[str, Any]) -> str:
    owner = str(task.get("owner_id") or "me")
    return paths.task_path(owner, str(task["id"]))


def _describe(task: dict[str, Any]) -> str:
    return f"task {task.get('name') or task.get('id')!s}"


def poll_task(
    client: httpx.Client,
    task: dict[str, Any],
    done: Callable[[dict[str, Any]], bool],
    *,
    timeout: float,
    waiting_for: str,
    hopeless: Hopeless = lambda current, held: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """GET the task until ``done(task)``.

    Raises :class:`LifecycleError` at once for an answer that is not a 200 ``Task`` of the level's document, or a
    state ``hopeless`` explains (given how long the same state has held); else at the deadline, naming the last
    state and its age.
    """
    started = clock()
    deadline = started + timeout
    pause = FIRST_POLL
    seen, seen_since = "", started
    while True:
        response = client.get(_task_url(task))
        if response.status_code != 200:
            raise LifecycleError(
                f"{_describe(task)}: GET answered {response.status_code} {response.text[:200]!r} while waiting for "
                f"{waiting_for}; a task this run created and did not delete must be found (TASKREF-3, DELETE-1)"
            )
        current = _task_body(task, response, waiting_for)
        if done(current):
            return current
        now = clock()
        if _state_of(current) != seen:
            seen, seen_since = _state_of(current), now
        why = hopeless(current, now - seen_since)
        if why:
            raise LifecycleError(
                f"{_describe(task)} reached {_state_of(current)} while waiting for {waiting_for}: {why}"
            )
        remaining = deadline - now
        if remaining <= 0:
            raise LifecycleError(
                f"{_describe(task)} still has {seen} after {timeout:g}s waiting for {waiting_for} (in that state "
                f"for the last {now - seen_since:.1f}s); raise --lifecycle-timeout if the deployment is slow"
            )
        sleep(min(pause, remaining))
        pause = min(pause * POLL_GROWTH, MAX_POLL)


def _task_body(task: dict[str, Any], response: httpx.Response, waiting_for: str) -> dict[str, Any]:
    """The polled task, checked against the level's ``Task`` schema (SCHEMA clauses) before it is believed."""
    try:
        current = response.json()
    except ValueError:
        raise LifecycleError(
            f"{_describe(task)}: GET answered 200 with a body that is not JSON while waiting for {waiting_for}: "
            f"{response.text[:200]!r}"
        ) from None
    problems = _shape.problems(current) if _shape is not None else []
    if problems or not isinstance(current, dict):
        level = f" at level {_shape.level}" if _shape is not None else ""
        raise LifecycleError(
            f"{_describe(task)}: GET answered a task its contract{level} does not allow while waiting for "
            f"{waiting_for} (SCHEMA-1): " + "; ".join(problems[:3] or ["the body is not an object"])
        )
    return dict(current)


def cannot_become(wanted: frozenset[str], *, grace: float) -> Hopeless:
    """Why a polled task can no longer reach one of ``wanted`` without something the suite does not do, or None.

    - ``error`` after a failed, canceling or canceled build: the build stage comes first and a finished job does
      not change, so only a new build moves it (STATUS-3). An ``error`` from the app stage (app unhealthy, the
      workspace running) is waited through: it turns active again when the app recovers.
    - ``unknown`` with no build queued or running, held for ``grace`` seconds: no rule of the status view maps a
      settled build to ``unknown``, and an agent or app that reached a value outside the table does not come back by
      itself (STATUS-6, inferred: hence the grace instead of failing at the first sight).
    """

    def hopeless(current: dict[str, Any], held: float) -> str | None:
        status, workspace = current.get("status"), current.get("workspace_status")
        if status in wanted:
            return None
        if status == "error" and workspace in FAILED_BUILD_WORKSPACE_STATUSES:
            return f"its build failed (workspace {workspace!r}), and only a new build changes that (STATUS-3)"
        if status == "unknown" and workspace not in BUSY_WORKSPACE_STATUSES and held >= grace:
            return f"'unknown' with no build running for {held:.1f}s: nothing moves it out of that (STATUS-6)"
        return None

    return hopeless


def wait_for_status(client: httpx.Client, task: dict[str, Any], statuses: set[str], timeout: float) -> dict[str, Any]:
    """Poll until the task's status is one of ``statuses``; a state that cannot lead there ends the wait early
    (:func:`cannot_become`)."""
    wanted = frozenset(statuses)
    return poll_task(
        client,
        task,
        lambda current: current.get("status") in wanted,
        timeout=timeout,
        waiting_for="status " + "/".join(sorted(wanted)),
        hopeless=cannot_become(wanted, grace=min(UNKNOWN_GRACE, timeout / 4)),
    )


def is_build_settled(task: dict[str, Any]) -> bool:
    """Whether no build of the task's workspace is queued or running (so DELETE will not answer 409, DELETE-2)."""
    return task.get("status") not in UNSETTLED_STATUSES and task.get("workspace_status") not in BUSY_WORKSPACE_STATUSES


def wait_build_settled(client: httpx.Client, task: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Poll until the latest build has finished: status not pending/initializing, workspace not busy."""
    return poll_task(client, task, is_build_settled, timeout=timeout, waiting_for="its build to finish")


def _build(client: httpx.Client, task: dict[str, Any], transition: str, timeout: float) -> None:
    """POST a start/stop build; a 409 (another build active) waits for it to settle and tries again."""
    workspace_id = task.get("workspace_id")
    if not workspace_id:
        task = wait_build_settled(client, task, timeout)
        workspace_id = task.get("workspace_id")
        if not workspace_id:
            raise LifecycleError(f"{_describe(task)} has no workspace to {transition}")
    deadline = time.monotonic() + timeout
    while True:
        response = client.post(paths.workspace_path(str(workspace_id), "/builds"), json={"transition": transition})
        if response.status_code in (200, 201):
            return
        if response.status_code == 409 and time.monotonic() < deadline:
            wait_build_settled(client, task, max(deadline - time.monotonic(), 0.1))
            continue
        raise LifecycleError(
            f"{_describe(task)}: {transition} build answered {response.status_code}: {response.text[:200]}"
        )


def pause_task(client: httpx.Client, task: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Stop the task's workspace and wait until the task is ``paused``."""
    _build(client, task, "stop", timeout)
    return wait_for_status(client, task, {"paused"}, timeout)


def resume_task(client: httpx.Client, task: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Start the task's workspace again and wait until the task is ``active``."""
    _build(client, task, "start", timeout)
    return wait_for_status(client, task, {"active"}, timeout)
