"""Isolation between two ordinary members: user B cannot see, change or delete user A's task (RBAC-2, RBAC-3, RBAC-5).

B's writes go to a task of A's that the run created, so the write guard lets them through; a correct server
answers 404 before touching it. That task (``victim``) is not the shared active task: a server that wrongly let B
delete or change it would otherwise take that task down and turn one failure into many. Besides this module, only
test_display_name.py reads it (``display_named_task``), and at the newest level the tests that pause and resume a
task use it (``task_pool.TOGGLE``: the same pooled task). Each check here holds whether A's task is active or paused,
so the tests take it as they find it, once it is one of the two (on a deployment a resume costs a minute).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from coder_tasks_contract.spec.levels import Level
from coder_tasks_contract.target.model import Target, User
from coder_tasks_contract.transport.paths import task_path
from coder_tasks_contract.transport.task_pool import VICTIM, SharedTask, TaskPool

from .support import (
    BAD_QUERY,
    assert_error,
    assert_not_found,
    assert_status,
    json_body,
    list_tasks,
    only_at,
)

pytestmark = pytest.mark.needs_second_user


@pytest.fixture
def victim(client_b: httpx.Client, display_named_task: SharedTask, task_pool: TaskPool) -> SharedTask:
    """User A's task that user B tries to reach in this module (needs client_b, so it skips without B),
    active, or paused where the level has pause and resume and another test left it so."""
    return task_pool.at_rest(VICTIM)


# (user, task) path segments B uses to address A's task.
Address = Callable[[User, SharedTask], tuple[str, str]]

# How B can address A's task. B's own "me" with A's task *name* would designate B's task of that name, which the
# write guard (rightly) refuses for writes; it is checked for reads only.
ADDRESSES = [
    pytest.param(lambda a, task: ("me", task.id), id="me-and-id"),
    pytest.param(lambda a, task: (a.username, task.id), id="username-and-id"),
    pytest.param(lambda a, task: (a.username, task.name), id="username-and-name"),
    pytest.param(lambda a, task: (a.id, task.id), id="user-uuid-and-id"),
]
READ_ADDRESSES = [*ADDRESSES, pytest.param(lambda a, task: ("me", task.name), id="me-and-name")]


@pytest.mark.parametrize("address", READ_ADDRESSES)
@pytest.mark.parametrize(
    "suffix",
    [
        pytest.param("", id="getTask", marks=pytest.mark.operation("getTask", 404)),
        pytest.param("/logs", id="getTaskLogs", marks=pytest.mark.operation("getTaskLogs", 404)),
    ],
)
def test_other_member_cannot_read_the_task(
    client_b: httpx.Client, target: Target, victim: SharedTask, address: Address, suffix: str
) -> None:
    """RBAC-2: B reading A's task (get, logs) by id or by name, under ``me`` or A's username or UUID, gets
    the exact 404 not-found body: existence is not leaked."""
    user, task = address(target.user_a, victim)
    assert_not_found(client_b.get(task_path(user, task, suffix)))


def _assert_unchanged(client_a: httpx.Client, victim: SharedTask) -> None:
    """A still finds the task, with the prompt it was created with."""
    response = client_a.get(task_path("me", victim.id))
    assert_status(response, 200)
    assert json_body(response)["initial_prompt"] == victim.request["input"], "B changed A's task"


@pytest.mark.operation("deleteTask", 404)
@pytest.mark.writes
@pytest.mark.parametrize("address", ADDRESSES)
def test_other_member_cannot_delete_the_task(
    client_a: httpx.Client, client_b: httpx.Client, target: Target, victim: SharedTask, address: Address
) -> None:
    """DELETE-3, RBAC-3: B's DELETE of A's task answers 404 and A's task still exists afterwards."""
    user, task = address(target.user_a, victim)
    assert_not_found(client_b.delete(task_path(user, task)))
    _assert_unchanged(client_a, victim)


@pytest.mark.operation("updateTaskInput", 404)
@pytest.mark.writes
@pytest.mark.parametrize("address", ADDRESSES)
def test_other_member_cannot_change_the_prompt(
    client_a: httpx.Client, client_b: httpx.Client, target: Target, victim: SharedTask, address: Address
) -> None:
    """INPUT-6, RBAC-3: B's PATCH /input on A's task answers 404 and A's prompt is unchanged."""
    user, task = address(target.user_a, victim)
    assert_not_found(client_b.patch(task_path(user, task, "/input"), json={"input": "ctc: written by user B"}))
    _assert_unchanged(client_a, victim)


