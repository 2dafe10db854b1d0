"""Faults in the response bodies' shapes: a field missing or mistyped, an enum value outside its set, the
swagger's misreading of nullable UUIDs, bad timestamps, a wrong ``count``, wrong log entries, list order (SCHEMA,
LIST, LOGS)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp

from coder_tasks_contract.faults.asgi import Reply, map_tasks, on_operations, serve
from coder_tasks_contract.faults.base import fault
from coder_tasks_contract.server.domain.world import World


def _tasks(world: World, change: Callable[[dict[str, Any]], None]) -> ASGIApp:
    """Serve ``world`` with ``change`` applied to every Task that create, get and list return."""
    return serve(world, response=lambda reply: map_tasks(reply, change))


@fault("schema", "tests/test_status_codes.py::test_list_answers_200_with_tasks_and_count", ci=True)
def task_missing_owner_name(world: World) -> ASGIApp:
    """Task bodies leave out ``owner_name`` (SCHEMA-1, SCHEMA-5: every field is always present unless marked omitempty;
    ``owner_name`` is not)."""
    return _tasks(world, lambda task: task.pop("owner_name", None))


@fault("schema", "tests/test_status_codes.py::test_list_answers_200_with_tasks_and_count")
def build_number_as_string(world: World) -> ASGIApp:
    """``workspace_build_number`` is sent as a string, e.g. ``"1"`` (SCHEMA-1: an integer, int32)."""

    def change(task: dict[str, Any]) -> None:
        if "workspace_build_number" in task:
            task["workspace_build_number"] = str(task["workspace_build_number"])

    return _tasks(world, change)


@fault("schema", "tests/test_status_codes.py::test_list_answers_200_with_tasks_and_count")
def agent_lifecycle_outside_enum(world: World) -> ASGIApp:
    """``workspace_agent_lifecycle`` says ``"running"`` where it should say ``"ready"``: a value outside the
    enum (SCHEMA-4: created, starting, start_timeout, start_error, ready, shutting_down, shutdown_timeout,
    shutdown_error, off, or null)."""

    def change(task: dict[str, Any]) -> None:
        if task.get("workspace_agent_lifecycle") == "ready":
            task["workspace_agent_lifecycle"] = "running"

    return _tasks(world, change)


@fault("schema", "tests/test_status_codes.py::test_list_answers_200_with_tasks_and_count")
def task_state_outside_enum(world: World) -> ASGIApp:
    """``current_state.state`` says ``"waiting"`` where it should say ``"idle"`` (SCHEMA-6: working,
    idle, complete, failed; STATE-3: and ``failure`` at 82f525baf3)."""

    def change(task: dict[str, Any]) -> None:
        state = task.get("current_state")
        if isinstance(state, dict) and state.get("state") == "idle":
            state["state"] = "waiting"

    return _tasks(world, change)


@fault("schema", "tests/test_status_codes.py::test_list_answers_200_with_tasks_and_count", ci=True)
def nullable_uuid_as_object(world: World) -> ASGIApp:
    """``workspace_id``, ``workspace_agent_id`` and ``workspace_app_id`` are written as Coder's swagger describes
    ``uuid.NullUUID``, ``{"uuid": ..., "valid": ...}`` (SCHEMA-2, DOCS-2: on the wire they are a UUID string or
    null)."""

    def change(task: dict[str, Any]) -> None:
        for key in ("workspace_id", "workspace_agent_id", "workspace_app_id"):
            value = task.get(key)
            task[key] = {"uuid": value or "00000000-0000-0000-0000-000000000000", "valid": value is not None}

    return _tasks(world, change)


@fault("schema", "tests/test_status_codes.py::test_list_answers_200_with_tasks_and_count")
def created_at_not_rfc3339(world: World) -> ASGIApp:
    """``created_at`` is written as ``2025-11-25 13:00:00.123`` (space, no zone) (SCHEMA-1: an RFC 3339
    date-time)."""

    def change(task: dict[str, Any]) -> None:
        value = task.get("created_at")
        if isinstance(value, str):
            task["created_at"] = value.replace("T", " ").rstrip("Z")

    return _tasks(world, change)


@fault("schema", "tests/test_status_codes.py::test_list_answers_200_with_tasks_and_count", ci=True)
def list_count_off_by_one(world: World) -> ASGIApp:
    """The list's ``count`` is one more than the number of tasks it holds (LIST-1: ``count`` equals
    ``len(tasks)``)."""

    def rewrite(reply: Reply) -> Reply | None:
        if reply.status != 200 or not reply.is_json:
            return None
        body = reply.json()
        body["count"] = len(body.get("tasks") or []) + 1
        return reply.with_json(body)

    return serve(world, response=on_operations({"listTasks"}, rewrite))


@fault("schema", "tests/test_list.py::test_unknown_uuid_filter_answers_an_empty_list")
def empty_list_as_null(world: World) -> ASGIApp:
    """An empty list is written ``{"tasks": null, "count": 0}`` (LIST-1: ``tasks`` is ``[]`` when empty, never
    null)."""

    def rewrite(reply: Reply) -> Reply | None:
        if reply.status != 200 or not reply.is_json:
            return None
        body = reply.json()
        if body.get("tasks") == []:
            body["tasks"] = None
        return reply.with_json(body)

    return serve(world, response=on_operations({"listTasks"}, rewrite))


def _logs(world: World, change: Callable[[dict[str, Any]], None]) -> ASGIApp:
    def rewrite(reply: Reply) -> Reply | None:
        if reply.status != 200 or not reply.is_json:
            return None
        body = reply.json()
        for entry in body.get("logs") or []:
            change(entry)
        return reply.with_json(body)

    return serve(world, response=on_operations({"getTaskLogs"}, rewrite))


@fault("schema", "tests/test_status_codes.py::test_send_answers_204_and_the_input_shows_in_the_logs")
def log_type_is_agentapi_role(world: World) -> ASGIApp:
    """Log entries carry the AgentAPI role, ``user``/``agent``, as ``type`` (LOGS-1: role ``user`` becomes
    ``type: "input"`` and ``agent`` becomes ``"output"``; SCHEMA-7)."""
    roles = {"input": "user", "output": "agent"}
    return _logs(world, lambda entry: entry.update(type=roles.get(str(entry.get("type")), "agent")))


@fault("schema", "tests/test_status_codes.py::test_logs_answers_200_with_log_entries")
def log_id_as_string(world: World) -> ASGIApp:
    """Log entry ids are strings, e.g. ``"3"`` (LOGS-1, SCHEMA-7: ``id`` is the AgentAPI message id, an
    integer)."""
    return _logs(world, lambda entry: entry.update(id=str(entry.get("id"))))


@fault("schema", "tests/test_list.py::test_list_is_newest_first", ci=True)
def list_oldest_first(world: World) -> ASGIApp:
    """The list comes in ``created_at`` ascending order (LIST-3: order is ``created_at`` descending)."""

    def rewrite(reply: Reply) -> Reply | None:
        if reply.status != 200 or not reply.is_json:
            return None
        body = reply.json()
        if body.get("tasks"):
            body["tasks"] = list(reversed(body["tasks"]))
        return reply.with_json(body)

    return serve(world, response=on_operations({"listTasks"}, rewrite))


#: The test that reads a task in the states where Coder sends these keys as null (after a restart: current_state
#: once active, the agent fields while the new agent is not connected yet) and checks every key is there; before it,
#: no test of the suite saw a task past initializing with a null current_state (issue 16).
_NULL_KEYS_SEEN = (
    "tests/test_response_coverage.py::test_a_restarted_task_shows_no_stale_state_and_null_state_keys_are_sent"
)


def _omit_when_null(keys: tuple[str, ...]) -> Callable[[dict[str, Any]], None]:
    def change(task: dict[str, Any]) -> None:
        for key in keys:
            if key in task and task[key] is None:
                del task[key]

    return change


@fault("schema", _NULL_KEYS_SEEN)
def current_state_omitted_when_null(world: World) -> ASGIApp:
    """Task bodies leave out ``current_state`` where it is null, instead of sending ``null`` (SCHEMA-1, STATE-1: the
    key is always present, an entry or null; Go's encoder omits nothing without omitempty)."""
    return _tasks(world, _omit_when_null(("current_state",)))


@fault("schema", "tests/test_status_codes.py::test_list_answers_200_with_tasks_and_count", _NULL_KEYS_SEEN)
def agent_fields_omitted_when_null(world: World) -> ASGIApp:
    """Task bodies leave out ``workspace_agent_id``, ``workspace_agent_lifecycle``, ``workspace_agent_health`` and
    ``workspace_app_id`` while there is no agent, instead of sending ``null`` (SCHEMA-1, SCHEMA-2: always present, a
    value or null).

    Every new task has no agent yet, so the first test to take a pooled task fails in its setup: every wait checks
    each poll against the level's Task schema (``polling._task_body``); in a narrowed run, the restart test."""
    return _tasks(
        world,
        _omit_when_null(
            ("workspace_agent_id", "workspace_agent_lifecycle", "workspace_agent_health", "workspace_app_id")
        ),
    )
