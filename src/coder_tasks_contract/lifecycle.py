"""Waiting for a task's state to change: polling with growing pauses and a deadline, never blind sleeps.

Task status is computed from the build, then the agent, then the app (behaviour note §4.1). A task is paused by a
``stop`` build of its workspace and resumed by a ``start`` build (§3.5).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from coder_tasks_contract import paths

#: Statuses during which the first build (or a start after a stop) has not finished (§4.1).
UNSETTLED_STATUSES = frozenset({"pending", "initializing"})
#: workspace_status values meaning a build job is still queued or running (§5, WorkspaceStatus).
BUSY_WORKSPACE_STATUSES = frozenset({"pending", "starting", "stopping", "canceling", "deleting"})

FIRST_POLL = 0.05
MAX_POLL = 2.0
# A gentle back-off: a fast target (the reference server is active 0.3 s after a create) is seen ready soon after
# it is, while a deployment's minute-long build still costs few GETs once the pause reaches MAX_POLL.
POLL_GROWTH = 1.25


class LifecycleError(AssertionError):
    """A task did not reach the awaited state (timeout, an error status, or it disappeared)."""


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
    fail_on: Iterable[str] = (),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """GET the task until ``done(task)``; raises :class:`LifecycleError` on timeout, a ``fail_on`` status or 404."""
    deadline = clock() + timeout
    pause = FIRST_POLL
    failing = frozenset(fail_on)
    current = task
    while True:
        response = client.get(_task_url(task))
        if response.status_code != 200:
            raise LifecycleError(
                f"{_describe(task)}: GET answered {response.status_code} while waiting for {waiting_for}"
            )
        current = dict(response.json())
        if done(current):
            return current
        status = current.get("status")
        if status in failing:
            raise LifecycleError(f"{_describe(task)} reached status {status!r} while waiting for {waiting_for}")
        remaining = deadline - clock()
        if remaining <= 0:
            raise LifecycleError(
                f"{_describe(task)} still has status {status!r} (workspace {current.get('workspace_status')!r}) "
                f"after {timeout:g}s waiting for {waiting_for}; raise --lifecycle-timeout if the deployment is slow"
            )
        sleep(min(pause, remaining))
        pause = min(pause * POLL_GROWTH, MAX_POLL)


def wait_for_status(client: httpx.Client, task: dict[str, Any], statuses: set[str], timeout: float) -> dict[str, Any]:
    """Poll until the task's status is one of ``statuses``; an ``error`` status fails at once unless awaited."""
    wanted = frozenset(statuses)
    return poll_task(
        client,
        task,
        lambda current: current.get("status") in wanted,
        timeout=timeout,
        waiting_for="status " + "/".join(sorted(wanted)),
        fail_on={"error"} - wanted,
    )


def is_build_settled(task: dict[str, Any]) -> bool:
    """Whether no build of the task's workspace is queued or running (so DELETE will not answer 409, §3.4)."""
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