@pytest.mark.operation("sendTaskInput", 404)
@pytest.mark.writes
@pytest.mark.parametrize("address", ADDRESSES)
def test_other_member_cannot_send_to_the_task(
    client_a: httpx.Client, client_b: httpx.Client, target: Target, run_id: str, victim: SharedTask, address: Address
) -> None:
    """RBAC-3: B's send to A's task answers 404 and nothing B sent reaches A's logs."""
    user, task = address(target.user_a, victim)
    text = f"ctc {run_id}: sent by user B"
    assert_not_found(client_b.post(task_path(user, task, "/send"), json={"input": text}))
    _assert_unchanged(client_a, victim)
    logs = client_a.get(task_path("me", victim.id, "/logs")).json()["logs"]
    assert not any(text in str(entry.get("content")) for entry in logs), "B's input reached A's task"


@pytest.mark.writes
@pytest.mark.parametrize("address", ADDRESSES)
@pytest.mark.parametrize(
    "suffix",
    [
        pytest.param("/pause", id="pauseTask", marks=pytest.mark.operation("pauseTask", 404)),
        pytest.param("/resume", id="resumeTask", marks=pytest.mark.operation("resumeTask", 404)),
    ],
)
def test_other_member_cannot_pause_or_resume_the_task(
    client_a: httpx.Client,
    client_b: httpx.Client,
    target: Target,
    victim: SharedTask,
    level: Level,
    address: Address,
    suffix: str,
) -> None:
    """RBAC-3, PAUSE-1 (newest: #21889, #21948): B's pause or resume of A's task answers 404 and queues no build:
    A's task keeps its status and its latest build."""
    only_at(level, level.pause_resume, "pause and resume arrived after v2.31 (PAUSE-1)")
    user, task = address(target.user_a, victim)
    assert_not_found(client_b.post(task_path(user, task, suffix)))
    after = json_body(client_a.get(task_path("me", victim.id)))
    before = victim.task
    assert (after["status"], after.get("workspace_build_number")) == (
        before["status"],
        before.get("workspace_build_number"),
    ), f"B's {suffix.strip('/')} changed A's task"


@pytest.mark.operation("createTask", 404)
@pytest.mark.writes
def test_other_member_cannot_create_a_task_for_the_owner(client_b: httpx.Client, target: Target, prefix: str) -> None:
    """USER-3: B addressing A's username in ``{user}`` gets 404 from the ``{user}`` resolver, through every
    mount (ROUTE-1). (An empty body: even a server that let B through would fail decoding and create nothing.)"""
    response = client_b.post(task_path(target.user_a.username, prefix=prefix), content=b"")
    assert_not_found(response)


@pytest.mark.operation("listTasks", 200)
def test_other_member_does_not_list_the_task(client_b: httpx.Client, target: Target, victim: SharedTask) -> None:
    """LIST-4, RBAC-5: B's list (no ``q``) holds only B's tasks, not A's."""
    tasks = list_tasks(client_b)
    assert victim.id not in {task["id"] for task in tasks}
    assert {task["owner_id"] for task in tasks} <= {target.user_b.id}


@pytest.mark.operation("listTasks", 200)
def test_other_member_filtering_by_owner_uuid_gets_an_empty_list(
    client_b: httpx.Client, target: Target, victim: SharedTask
) -> None:
    """QUERY-4, RBAC-5: ``owner:<A's UUID>`` is taken as is; B may read none of A's tasks, so the list is empty."""
    assert list_tasks(client_b, f"owner:{target.user_a.id}") == []


@pytest.mark.operation("listTasks", 400)
def test_other_member_cannot_filter_by_the_owners_username(client_b: httpx.Client, target: Target) -> None:
    """QUERY-13, RBAC-5: B cannot resolve A's username, so ``owner:<A's username>`` answers 400 "Invalid task search
    query." with the owner validation."""
    username = target.user_a.username.lower()  # the query is lower-cased before parsing (QUERY-1)
    detail = (
        f'Query param "owner" has invalid value: user "{username}" either does not exist, or you are unauthorized '
        "to view them"
    )
    response = client_b.get("/api/experimental/tasks", params={"q": f"owner:{target.user_a.username}"})
    assert_error(response, 400, BAD_QUERY, None, [{"field": "owner", "detail": detail}])
