"""Faults in path resolution (USER, TASKREF, ROUTE): ``{user}`` as ``me``, username or UUID; ``{task}`` as UUID or
name; what an unknown user, a workspace id, the docs' doubled prefix or an unknown route answer.

Rules that change only for the task routes check :data:`~coder_tasks_contract.faults.asgi.current_operation`, so
``GET /api/v2/users/me`` (the suite's preflight) keeps working.
"""

from __future__ import annotations

from starlette.types import ASGIApp

from coder_tasks_contract.faults.asgi import Incoming, Reply, current_operation, serve
from coder_tasks_contract.faults.base import Catcher, fault
from coder_tasks_contract.server.domain.entities import Task, User
from coder_tasks_contract.server.domain.errors import NOT_FOUND_MESSAGE, BadRequest, NotFound
from coder_tasks_contract.server.domain.world import USER_PARAM_MESSAGE, World
from coder_tasks_contract.server.golang.gofmt import go_quote, try_uuid

_SPELLINGS = "tests/test_path_resolution.py::test_every_spelling_of_user_and_task_addresses_the_same_task"


def _spelled(*, user: str | None = None, task: str | None = None) -> list[str]:
    """The cases of the spelling test (``[<user spelling>-<task spelling>]``) with this user or task spelling: a
    fault that breaks one spelling is caught by those cases only."""
    users = ("me", "username", "username-upper-case", "user-uuid")
    tasks = ("task-uuid", "task-name", "task-name-upper-case")
    return [f"{_SPELLINGS}[{u}-{t}]" for u in users for t in tasks if user in (None, u) and task in (None, t)]


def _unknown_user(raw: str) -> BadRequest:
    """USER-2's 400 for a ``{user}`` that resolves to nobody."""
    return BadRequest(USER_PARAM_MESSAGE, f"queried user={go_quote(raw)}")


class _MeIsAUsername(World):
    def resolve_user(self, actor: User, raw: str) -> User:
        if raw == "me" and current_operation.get() is not None:
            raise _unknown_user(raw)  # looked up as a username, and nobody is called "me"
        return super().resolve_user(actor, raw)


@fault("paths", Catcher(message=r"creating a shared task answered 400"))
def me_not_resolved(world: World) -> ASGIApp:
    """``me`` in ``{user}`` is looked up as a username (and found by nobody) (USER-1: ``me`` resolves to the
    caller)."""
    return serve(world, rules=_MeIsAUsername)


class _CaseSensitiveUsername(World):
    def resolve_user(self, actor: User, raw: str) -> User:
        user = super().resolve_user(actor, raw)
        if raw != "me" and try_uuid(raw) is None and user.username != raw:
            raise _unknown_user(raw)
        return user


@fault(
    "paths",
    *_spelled(user="username-upper-case"),
    "tests/test_path_resolution.py::test_logs_resolve_by_upper_case_username_and_name",
)
def username_case_sensitive(world: World) -> ASGIApp:
    """A username in ``{user}`` must match in case (USER-1: usernames are looked up case-insensitively)."""
    return serve(world, rules=_CaseSensitiveUsername)


class _NoUserUUID(World):
    def resolve_user(self, actor: User, raw: str) -> User:
        if try_uuid(raw) is not None and current_operation.get() is not None:
            raise _unknown_user(raw)  # looked up as a username only
        return super().resolve_user(actor, raw)


@fault("paths", Catcher(message=r"LifecycleError: .*GET answered 400"), *_spelled(user="user-uuid"))
def user_uuid_not_accepted(world: World) -> ASGIApp:
    """A user UUID in ``{user}`` is looked up as a username (and found by nobody) (USER-1: a UUID is looked
    up by id)."""
    return serve(world, rules=_NoUserUUID)


class _TaskByIdOnly(World):
    def resolve_task(self, actor: User, owner: User, raw: str) -> Task:
        if try_uuid(raw) is None:
            raise NotFound()
        return super().resolve_task(actor, owner, raw)


