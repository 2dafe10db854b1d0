"""Errors that depend on a task's state, each with the exact body Coder gives (INPUT, SEND, LOGS, AGENT,
DELETE clauses; TASKREF-4): blank
input, PATCH /input on a task that is not paused, send and logs on one that is not active or busy, DELETE during a
build, and every operation on a deleted task."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from coder_tasks_contract.spec.levels import Level
from coder_tasks_contract.target.model import Target
from coder_tasks_contract.transport.paths import task_path
from coder_tasks_contract.transport.task_pool import DeletedTask, SharedTask, TaskPool

from .support import (
    APP_REJECTED,
    BUILD_ACTIVE,
    INPUT_REQUIRED,
    MUST_BE_PAUSED,
    MUST_BE_PAUSED_DETAIL,
    SOME_TEXT,
    assert_error,
    assert_no_body,
    assert_not_found,
    assert_refusal,
    assert_status,
    only_at,
    send_input,
)

# Fresh tasks the DELETE-during-build test may use when a fast target finishes a build between its GET and DELETE.
DELETE_ATTEMPTS = 3


# --- PATCH /input (INPUT-1) --------------------------------------------------------------------------------------


@pytest.mark.operation("updateTaskInput", 400)
@pytest.mark.writes
@pytest.mark.parametrize(
    "text", [pytest.param("", id="empty"), pytest.param("   ", id="spaces"), pytest.param("\n\t ", id="whitespace")]
)
def test_update_input_blank_answers_400(client_a: httpx.Client, active_task: SharedTask, text: str) -> None:
    """INPUT-3: an input that is empty after trimming whitespace answers 400 ``{"message": "Task input is
    required."}``, checked before the task's status (the task here is active, which would be a 409)."""
    response = client_a.patch(task_path("me", active_task.id, "/input"), json={"input": text})
    assert_error(response, 400, INPUT_REQUIRED)


@pytest.mark.operation("updateTaskInput", 409)
@pytest.mark.writes
def test_update_input_on_a_task_that_is_not_paused_answers_409(
    client_a: httpx.Client, active_task: SharedTask, prefix: str
) -> None:
    """INPUT-4: PATCH /input on an active task answers 409 "Unable to update task input, task must be paused."
    with detail "Please stop the task's workspace before updating the input." and leaves the prompt alone, through
    every mount (ROUTE-1)."""
    path = task_path("me", active_task.id)
    before = client_a.get(path).json()["initial_prompt"]
    response = client_a.patch(
        task_path("me", active_task.id, "/input", prefix=prefix), json={"input": "ctc: must not be stored"}
    )
    assert_error(response, 409, MUST_BE_PAUSED, MUST_BE_PAUSED_DETAIL)
    assert client_a.get(path).json()["initial_prompt"] == before


# --- send and logs (SEND-1, LOGS-1, AGENT-1) -------------------------------------------------------------------------


@pytest.mark.operation("sendTaskInput", 400)
@pytest.mark.writes
def test_send_empty_input_answers_400(client_a: httpx.Client, active_task: SharedTask) -> None:
    """SEND-3: send with ``input == ""`` answers 400 ``{"message": "Task input is required."}``."""
    response = client_a.post(task_path("me", active_task.id, "/send"), json={"input": ""})
    assert_error(response, 400, INPUT_REQUIRED)


@pytest.mark.operation("sendTaskInput", 204)
@pytest.mark.writes
def test_send_accepts_whitespace_only_input(client_a: httpx.Client, target: Target, active_task: SharedTask) -> None:
    """SEND-3, SEND-5: unlike PATCH /input, send compares with "" exactly, so a whitespace-only input is relayed
    to the task's app instead of refused with 400. What the app does with it is the app's: one that takes it
    answers 204; coder/agentapi trims it to nothing and refuses it, which Coder answers 502 "Task app rejected
    the message."."""
    path = task_path("me", active_task.id, "/send")
    response = send_input(client_a, path, "  ", timeout=target.lifecycle_timeout)
    if response.status_code == 502:
        assert_error(response, 502, APP_REJECTED, detail=SOME_TEXT)
    else:
        assert_status(response, 204)
        assert_no_body(response, content_type=False)


def _paused_refusal(level: Level, suffix: str) -> Any:
    """How the level refuses send or logs on a paused task (None: logs answer the stored snapshot instead)."""
    return level.send_refusal("paused") if suffix == "/send" else level.logs_refusal("paused")


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        pytest.param(
            "POST",
            "/send",
            id="sendTaskInput",
            marks=[pytest.mark.operation("sendTaskInput", 400), pytest.mark.writes],
        ),
        pytest.param("GET", "/logs", id="getTaskLogs", marks=pytest.mark.operation("getTaskLogs", 400)),
    ],
)
def test_send_and_logs_on_a_paused_task_answer_400(
    client_a: httpx.Client, paused_task: SharedTask, level: Level, method: str, suffix: str, prefix: str
) -> None:
    """AGENT-1: send and logs need an active task; on a paused one they answer 400 "Task status must be
    active." with detail ``Task status is "paused", it must be "active" to interact with the task.``, through every
    mount (levels 82f and 2.29; at the newest send answers 409 and logs the stored snapshot, see the tests below)."""
    refusal = _paused_refusal(level, suffix)
    only_at(
        level,
        refusal is not None and refusal.status == 400,
        "409 or a log snapshot since #21887/#21771 (AGENT-2, LOGS-3)",
    )
    kwargs: dict[str, Any] = {"json": {"input": "ctc: must not be relayed"}} if method == "POST" else {}
    path = task_path("me", paused_task.id, suffix, prefix=prefix)
    assert_refusal(client_a.request(method, path, **kwargs), refusal)


