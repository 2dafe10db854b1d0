"""The tasks a run creates: one factory that creates every task, and a pool that shares tasks by the state tests need.

On a deployment each task is a real workspace build (about a minute), so the run creates few and overlaps every wait:

- :class:`TaskFactory` is the only way the suite creates a task (POST, register for the cleanup, optionally await).
- :class:`TaskPool` holds one task per *state* (:data:`ACTIVE`, :data:`PAUSED`, :data:`DELETED`, :data:`TOGGLE`,
  :data:`VICTIM`), shared by every test that only reads it or leaves it as it found it. :meth:`TaskPool.prefetch`
  sends the creates of all the states the selected tests need at once. Between tests, once every first build is
  over (:meth:`TaskPool.settle_if_built`), or when a test first takes a pooled task (it then awaits those builds,
  which run side by side on the target: about one build), the pool sends the delete and the stop; the stop is
  awaited by the first test that takes the paused task, and a taker that starts it again leaves the next taker to
  pause it (:meth:`TaskPool.moved`). Until then the run goes on:
  the tests that create and await their own tasks run first (``plugin/ordering.py``), so their builds overlap the
  pool's. A state that fails is reported to the tests that take it, not to the one that prefetched it, so the first
  test to fail is the same whatever the order of the run.
- :data:`TOGGLE` is paused and resumed by its takers (generated pause and resume cases among them), so it is
  active or paused. A test that needs it active takes it with :meth:`TaskPool.active` (resumed if need be); a test
  whose checks hold in either state takes it with :meth:`TaskPool.at_rest`, as it is, so none waits for a start it
  does not need. A test that needs a first build still running takes :meth:`TaskPool.unsettled`: the task that is
  to be deleted while its first build still runs (a 409 answer changes nothing; those tests run first for that
  reason), else one shared only while a GET still shows its build busy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import httpx

from coder_tasks_contract.spec.levels import Level
from coder_tasks_contract.transport import paths, polling
from coder_tasks_contract.transport.task_registry import TaskRegistry

DEFAULT_INPUT = "Contract test task created by coder-tasks-contract; it is deleted when the run ends."

#: The pool's states: an active task; a paused one (workspace stopped); one deleted once its first build finished;
#: user A's task that user B tries to reach; one whose takers pause and resume it (levels with pause and resume).
ACTIVE, PAUSED, DELETED, VICTIM, TOGGLE = "active", "paused", "deleted", "victim", "toggle"
STATES = (ACTIVE, PAUSED, DELETED, VICTIM, TOGGLE)
#: States served by another state's task. The task user B tries to reach is also the one that is paused and resumed:
#: neither use changes what the other checks (B gets 404 in any state, and its prompt and display name stay), and
#: every taker of either brings it back to active first (``TaskPool.active``).
SAME_TASK = {TOGGLE: VICTIM}
#: The display name the victim is created with where the level has display names (NAME-4: stored trimmed).
DISPLAY_NAME = "  ctc display name  "
#: workspace_status values of a first build that is queued or running (DELETE-2, PAUSE-4).
FIRST_BUILD_BUSY = frozenset({"pending", "starting"})

Wait = Literal["active", "settled"] | None


class TaskCreateError(AssertionError):
    """The target did not answer 201 to a create the suite needs."""


@dataclass(frozen=True)
class SharedTask:
    """A task this run created: what was asked for, the raw 201 answer, and the task once it reached its state."""

    request: dict[str, Any]
    creation: httpx.Response
    task: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.task["id"])

    @property
    def name(self) -> str:
        return str(self.task["name"])


@dataclass(frozen=True)
class DeletedTask:
    """A task this run created and then deleted, with the DELETE answer."""

    task: dict[str, Any]
    deletion: httpx.Response

    @property
    def id(self) -> str:
        return str(self.task["id"])

    @property
    def name(self) -> str:
        return str(self.task["name"])


class TaskFactory:
    """Creates the run's tasks on one target as user A (or the given client's user) and registers them.

    Called as ``make_task(*, name=None, input=..., wait="active" | "settled" | None, client=None) -> dict``.
    """

    def __init__(
        self, *, template_version_id: str, registry: TaskRegistry, client: httpx.Client, lifecycle_timeout: float
    ) -> None:
        self.template_version_id = template_version_id
        self.registry = registry
        self.client = client
        self.lifecycle_timeout = lifecycle_timeout

    def post(
        self,
        input: str = DEFAULT_INPUT,
        *,
        name: str | None = None,
        client: httpx.Client | None = None,
        prefix: str = paths.TASKS,
        extra: dict[str, Any] | None = None,
        what: str | None = None,
    ) -> SharedTask:
        """POST one task (not awaited); :class:`TaskCreateError` naming ``what`` unless the answer is 201."""
        body = {
            "template_version_id": self.template_version_id,
            "input": input,
            "name": name or self.registry.next_name(),
        }
        body.update(extra or {})
        response = (client or self.client).post(paths.task_path("me", prefix=prefix), json=body)
        if response.status_code != 201:
            # An unusable --template-version-id has already ended the run in the guard (exit 10).
            label = what or f"task {body['name']!r}"
            raise TaskCreateError(f"creating {label} answered {response.status_code}: {response.text[:300]!r}")
        task: dict[str, Any] = response.json()
        self.registry.add(task)
        return SharedTask(body, response, task)

    def await_state(self, task: dict[str, Any], wait: Wait, client: httpx.Client | None = None) -> dict[str, Any]:
        """Poll ``task`` until it is active, or its build settled (``wait``); as it is for None."""
        use = client or self.client
        if wait == "active":
            task = polling.wait_for_status(use, task, {"active"}, self.lifecycle_timeout)
        elif wait == "settled":
            task = polling.wait_build_settled(use, task, self.lifecycle_timeout)
        self.registry.refresh(task)
        return task

    def __call__(
        self,
        *,
        name: str | None = None,
        input: str = DEFAULT_INPUT,
        wait: Wait = "active",
        client: httpx.Client | None = None,
    ) -> dict[str, Any]:
        if wait not in ("active", "settled", None):
            raise ValueError(f"make_task(wait=...) takes 'active', 'settled' or None, not {wait!r}")
        created = self.post(input, name=name, client=client)
        return self.await_state(created.task, wait, client)


@dataclass(frozen=True)
class _Recipe:
    prompt: str
    first: Wait  # what the first build is awaited for
    display_name: bool = False  # created with DISPLAY_NAME through the level's documented mount (if it has one)


def _reached(task: dict[str, Any], wait: Wait) -> bool:
    """Whether ``task`` is where :meth:`TaskFactory.await_state` with ``wait`` would stop polling it."""
    if wait == "active":
        return task.get("status") == "active"
    return wait is None or polling.is_build_settled(task)


_RECIPES = {
    ACTIVE: _Recipe("ctc: shared active task; reply briefly", "active"),
    PAUSED: _Recipe("ctc: shared paused task", "active"),
    DELETED: _Recipe("ctc: task to delete", "settled"),
    VICTIM: _Recipe("ctc: isolation task of user A", "active", display_name=True),
}


class TaskPool:
    """One task per state, created on first need (all the needed states at once: :meth:`prefetch`)."""

    def __init__(self, factory: TaskFactory, level: Level) -> None:
        self.factory = factory
        self.level = level
        self._created: dict[str, SharedTask] = {}  # created, first build not awaited yet
        self._stopping: dict[str, SharedTask] = {}  # its stop build queued, not awaited yet
        self._moved: set[str] = set()  # left started by a taker: paused again for the next (``moved``)
        self._ready: dict[str, SharedTask | DeletedTask] = {}
        self._failed: dict[str, BaseException] = {}
        self._unsettled: dict[str, Any] | None = None

    def wanted(self, states: Iterable[str]) -> list[str]:
        """``states`` this level can hold (TOGGLE needs pause and resume, PAUSE-1) that are not created yet."""
        usable = [SAME_TASK.get(s, s) for s in states if s != TOGGLE or self.level.pause_resume]
        known = {**self._created, **self._stopping, **self._ready, **self._failed}
        return [s for s in dict.fromkeys(usable) if s in _RECIPES and s not in known]

    def prefetch(self, states: Iterable[str]) -> None:
        """Send the create of every wanted state's task; the builds are awaited when one is first taken."""
        for state in self.wanted(states):
            self._attempt(state, partial(self._create, state))

    def settle_if_built(self) -> None:
        """Finish the created tasks (:meth:`_settle`: send the delete and the stop) if every first build is over, else
        leave them: called between tests, so that on a deployment the delete and the stop run while the tests that
        follow do, instead of being awaited by the first test that takes a pooled task. One GET per created task."""
        for state, shared in self._created.items():
            response = self.factory.client.get(paths.task_path("me", shared.id))
            if response.status_code != 200:
                return  # reported by _settle to the tests that take the state
            if not _reached(response.json(), _RECIPES[state].first):
                return
        if self._created:
            self._settle()

    def _settle(self) -> None:
        """Await the first build of every created task (side by side), then finish them (see the module docstring)."""
        created, self._created = self._created, {}
        settled: dict[str, SharedTask] = {}
        for state in created:
            self._attempt(state, partial(self._first_build, created, settled, state))
        # The delete is sent before the stop is awaited, so its build runs meanwhile.
        for state in sorted(settled, key=lambda s: s != DELETED):
            self._attempt(state, partial(self._finish, state, settled[state]))

    def _first_build(self, created: dict[str, SharedTask], settled: dict[str, SharedTask], state: str) -> None:
        shared = created[state]
        task = self.factory.await_state(shared.task, _RECIPES[state].first)
        settled[state] = SharedTask(shared.request, shared.creation, task)

    def _create(self, state: str) -> None:
        recipe = _RECIPES[state]
        if recipe.display_name and self.level.display_name:
            self._created[state] = self.factory.post(
                recipe.prompt,
                prefix=self.level.documented_prefix,
                extra={"display_name": DISPLAY_NAME},
                what="a shared task",
            )
        else:
            self._created[state] = self.factory.post(recipe.prompt, what="a shared task")

    def _finish(self, state: str, shared: SharedTask) -> None:
        client, timeout = self.factory.client, self.factory.lifecycle_timeout
        if state == DELETED:
            # Through the mount Coder documents at this level (/api/v2/tasks from 2.29 on, ROUTE-1): the other tests
            # that delete use the experimental one, so each mount's 202 is exercised whatever the generated tests draw.
            path = paths.task_path("me", shared.id, prefix=self.level.documented_prefix)
            self._ready[state] = DeletedTask(shared.task, client.delete(path))
        elif state == PAUSED:
            # Queued, not awaited: the stop runs while the tests that take other states do (``_paused``).
            polling.queue_build(client, shared.task, "stop", timeout)
            self._stopping[state] = shared
        else:
            self._ready[state] = shared

    def _paused(self, state: str) -> None:
        shared = self._stopping.pop(state)
        paused = polling.wait_for_status(self.factory.client, shared.task, {"paused"}, self.factory.lifecycle_timeout)
        self._ready[state] = SharedTask(shared.request, shared.creation, paused)

    def _attempt(self, state: str, step: Callable[[], None]) -> None:
        # A failure belongs to the tests that take this state (re-raised there), not to the one that prefetched it.
        if state in self._failed:
            return
        try:
            step()
        except Exception as exc:
            self._failed[state] = exc

    def _take(self, state: str) -> SharedTask | DeletedTask:
        state = SAME_TASK.get(state, state)
        if state not in self._ready:
            self.prefetch([state])
        if self._created:
            self._settle()
        if state in self._stopping:
            self._attempt(state, partial(self._paused, state))
        if state in self._failed:
            raise self._failed[state]
        if state not in self._ready:  # a state the pool has no recipe for
            raise LookupError(f"the task pool holds no {state!r} task at level {self.level.name}")
        return self._ready[state]

    def shared(self, state: str) -> SharedTask:
        """The task of ``state`` (ACTIVE, PAUSED, VICTIM), as it was when it reached that state (paused again first
        if a taker started it: :meth:`moved`)."""
        taken = self._take(state)
        assert isinstance(taken, SharedTask), f"{state} is not a live pooled state"
        if state in self._moved:
            self._moved.discard(state)
            paused = polling.pause_task(self.factory.client, taken.task, self.factory.lifecycle_timeout)
            taken = self._ready[state] = SharedTask(taken.request, taken.creation, paused)
        return taken

    def moved(self, state: str) -> None:
        """A taker left the PAUSED task started: its next taker pauses it again (none does if that test runs last,
        ``plugin/ordering.py``, so a run does not wait for a stop nobody needs)."""
        if state != PAUSED:
            raise ValueError(f"only the {PAUSED!r} task is put back by its next taker, not {state!r}")
        self._moved.add(state)

    def deleted(self) -> DeletedTask:
        """The task deleted once its first build finished (DELETE-2), with the DELETE answer."""
        taken = self._take(DELETED)
        assert isinstance(taken, DeletedTask)
        return taken

    def active(self, state: str = TOGGLE) -> SharedTask:
        """The task of ``state`` brought back to active first (resumed if a taker paused it and did not resume it,
        e.g. a generated pause, or a test that failed half-way)."""
        shared = self.shared(state)
        client, timeout = self.factory.client, self.factory.lifecycle_timeout
        response = client.get(paths.task_path("me", shared.id))
        if response.status_code == 200 and response.json().get("status") == "active":
            return SharedTask(shared.request, shared.creation, dict(response.json()))
        # Not active (or not found: the waits below then say so, naming the clause): let a running build finish,
        # then start the workspace again if it is paused.
        current = polling.wait_build_settled(client, shared.task, timeout)
        if current.get("status") == "paused":
            current = polling.resume_task(client, current, timeout)
        current = polling.wait_for_status(client, current, {"active"}, timeout)
        return SharedTask(shared.request, shared.creation, current)

    def at_rest(self, state: str) -> SharedTask:
        """The task of ``state`` as its takers left it, active or paused, once it is one of the two (no build running,
        its agent connected): for the tests whose checks hold in either state, so none waits for a start it does not
        need (about a minute on a deployment). A PAUSED task a taker left started (:meth:`moved`) is handed out
        started, and still paused again for the next :meth:`shared` taker."""
        shared = self._take(state)
        assert isinstance(shared, SharedTask), f"{state} is not a live pooled state"
        current = polling.wait_for_status(
            self.factory.client, shared.task, {"active", "paused"}, self.factory.lifecycle_timeout
        )
        return SharedTask(shared.request, shared.creation, current)

    def unsettled(self) -> dict[str, Any]:
        """A task whose first build is still queued or running, while a GET still shows that build busy (the 409
        tests that take it change nothing): the one created to be deleted, not yet awaited, else the last one handed
        out, else a new one."""
        pending = self._created.get(DELETED)
        for task in (pending.task if pending else None, self._unsettled):
            if task is None:
                continue
            response = self.factory.client.get(paths.task_path("me", str(task["id"])))
            if response.status_code == 200 and response.json().get("workspace_status") in FIRST_BUILD_BUSY:
                return dict(response.json())
        self._unsettled = self.factory.post("ctc: task caught during its first build").task
        return dict(self._unsettled)

    def deleted_by_taker(self, task_id: str, deletion: httpx.Response) -> None:
        """A taker's DELETE of an :meth:`unsettled` task was accepted: its first build finished between the taker's
        GET and the DELETE (only a fast target leaves that instant). If it was the task the pool created to delete,
        that DELETE stands for the pool's own, so the tests that take the deleted task get it instead of a 404."""
        pending = self._created.get(DELETED)
        if pending is not None and pending.id.lower() == task_id.lower():
            del self._created[DELETED]
            self._ready[DELETED] = DeletedTask(pending.task, deletion)


__all__ = [
    "ACTIVE",
    "DEFAULT_INPUT",
    "DELETED",
    "PAUSED",
    "STATES",
    "TOGGLE",
    "VICTIM",
    "DeletedTask",
    "SharedTask",
    "TaskCreateError",
    "TaskFactory",
    "TaskPool",
]