@fault(
    "paths",
    *_spelled(task="task-name"),
    *_spelled(task="task-name-upper-case"),
    "tests/test_path_resolution.py::test_logs_resolve_by_upper_case_username_and_name",
    ci=True,
)
def task_name_not_resolved(world: World) -> ASGIApp:
    """``{task}`` is looked up by UUID only, never by name (TASKREF-2: a value that is no task UUID is the name
    of one of the ``{user}``'s tasks)."""
    return serve(world, rules=_TaskByIdOnly)


class _CaseSensitiveTaskName(World):
    def resolve_task(self, actor: User, owner: User, raw: str) -> Task:
        task = super().resolve_task(actor, owner, raw)
        if try_uuid(raw) is None and task.name != raw:
            raise NotFound()
        return task


@fault(
    "paths",
    *_spelled(task="task-name-upper-case"),
    "tests/test_path_resolution.py::test_logs_resolve_by_upper_case_username_and_name",
)
def task_name_case_sensitive(world: World) -> ASGIApp:
    """A task name in ``{task}`` must match in case (TASKREF-2: names compare case-insensitively,
    ``LOWER(name)``)."""
    return serve(world, rules=_CaseSensitiveTaskName)


class _UnknownUser404(World):
    def resolve_user(self, actor: User, raw: str) -> User:
        try:
            return super().resolve_user(actor, raw)
        except BadRequest as exc:
            if exc.message == USER_PARAM_MESSAGE:
                raise NotFound() from None
            raise


@fault("paths", "tests/test_path_resolution.py::test_unknown_user_segment_answers_400_with_user_message", ci=True)
def unknown_user_answers_404(world: World) -> ASGIApp:
    """An unknown ``{user}`` answers 404 with the not-found body: the newest servers' behaviour, not 82f525baf3's
    (USER-2: 400 ``"user" must be an existing uuid or username.``; LEVEL-3: 404 only since #22069)."""
    return serve(world, rules=_UnknownUser404)


class _WorkspaceIdIsTaskId(World):
    def resolve_task(self, actor: User, owner: User, raw: str) -> Task:
        try:
            return super().resolve_task(actor, owner, raw)
        except NotFound:
            workspace = self.workspaces.get(try_uuid(raw) or "")
            task = self.tasks.get(workspace.task_id or "") if workspace else None
            if task is None or task.deleted_at is not None or not self.can_access_task(actor, task):
                raise
            return task


@fault("paths", "tests/test_path_resolution.py::test_workspace_id_is_not_a_task_id")
def workspace_id_resolves_task(world: World) -> ASGIApp:
    """A task's workspace UUID in ``{task}`` finds the task (TASKREF-5: workspace IDs are not task IDs; 404)."""
    return serve(world, rules=_WorkspaceIdIsTaskId)


@fault(
    "paths",
    "tests/test_path_resolution.py::test_unknown_route_answers_404_route_not_found[documented-doubled-prefix]",
    "tests/test_path_resolution.py::test_unknown_route_answers_404_route_not_found[documented-doubled-prefix-user]",
)
def doubled_prefix_served(world: World) -> ASGIApp:
    """The URL Coder's 82f525baf3 docs print, ``/api/v2/api/experimental/tasks...``, serves the task routes
    (ROUTE-3, DOCS-1: that URL does not exist; 404 ``Route not found.``)."""
    prefix = "/api/v2/api/experimental/"

    def rewrite(request: Incoming) -> Incoming | None:
        if request.path.startswith(prefix):
            request.path = "/api/experimental/" + request.path[len(prefix) :]
            return request
        return None

    return serve(world, request=rewrite)


@fault("paths", "tests/test_path_resolution.py::test_unknown_route_answers_404_route_not_found")
def unknown_route_not_found_body(world: World) -> ASGIApp:
    """An unknown route answers the resource not-found body, not ``{"message": "Route not found."}`` (ROUTE-3:
    unknown path under ``/api/experimental`` → 404 ``Route not found.``; ERR-2)."""

    def rewrite(reply: Reply) -> Reply | None:
        if reply.status == 404 and reply.is_json and reply.json() == {"message": "Route not found."}:
            return reply.with_json({"message": NOT_FOUND_MESSAGE})
        return None

    return serve(world, response=rewrite)