@pytest.mark.operation("sendTaskInput", 409)
@pytest.mark.writes
def test_send_on_a_paused_task_answers_409(
    client_a: httpx.Client, paused_task: SharedTask, level: Level, prefix: str
) -> None:
    """AGENT-2 (newest, #21887): send on a paused task answers 409 "Task is paused." with detail "Resume the
    task to send messages.", through every mount, and relays nothing."""
    refusal = level.send_refusal("paused")
    only_at(level, refusal.status == 409, "send on a paused task answers 400 before #21887 (AGENT-2)")
    path = task_path("me", paused_task.id, "/send", prefix=prefix)
    assert_refusal(client_a.post(path, json={"input": "ctc: must not be relayed"}), refusal)


@pytest.mark.operation("sendTaskInput")  # 502 or 409: the level says which
@pytest.mark.writes
def test_send_while_the_agent_works_answers_not_ready(
    client_a: httpx.Client, target: Target, run_id: str, active_task: SharedTask, level: Level
) -> None:
    """SEND-4: while the agent still works on the previous message (AgentAPI not ``stable``), send answers
    "Task app is not ready to accept input." with the level's status: 502 at 82f525baf3, 409 since #23424.

    Two messages back to back; the second must find the agent busy, which a target whose agent answers before
    the next request arrives cannot show: then the test skips, saying so."""
    path = task_path("me", active_task.id, "/send")
    text = f"ctc {run_id}: first of two messages, reply briefly"
    first = send_input(client_a, path, text, timeout=target.lifecycle_timeout)
    assert_status(first, 204)
    second = client_a.post(path, json={"input": f"ctc {run_id}: second message, sent while you work"})
    if second.status_code == 204:
        pytest.skip("the agent had already answered the first message when the second arrived")
    assert_refusal(second, level.send_app_not_ready)


# --- DELETE (DELETE-1) --------------------------------------------------------------------------------------------


@pytest.mark.operation("deleteTask", 409)
@pytest.mark.writes
@pytest.mark.needs_template
@pytest.mark.first_build
def test_delete_while_the_first_build_runs_answers_409(
    client_a: httpx.Client, task_pool: TaskPool, prefix: str
) -> None:
    """DELETE-2: DELETE while a build job is queued or running answers 409 ``{"message": "A workspace build is already
    active.", "detail": "A workspace build is already active."}`` and deletes nothing.

    Needs a task caught before its first build finishes (``task_pool.unsettled``: shared with the other tests that
    need one while that build lasts, as a 409 changes nothing): a GET right before the DELETE must show the build
    busy (workspace_status pending/starting), else the 409 cannot be forced and the attempt does not count. A 202
    after such a GET is either the bug or a build that finished in the instant between GET and DELETE; only a fast
    target can lose that race, so a fresh task is tried (at most DELETE_ATTEMPTS), and the test fails when every
    attempt answered 202 and skips when the builds were always finished before the check. Once per mount (ROUTE-1):
    each alias's handler is held to the rule."""
    outcomes = []
    for _ in range(DELETE_ATTEMPTS):
        task = task_pool.unsettled()
        path = task_path("me", str(task["id"]), prefix=prefix)
        before = client_a.get(path).json().get("workspace_status")
        if before not in {"pending", "starting"}:
            outcomes.append(f"build already finished (workspace_status {before!r})")
            continue
        response = client_a.delete(path)
        if response.status_code == 202:
            task_pool.deleted_by_taker(str(task["id"]), response)
            outcomes.append(f"202 although workspace_status was {before!r} just before")
            continue
        assert_error(response, 409, BUILD_ACTIVE, BUILD_ACTIVE)
        assert client_a.get(path).status_code == 200, "the task was deleted despite the 409"
        return
    if all(outcome.startswith("202") for outcome in outcomes):
        pytest.fail("DELETE during a running build never answered 409: " + "; ".join(outcomes), pytrace=False)
    pytest.skip("could not catch a first build running (this target builds too fast): " + "; ".join(outcomes))


def _deleted_params() -> list[Any]:
    # Writes go by id only: the write guard refuses a deleted task's name (another task may take it, TASKREF-4).
    cases = [
        ("getTask", "GET", "id", ""),
        ("getTask", "GET", "name", ""),
        ("deleteTask", "DELETE", "id", ""),
        ("updateTaskInput", "PATCH", "id", "/input"),
        ("sendTaskInput", "POST", "id", "/send"),
        ("getTaskLogs", "GET", "id", "/logs"),
        ("getTaskLogs", "GET", "name", "/logs"),
    ]
    params = []
    for operation, method, by, suffix in cases:
        marks = [pytest.mark.operation(operation, 404)]
        if method != "GET":
            marks.append(pytest.mark.writes)
        params.append(pytest.param(method, by, suffix, id=f"{operation}-by-{by}", marks=marks))
    return params


@pytest.mark.parametrize(("method", "by", "suffix"), _deleted_params())
def test_every_operation_on_a_deleted_task_answers_404(
    client_a: httpx.Client, deleted_task: DeletedTask, method: str, by: str, suffix: str
) -> None:
    """TASKREF-4, DELETE-1: a deleted task is never returned again: get, delete, PATCH /input, send and logs on it
    answer the exact 404 not-found body, by id and by name."""
    assert deleted_task.deletion.status_code == 202, f"the shared task was not deleted: {deleted_task.deletion}"
    task = deleted_task.id if by == "id" else deleted_task.name
    kwargs: dict[str, Any] = {"json": {"input": "ctc: probe"}} if method in {"PATCH", "POST"} else {}
    assert_not_found(client_a.request(method, task_path("me", task, suffix), **kwargs))
