"""Faults in the task lifecycle (TASKREF-4, DELETE, INPUT, SEND): use after delete, DELETE during a build,
PATCH /input starting a build or storing nothing, send relaying nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.types import ASGIApp

from coder_tasks_contract.faults.asgi import map_tasks, serve
from coder_tasks_contract.faults.base import Catcher, fault
from coder_tasks_contract.server.domain.entities import Task, User, Workspace
from coder_tasks_contract.server.domain.errors import NotFound
from coder_tasks_contract.server.domain.query import TaskFilter
from coder_tasks_contract.server.domain.world import World
from coder_tasks_contract.server.golang.gofmt import try_uuid


class _DeletedStillFound(World):
    def resolve_task(self, actor: User, owner: User, raw: str) -> Task:
        try:
            return super().resolve_task(actor, owner, raw)
        except NotFound:
            task_id = try_uuid(raw)
            for task in self.tasks.values():
                if task.deleted_at is None or not self.can_access_task(actor, task):
                    continue
                if task.id == task_id or (task.owner_id == owner.id and task.name.lower() == raw.lower()):
                    return task
            raise


@fault(
    "lifecycle",
    "tests/test_status_codes.py::test_delete_answers_202_without_body",
    "tests/test_task_state_errors.py::test_every_operation_on_a_deleted_task_answers_404",
    ci=True,
)
def deleted_task_still_found(world: World) -> ASGIApp:
    """A deleted task is still found by id and name (TASKREF-4, DELETE-1: deleted tasks are never returned; the next
    GET answers 404)."""
    return serve(world, rules=_DeletedStillFound)


class _DeletedStillListed(World):
    def list_tasks(self, actor: User, task_filter: TaskFilter) -> list[Task]:
        with self.lock:
            found = super().list_tasks(actor, task_filter)
            deleted = [
                task
                for task in self.tasks.values()
                if task.deleted_at is not None
                and self.can_access_task(actor, task)
                and task_filter.owner_id in (None, task.owner_id)
                and task_filter.organization_id in (None, task.organization_id)
                and task_filter.status is None
            ]
            return sorted(found + deleted, key=lambda task: (task.created_at, task.id), reverse=True)


@fault("lifecycle", "tests/test_list.py::test_deleted_task_is_not_listed")
def deleted_task_still_listed(world: World) -> ASGIApp:
    """Deleted tasks stay in the list (LIST-2: only non-deleted tasks are listed)."""
    return serve(world, rules=_DeletedStillListed)


class _DeleteDuringBuild(World):
    def delete_task(self, actor: User, task: Task) -> None:
        with self.lock:
            now = self.now()
            workspace = self.workspace_of(task)
            if workspace is not None:
                self._queue_build(actor, workspace, "delete", now)  # queued behind the running one, no 409
            task.deleted_at = now


@fault("lifecycle", "tests/test_task_state_errors.py::test_delete_while_the_first_build_runs_answers_409", ci=True)
def delete_during_build_accepted(world: World) -> ASGIApp:
    """DELETE while a workspace build is pending or running deletes the task (DELETE-2: 409 "A workspace build is
    already active.")."""
    return serve(world, rules=_DeleteDuringBuild)


class _PatchStartsBuild(World):
    def update_input(self, actor: User, task: Task, prompt: str) -> None:
        with self.lock:
            super().update_input(actor, task, prompt)
            workspace = self.workspace_of(task)
            if workspace is not None:
                self._queue_build(actor, workspace, "start", self.now())


@fault("lifecycle", "tests/test_status_codes.py::test_update_input_answers_204_and_replaces_initial_prompt")
def patch_starts_a_build(world: World) -> ASGIApp:
    """PATCH /input starts the workspace again (INPUT-1: sets ``initial_prompt``; nothing else changes, no build is
    started)."""
    return serve(world, rules=_PatchStartsBuild)


class _PatchNotStored(World):
    def update_input(self, actor: User, task: Task, prompt: str) -> None:
        with self.lock:
            before = task.prompt
            super().update_input(actor, task, prompt)
            task.prompt = before


@fault("lifecycle", "tests/test_status_codes.py::test_update_input_answers_204_and_replaces_initial_prompt")
def patch_input_not_stored(world: World) -> ASGIApp:
    """PATCH /input answers 204 but the task's ``initial_prompt`` stays as it was (INPUT-1: it sets the task's
    ``initial_prompt``, which the Task's ``initial_prompt`` then shows)."""
    return serve(world, rules=_PatchNotStored)


class _SendDropped(World):
    def _relay(self, task: Task, workspace: Workspace, text: str, now: datetime) -> None:
        pass  # every check of /send passed; the input goes nowhere


@fault("lifecycle", "tests/test_status_codes.py::test_send_answers_204_and_the_input_shows_in_the_logs")
def send_not_relayed(world: World) -> ASGIApp:
    """POST /send answers 204 but the input never reaches the agent (SEND-1: the input is relayed to the AgentAPI
    app as a user message; LOGS-1: logs show it as an ``input`` entry)."""
    return serve(world, rules=_SendDropped)


class _DeletedNamesTaken(World):
    def _name_in_use(self, owner: User, name: str, now: datetime) -> bool:
        return super()._name_in_use(owner, name, now) or any(
            t.owner_id == owner.id and t.deleted_at is not None and self._same_name(t.name, name)
            for t in self.tasks.values()
        )


@fault("lifecycle", "tests/test_create_errors.py::test_a_deleted_tasks_name_can_be_used_again")
def deleted_name_stays_taken(world: World) -> ASGIApp:
    """The name of a deleted task can never be used again (CREATE-7: only a *non-deleted* workspace of the same
    name conflicts; DELETE-1: the task is soft-deleted and its workspace deleted)."""
    return serve(world, rules=_DeletedNamesTaken)


# The first wait for an active task is the shared task's, in the setup of the suite's first test. The message pins that
# the wait judged the poll (it names the clause) instead of sitting out --lifecycle-timeout ("still has status").
@fault(
    "lifecycle",
    Catcher(
        "tests/test_status_codes.py::test_list_answers_200_with_tasks_and_count",
        r"while waiting for status active \(SCHEMA-1\): status: 'running'",
    ),
)
def status_running_not_active(world: World) -> ASGIApp:
    """A task that is ready for input says ``status: "running"``, a value outside the TaskStatus enum, where Coder
    says ``active`` (STATUS-1, STATUS-5: the app stage of a ready task is ``active``; SCHEMA-4). A suite waiting
    for ``active`` must fail at the first such poll, naming the clause, not sit out its lifecycle timeout."""

    def change(task: dict[str, Any]) -> None:
        if task.get("status") == "active":
            task["status"] = "running"

    return serve(world, response=lambda reply: map_tasks(reply, change))
