"""Waiting for a task's state to change: polls paced by the task and the rate limit, a deadline, no blind sleeps.

Task status is computed from the build, then the agent, then the app (STATUS clauses). A task is paused by a
``stop`` build of its workspace and resumed by a ``start`` build (INPUT clauses).

Every poll is an answer like any other, so a wait ends with a verdict as soon as one is due: a poll that is not a
200 ``Task`` of the level's document (``task_shape``), or a task in a state that cannot lead to the awaited one
without something the suite did not do (``error``; ``unknown`` with no build running), fails the waiting test at
once, naming what it saw. A wait that times out says the state it saw last and for how long.

The pause before the next poll follows the task (:func:`next_pause`): short while its state is new (a change is
often followed by the next one: job done, agent ready, app healthy), longer the longer a state has held (a 0.3 s
build is polled every 50 ms, a minute-long one every 2 s, a wait of minutes every 5 s), and never so short that the
waits of this process together take more than half of the route's rate limit (``pace_polls_by``; RATE-1). A 429 is
waited out (its Retry-After) within the deadline, not taken as a verdict on the task. A wait that lasts longer than
``PROGRESS_AFTER`` seconds reports where it stands to the progress sink, if one is set (``report_progress_to``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from coder_tasks_contract.spec.task_shape import TaskShape
from coder_tasks_contract.transport import paths
from coder_tasks_contract.transport.throttle import WINDOW_SECONDS, parse_retry_after

#: Statuses during which the first build (or a start after a stop) has not finished (STATUS-2).
UNSETTLED_STATUSES = frozenset({"pending", "initializing"})
#: workspace_status values meaning a build job is still queued or running (SCHEMA-4, WorkspaceStatus).
BUSY_WORKSPACE_STATUSES = frozenset({"pending", "starting", "stopping", "canceling", "deleting"})

#: workspace_status values of a build whose job failed or was canceled: the task is ``error`` until a new build.
FAILED_BUILD_WORKSPACE_STATUSES = frozenset({"failed", "canceling", "canceled"})
#: How long ``unknown`` with no build running is watched before the wait gives up on it (STATUS-6).
UNKNOWN_GRACE = 30.0

FIRST_POLL = 0.05
#: The longest pause in a wait's first minute, and the one it grows to over the next 90 s.
MAX_POLL = 2.0
LONG_POLL = 5.0
#: The next poll comes after this fraction of the time the current state has held: a change is seen within 25% of
#: its state's age (and MAX_POLL), so a long build costs a few dozen GETs, not hundreds.
HELD_FRACTION = 0.25
#: After a change the pause starts again from this fraction of the time waited so far (not from FIRST_POLL): on a
#: deployment the next change is seconds away, on the embedded server milliseconds.
ELAPSED_FRACTION = 0.02
# Growth of the pause between retries that have no state to follow (stateful's sends to a busy agent).
POLL_GROWTH = 1.25
#: Share of the route's per-minute rate limit the concurrent waits of one process may use together: the other half
#: stays with the tests' own reads of the same route (the suite paces per route template, guard.py).
POLL_SHARE = 0.5
#: A wait reports its progress once it has lasted this long, then every PROGRESS_EVERY seconds.
PROGRESS_AFTER = 5.0
PROGRESS_EVERY = 30.0


# Why a polled task (and how long its state has held, in seconds) can no longer reach the awaited state, or None.
Hopeless = Callable[[dict[str, Any], float], "str | None"]


class LifecycleError(AssertionError):
    """A task did not reach the awaited state (timeout, an error status, or it disappeared)."""


# The level's Task schema every poll is judged by; set once the target's level is known (``judge_polls_by``).
_shape: TaskShape | None = None
# The suite's per-route limit (requests a minute; None: unlimited), and where progress lines go (None: nowhere).
_per_minute: int | None = None
_progress: Callable[[str], None] | None = None
_waits_lock = threading.Lock()
_waits = 0  # waits in progress in this process (fixtures may wait in threads, concurrently)


def judge_polls_by(shape: TaskShape | None) -> None:
    """Check every poll of every wait against ``shape`` (None: only the status rules below)."""
    global _shape
    _shape = shape


def pace_polls_by(per_minute: int | None) -> None:
    """Keep the polls of this process's concurrent waits within ``POLL_SHARE`` of ``per_minute`` (None: no limit)."""
    global _per_minute
    _per_minute = per_minute


def report_progress_to(sink: Callable[[str], None] | None) -> None:
    """Send the progress lines of long waits to ``sink`` (None: keep them quiet)."""
    global _progress
    _progress = sink


def next_pause(held: float, elapsed: float = 0.0, *, concurrent: int = 1, per_minute: int | None = None) -> float:
    """Seconds until the next poll of a task whose state has held ``held`` of the ``elapsed`` seconds waited so far,
    while ``concurrent`` waits poll the same route under a limit of ``per_minute`` requests a minute (None:
    unlimited)."""
    cap = min(max(elapsed / 30, MAX_POLL), LONG_POLL)
    pause = min(max(held * HELD_FRACTION, elapsed * ELAPSED_FRACTION, FIRST_POLL), cap)
    if per_minute is not None:
        pause = max(pause, WINDOW_SECONDS * max(concurrent, 1) / (POLL_SHARE * per_minute))
    return pause


def _state_of(task: dict[str, Any]) -> str:
    return f"status {task.get('status')!r} (workspace {task.get('workspace_status')!r})"


def _task_url(task: dict[str, Any]) -> str:
    owner = str(task.get("owner_id") or "me")
    return paths.task_path(owner, str(task["id"]))


