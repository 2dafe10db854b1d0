"""Each operation's success status, body (or lack of one), content type, and the created task's contents (ROUTE-8,
ROUTE-9, ROUTE-10, LIST-1, CREATE-1, GET-1, DELETE-1, INPUT-1, SEND-1, LOGS-1).
The reads are checked through every mount of the target's contract level (ROUTE-1)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from coder_tasks_contract.spec.levels import Level
from coder_tasks_contract.target.model import Target
from coder_tasks_contract.transport.paths import task_path
from coder_tasks_contract.transport.task_pool import DeletedTask, SharedTask
from coder_tasks_contract.transport.task_registry import TaskRegistry

from .support import (
    OPERATIONS,
    WRITE_OPERATIONS,
    assert_no_body,
    assert_status,
    assert_task_shape,
    is_integer,
    is_uuid,
    json_body,
    operation_request,
    parse_time,
    poll_until,
    send_input,
)


@pytest.mark.operation("listTasks", 200)
def test_list_answers_200_with_tasks_and_count(
    client_a: httpx.Client, active_task: SharedTask, level: Level, prefix: str
) -> None:
    """LIST-1: GET /tasks answers 200 JSON ``{"tasks": [Task...], "count": N}`` with count == len(tasks)."""
    response = client_a.get(prefix)
    assert_status(response, 200)
    body = json_body(response)
    assert set(body) >= {"tasks", "count"}, body.keys()
    assert body["count"] == len(body["tasks"])
    for task in body["tasks"]:
        assert_task_shape(task, level)
    assert active_task.id in {task["id"] for task in body["tasks"]}


@pytest.mark.operation("createTask", 201)
@pytest.mark.writes
def test_create_answers_201_with_the_task_that_was_asked_for(
    target: Target, active_task: SharedTask, level: Level
) -> None:
    """CREATE-1: POST /tasks/{user} answers 201 JSON with a Task whose name, initial_prompt (= input),
    template_version_id and owner are what the request asked for. (The 201 is the shared task's creation.)"""
    response = active_task.creation
    assert_status(response, 201)
    task = json_body(response)
    assert_task_shape(task, level)
    assert task["name"] == active_task.request["name"]
    assert task["initial_prompt"] == active_task.request["input"]
    assert task["template_version_id"] == active_task.request["template_version_id"]
    assert task["owner_id"] == target.user_a.id
    assert task["owner_name"] == target.user_a.username
    # CREATE-9 (inferred from code order): the workspace is created before the answer, so its id is already set.
    assert is_uuid(task["workspace_id"]), task["workspace_id"]


@pytest.mark.operation("getTask", 200)
def test_get_answers_200_with_the_task(
    target: Target, client_a: httpx.Client, active_task: SharedTask, level: Level, prefix: str
) -> None:
    """GET-1: GET /tasks/{user}/{task} answers 200 JSON with the Task; it matches the created one."""
    response = client_a.get(task_path("me", active_task.id, prefix=prefix))
    assert_status(response, 200)
    task = json_body(response)
    assert_task_shape(task, level)
    created = active_task.creation.json()
    for key in ("id", "name", "owner_id", "organization_id", "template_version_id", "workspace_id", "created_at"):
        assert task[key] == created[key], key
    assert task["status"] == "active"


@pytest.mark.operation("deleteTask", 202)
@pytest.mark.writes
def test_delete_answers_202_without_body(client_a: httpx.Client, deleted_task: DeletedTask) -> None:
    """DELETE-1, ROUTE-9: DELETE answers 202 with an empty body and no content type; the next GET is 404."""
    assert_status(deleted_task.deletion, 202)
    assert_no_body(deleted_task.deletion, content_type=False)
    assert client_a.get(task_path("me", deleted_task.id)).status_code == 404


@pytest.mark.operation("updateTaskInput", 204)
@pytest.mark.writes
def test_update_input_answers_204_and_replaces_initial_prompt(
    target: Target, client_a: httpx.Client, run_id: str, paused_task: SharedTask
) -> None:
    """INPUT-1: PATCH /input on a paused task answers 204 with no body, sets initial_prompt, and starts no build
    (the task stays paused, same build number)."""
    before = client_a.get(task_path("me", paused_task.id)).json()
    prompt = f"ctc {run_id}: replaced prompt"
    response = client_a.patch(task_path("me", paused_task.id, "/input"), json={"input": prompt})
    assert_status(response, 204)
    # ROUTE-10: the JSON writer sets a content type on this 204 (inferred), so only the empty body is the contract.
    assert_no_body(response, content_type=True)
    after = client_a.get(task_path("me", paused_task.id)).json()
    assert after["initial_prompt"] == prompt
    assert after["status"] == "paused"
    assert after.get("workspace_build_number") == before.get("workspace_build_number")


@pytest.mark.operation("sendTaskInput", 204)
@pytest.mark.writes
def test_send_answers_204_and_the_input_shows_in_the_logs(
    target: Target, client_a: httpx.Client, run_id: str, active_task: SharedTask
) -> None:
    """SEND-1, ROUTE-9: POST /send on an active task answers 204 with no body and no content type; the text is
    relayed to the agent as a user message, which the logs then show as an ``input`` entry."""
    text = f"ctc {run_id}: please reply with one word"
    response = send_input(client_a, task_path("me", active_task.id, "/send"), text, timeout=target.lifecycle_timeout)
    assert_status(response, 204)
    assert_no_body(response, content_type=False)
    entries = poll_until(
        lambda: client_a.get(task_path("me", active_task.id, "/logs")).json().get("logs") or [],
        lambda logs: any(entry.get("type") == "input" and text in str(entry.get("content")) for entry in logs),
        target.lifecycle_timeout,
    )
    assert any(entry.get("type") == "input" and text in str(entry.get("content")) for entry in entries), entries


@pytest.mark.operation("getTaskLogs", 200)
def test_logs_answers_200_with_log_entries(client_a: httpx.Client, active_task: SharedTask, prefix: str) -> None:
    """LOGS-1, SCHEMA-7: GET /logs on an active task answers 200 JSON ``{"logs": [TaskLogEntry...]}`` with integer ids,
    string content, type input|output and an RFC 3339 time; the live logs are no snapshot (#21771: ``snapshot``
    is left out)."""
    response = client_a.get(task_path("me", active_task.id, "/logs", prefix=prefix))
    assert_status(response, 200)
    body = json_body(response)
    assert isinstance(body.get("logs"), list), body
    assert "snapshot" not in body, f"an active task's logs are live, not a snapshot: {body.get('snapshot')!r}"
    for entry in body["logs"]:
        assert is_integer(entry.get("id")), entry
        assert isinstance(entry.get("content"), str), entry
        assert entry.get("type") in {"input", "output"}, entry
        parse_time(entry.get("time", ""))


def _operation_params() -> list[Any]:
    return [
        pytest.param(
            operation,
            id=operation,
            marks=[pytest.mark.operation(operation), *([pytest.mark.writes] if operation in WRITE_OPERATIONS else [])],
        )
        for operation in OPERATIONS
    ]


def _assert_coder_headers(response: httpx.Response) -> None:
    assert response.headers.get("x-content-type-options", "").lower() == "nosniff", dict(response.headers)
    assert response.headers.get("x-coder-build-version"), dict(response.headers)


@pytest.mark.parametrize("operation", _operation_params())
def test_every_answer_carries_coders_middleware_headers(
    operation: str, client_a: httpx.Client, registry: TaskRegistry, active_task: SharedTask
) -> None:
    """ROUTE-5: Coder's outer middleware sets ``X-Content-Type-Options: nosniff`` and ``X-Coder-Build-Version`` on every
    response: checked on an error answer of each operation (a task that cannot exist, or an empty create body) and,
    for the reads, on their success answer."""
    method, path, kwargs = operation_request(operation, "me", registry.phantom_id())
    error = client_a.request(method, path, **kwargs)
    assert error.status_code >= 400 or operation == "listTasks", error.status_code
    _assert_coder_headers(error)
    if method == "GET":
        _, path, _ = operation_request(operation, "me", active_task.id)
        success = client_a.get(path)
        assert_status(success, 200)
        _assert_coder_headers(success)
