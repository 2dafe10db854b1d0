"""Faults in the isolation between members (USER-3, RBAC): another member's task read, listed,
changed, sent to or deleted, or its existence leaked.

Faults that break isolation for some operations only read :data:`~coder_tasks_contract.faults.asgi.current_operation`.
"""

from __future__ import annotations

from starlette.types import ASGIApp

from coder_tasks_contract.faults.asgi import current_operation, serve
from coder_tasks_contract.faults.base import fault
from coder_tasks_contract.server.domain.entities import Task, User
from coder_tasks_contract.server.domain.errors import Forbidden, NotFound
from coder_tasks_contract.server.domain.query import TaskFilter, parse_task_query
from coder_tasks_contract.server.domain.world import World
from coder_tasks_contract.server.golang.gofmt import try_uuid


class _ForeignById(World):
    """Task UUIDs resolve for any caller in the operations ``LEAKY`` names (no RBAC on the lookup by id)."""

    LEAKY: frozenset[str] = frozenset()

    def resolve_task(self, actor: User, owner: User, raw: str) -> Task:
        task_id = try_uuid(raw)
        task = self.tasks.get(task_id) if task_id else None
        if task is not None and task.deleted_at is None and current_operation.get() in self.LEAKY:
            return task
        return super().resolve_task(actor, owner, raw)


class _ReadById(_ForeignById):
    LEAKY = frozenset({"getTask", "getTaskLogs"})


@fault("isolation", "tests/test_isolation.py::test_other_member_cannot_read_the_task", ci=True)
def cross_user_read_by_id(world: World) -> ASGIApp:
    """Another member reads a task (get, logs) by its UUID (RBAC-2, TASKREF-3: member A on member B's task by id →
    404, the task resolver cannot read it)."""
    return serve(world, rules=_ReadById)


class _DeleteById(_ForeignById):
    LEAKY = frozenset({"deleteTask"})


@fault("isolation", "tests/test_isolation.py::test_other_member_cannot_delete_the_task", ci=True)
def cross_user_delete(world: World) -> ASGIApp:
    """Another member deletes a task by its UUID (DELETE-3, RBAC-3: DELETE by a non-owner → 404)."""
    return serve(world, rules=_DeleteById)


class _PatchById(_ForeignById):
    LEAKY = frozenset({"updateTaskInput"})


@fault("isolation", "tests/test_isolation.py::test_other_member_cannot_change_the_prompt")
def cross_user_input_change(world: World) -> ASGIApp:
    """Another member's PATCH /input reaches a task by its UUID (INPUT-6, RBAC-3: another member's task gives 404)."""
    return serve(world, rules=_PatchById)


class _SendById(_ForeignById):
    LEAKY = frozenset({"sendTaskInput"})


@fault("isolation", "tests/test_isolation.py::test_other_member_cannot_send_to_the_task")
def cross_user_send(world: World) -> ASGIApp:
    """Another member's POST /send reaches a task by its UUID (AGENT-4, RBAC-3: no ApplicationConnect on the
    workspace → 404)."""
    return serve(world, rules=_SendById)


class _MembersSeeMembers(World):
    @staticmethod
    def can_read_user(actor: User, user: User) -> bool:
        return True


@fault(
    "isolation",
    "tests/test_isolation.py::test_other_member_cannot_read_the_task[getTask-username-and-name]",
    "tests/test_isolation.py::test_other_member_cannot_read_the_task[getTaskLogs-username-and-name]",
)
def cross_user_read_by_name(world: World) -> ASGIApp:
    """A member may address another member in ``{user}``, and so reach their tasks by name (USER-3: a
    member addressing another member gets 404; RBAC-2: cross-user GET by owner-name/task-name → 404)."""
    return serve(world, rules=_MembersSeeMembers)


class _ListEverything(World):
    def list_tasks(self, actor: User, task_filter: TaskFilter) -> list[Task]:
        with self.lock:
            owner = next(user for user in self.users.values() if user.is_owner)
            return super().list_tasks(owner, task_filter)  # the filter, but not the caller's permissions


# Not test_list.py::test_a_member_sees_only_their_own_tasks: on a fresh target every task that exists when it runs is
# user A's (the run's and the pre-existing ones), so a list that ignores permissions still shows only A's tasks there.
@fault("isolation", "tests/test_isolation.py::test_other_member_does_not_list_the_task", ci=True)
def list_shows_other_members_tasks(world: World) -> ASGIApp:
    """The list holds every member's tasks (LIST-4, RBAC-5: only those the caller may read; a member sees only their
    own)."""
    return serve(world, rules=_ListEverything)


class _Forbidden(World):
    def resolve_task(self, actor: User, owner: User, raw: str) -> Task:
        try:
            return super().resolve_task(actor, owner, raw)
        except NotFound:
            task = self.tasks.get(try_uuid(raw) or "")
            if task is not None and task.deleted_at is None:
                raise Forbidden("Forbidden.") from None
            raise


@fault("isolation", "tests/test_isolation.py::test_other_member_cannot_read_the_task")
def foreign_task_answers_403(world: World) -> ASGIApp:
    """Another member's task UUID answers 403, which tells them the task exists (RBAC-1: an unauthorized read looks
    like "no rows" and becomes 404, so existence is not leaked)."""
    return serve(world, rules=_Forbidden)


class _OwnerFilterSeesMembers(World):
    def parse_query(self, actor: User, q: str) -> TaskFilter:
        with self.lock:

            def user_id_by_name(name: str) -> str | None:
                return next((u.id for u in self.users.values() if u.username.lower() == name), None)

            def org_id_by_name(name: str) -> str | None:
                return next((o.id for o in self.organizations.values() if o.name.lower() == name), None)

            return parse_task_query(
                q, actor_id=actor.id, user_id_by_name=user_id_by_name, org_id_by_name=org_id_by_name
            )


@fault("isolation", "tests/test_isolation.py::test_other_member_cannot_filter_by_the_owners_username")
def owner_filter_resolves_other_members(world: World) -> ASGIApp:
    """``q=owner:<another member's username>`` resolves the name (QUERY-13: the username is looked up *as the caller*,
    so a member cannot resolve another member's username → 400; RBAC-5)."""
    return serve(world, rules=_OwnerFilterSeesMembers)