def _describe(task: dict[str, Any]) -> str:
    return f"task {task.get('name') or task.get('id')!s}"


class _Wait:
    """One wait's bookkeeping: the deadline, the state last seen and since when, the last progress line."""

    def __init__(self, task: dict[str, Any], waiting_for: str, timeout: float, clock: Callable[[], float]) -> None:
        self.task, self.waiting_for, self.timeout, self.clock = task, waiting_for, timeout, clock
        self.started = clock()
        self.deadline = self.started + timeout
        self.seen, self.seen_since = "", self.started
        self.reported = self.started + PROGRESS_AFTER - PROGRESS_EVERY  # the first line is due at PROGRESS_AFTER
        self.throttled = 0  # polls answered 429

    def saw(self, current: dict[str, Any]) -> tuple[float, float]:
        """Note the polled state; returns how long it has held, and how long the wait has lasted."""
        now = self.clock()
        if _state_of(current) != self.seen:
            self.seen, self.seen_since = _state_of(current), now
        return now - self.seen_since, now - self.started

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def timed_out(self) -> LifecycleError:
        now = self.clock()
        return LifecycleError(
            f"{_describe(self.task)} still has {self.seen or 'no answer'} after {self.timeout:g}s waiting for "
            f"{self.waiting_for} (in that state for the last {now - self.seen_since:.1f}s); raise "
            "--lifecycle-timeout if the deployment is slow"
            + (f"; {self.throttled} poll(s) were answered 429 (rate limited)" if self.throttled else "")
        )

    def report(self) -> None:
        """A progress line (task name, awaited and current state, time so far), when one is due: never a token."""
        now = self.clock()
        if _progress is None or now - self.reported < PROGRESS_EVERY:
            return
        self.reported = now
        state = f"now {self.seen} for {now - self.seen_since:.0f}s" if self.seen else "no answer yet"
        _progress(
            f"{_describe(self.task)}: waiting for {self.waiting_for}, {now - self.started:.0f}s of {self.timeout:g}s "
            f"so far; {state}"
        )


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
    """GET the task until ``done(task)``, pausing as :func:`next_pause` says.

    Raises :class:`LifecycleError` at once for an answer that is not a 200 ``Task`` of the level's document (a 429
    is waited out instead), or a state ``hopeless`` explains (given how long the same state has held); else at the
    deadline, naming the last state and its age.
    """
    global _waits
    wait = _Wait(task, waiting_for, timeout, clock)
    with _waits_lock:
        _waits += 1
    try:
        while True:
            pause = _poll_once(client, wait, done, hopeless)
            if isinstance(pause, dict):
                return pause
            remaining = wait.remaining()
            if remaining <= 0:
                raise wait.timed_out()
            wait.report()
            sleep(min(pause, remaining))
    finally:
        with _waits_lock:
            _waits -= 1


def _poll_once(
    client: httpx.Client, wait: _Wait, done: Callable[[dict[str, Any]], bool], hopeless: Hopeless
) -> dict[str, Any] | float:
    """One GET: the task if it is done, else the pause before the next one; raises when a verdict is due."""
    task, waiting_for = wait.task, wait.waiting_for
    response = client.get(_task_url(task))
    if response.status_code == 429:
        # Rate limited (the guard already retried): no verdict on the task; wait as long as asked (RATE-1).
        wait.throttled += 1
        asked = parse_retry_after(response.headers.get("retry-after"))
        return max(asked if asked is not None else MAX_POLL, FIRST_POLL)
    if response.status_code != 200:
        raise LifecycleError(
            f"{_describe(task)}: GET answered {response.status_code} {response.text[:200]!r} while waiting for "
            f"{waiting_for}; a task this run created and did not delete must be found (TASKREF-3, DELETE-1)"
        )
    current = _task_body(task, response, waiting_for)
    if done(current):
        return current
    held, elapsed = wait.saw(current)
    why = hopeless(current, held)
    if why:
        raise LifecycleError(f"{_describe(task)} reached {_state_of(current)} while waiting for {waiting_for}: {why}")
    return next_pause(held, elapsed, concurrent=_waits, per_minute=_per_minute)


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
    """Whether no build job of the task's workspace is queued or running (so DELETE will not answer 409, DELETE-2).

    The latest build's ``workspace_status`` says it (SCHEMA-4); the task stays ``initializing`` after the job is done,
    while the agent connects (STATUS-2), which on a deployment is most of a minute-long start. Only where
    ``workspace_status`` is absent (omitempty) does the task status stand in for it.
    """
    workspace = task.get("workspace_status")
    if workspace:
        return workspace not in BUSY_WORKSPACE_STATUSES
    return task.get("status") not in UNSETTLED_STATUSES


def wait_build_settled(client: httpx.Client, task: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Poll until the latest build job has finished (:func:`is_build_settled`)."""
    return poll_task(client, task, is_build_settled, timeout=timeout, waiting_for="its build to finish")


def queue_build(client: httpx.Client, task: dict[str, Any], transition: str, timeout: float) -> None:
    """POST a start/stop build of the task's workspace, not awaited; a 409 (another build active) waits for that
    one to settle and tries again."""
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
    queue_build(client, task, "stop", timeout)
    return wait_for_status(client, task, {"paused"}, timeout)


def resume_task(client: httpx.Client, task: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Start the task's workspace again and wait until the task is ``active``."""
    queue_build(client, task, "start", timeout)
    return wait_for_status(client, task, {"active"}, timeout)
