"""Faults in the success status codes: each operation answers a 2xx other than the one Coder answers (CREATE-1,
GET-1, LIST-1, DELETE-1, INPUT-1, SEND-1, LOGS-1)."""

from __future__ import annotations

from dataclasses import replace

from starlette.types import ASGIApp

from coder_tasks_contract.faults.asgi import Reply, on_operations, serve
from coder_tasks_contract.faults.base import Catcher, fault
from coder_tasks_contract.server.api.middleware import JSON_TYPE
from coder_tasks_contract.server.domain.world import World
from coder_tasks_contract.server.golang.gofmt import go_json


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


@fault("status", Catcher(message=r"creating a shared task answered 200"), ci=True)
def create_answers_200(world: World) -> ASGIApp:
    """POST /tasks/{user} answers 200, not 201, with the created Task (CREATE-1 "Success: 201 Task")."""
    return _swap(world, "createTask", 201, 200)


@fault("status", "tests/test_status_codes.py::test_list_answers_200_with_tasks_and_count")
def list_answers_201(world: World) -> ASGIApp:
    """GET /tasks answers 201, not 200, with the task list (LIST-1 "200 TasksListResponse")."""
    return _swap(world, "listTasks", 200, 201)


@fault("status", "tests/test_status_codes.py::test_delete_answers_202_without_body", ci=True)
def delete_answers_204(world: World) -> ASGIApp:
    """DELETE /tasks/{user}/{task} answers 204, not 202 (DELETE-1 "202, empty body")."""
    return _swap(world, "deleteTask", 202, 204)


@fault("status", "tests/test_status_codes.py::test_delete_answers_202_without_body")
def delete_answers_200_with_body(world: World) -> ASGIApp:
    """DELETE answers 200 with a JSON message, not 202 with an empty body (DELETE-1 "202, empty body"; ROUTE-9)."""
    return _swap(world, "deleteTask", 202, 200, {"message": "Task deleted."})


@fault("status", "tests/test_status_codes.py::test_update_input_answers_204_and_replaces_initial_prompt", ci=True)
def input_answers_200_with_body(world: World) -> ASGIApp:
    """PATCH /input answers 200 with a JSON message, not 204 with an empty body (INPUT-1 "204, empty body")."""
    return _swap(world, "updateTaskInput", 204, 200, {"message": "Task input updated."})


@fault("status", "tests/test_status_codes.py::test_send_answers_204_and_the_input_shows_in_the_logs")
def send_answers_200(world: World) -> ASGIApp:
    """POST /send answers 200, not 204 (SEND-1 "204, empty body")."""
    return _swap(world, "sendTaskInput", 204, 200)


@fault("status", "tests/test_status_codes.py::test_logs_answers_200_with_log_entries")
def logs_answers_201(world: World) -> ASGIApp:
    """GET /logs answers 201, not 200, with the log entries (LOGS-1 "200 TaskLogsResponse")."""
    return _swap(world, "getTaskLogs", 200, 201)
