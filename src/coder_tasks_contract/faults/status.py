"""Faults in the success status codes: each operation answers a 2xx other than the one the note gives (§3)."""

from __future__ import annotations

from dataclasses import replace

from starlette.types import ASGIApp

from coder_tasks_contract.faults.asgi import Reply, on_operations, serve
from coder_tasks_contract.faults.base import fault
from coder_tasks_contract.server.gofmt import go_json
from coder_tasks_contract.server.middleware import JSON_TYPE
from coder_tasks_contract.server.model import World


def _swap(world: World, operation: str, was: int, now: int, body: object = None) -> ASGIApp:
    """Serve ``world`` with ``operation``'s ``was`` status replaced by ``now`` (and, if given, a JSON body)."""

    def rewrite(reply: Reply) -> Reply | None:
        if reply.status != was:
            return None
        changed = replace(reply, status=now)
        if body is not None:
            changed = replace(changed.with_header("content-type", JSON_TYPE), body=go_json(body))
        return changed

    return serve(world, response=on_operations({operation}, rewrite))


@fault("status", "test_create_answers_201", "creating a shared task answered 200", ci=True)
def create_answers_200(world: World) -> ASGIApp:
    """POST /tasks/{user} answers 200, not 201, with the created Task (§3.2 "Success: 201 Task")."""
    return _swap(world, "createTask", 201, 200)


@fault("status", "test_list_answers_200", "list_tasks", "test_list")
def list_answers_201(world: World) -> ASGIApp:
    """GET /tasks answers 201, not 200, with the task list (§3.1 "200 TasksListResponse")."""
    return _swap(world, "listTasks", 200, 201)


@fault("status", "test_delete_answers_202", ci=True)
def delete_answers_204(world: World) -> ASGIApp:
    """DELETE /tasks/{user}/{task} answers 204, not 202 (§3.4 "202, empty body")."""
    return _swap(world, "deleteTask", 202, 204)


@fault("status", "test_delete_answers_202")
def delete_answers_200_with_body(world: World) -> ASGIApp:
    """DELETE answers 200 with a JSON message, not 202 with an empty body (§3.4 "202, empty body"; §1)."""
    return _swap(world, "deleteTask", 202, 200, {"message": "Task deleted."})


@fault("status", "test_update_input_answers_204", ci=True)
def input_answers_200_with_body(world: World) -> ASGIApp:
    """PATCH /input answers 200 with a JSON message, not 204 with an empty body (§3.5 "204, empty body")."""
    return _swap(world, "updateTaskInput", 204, 200, {"message": "Task input updated."})


@fault("status", "test_send_answers_204", "test_send_accepts_whitespace_only_input")
def send_answers_200(world: World) -> ASGIApp:
    """POST /send answers 200, not 204 (§3.6 "204, empty body")."""
    return _swap(world, "sendTaskInput", 204, 200)


@fault("status", "test_logs_answers_200", "test_logs_resolve_by")
def logs_answers_201(world: World) -> ASGIApp:
    """GET /logs answers 201, not 200, with the log entries (§3.7 "200 TaskLogsResponse")."""
    return _swap(world, "getTaskLogs", 200, 201)
