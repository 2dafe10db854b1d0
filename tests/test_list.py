"""List semantics: order, count, what each ``q`` filter selects, and that a member sees only their own tasks
(LIST and QUERY clauses, e.g. LIST-1, QUERY-4). Assertions name the tasks this run created and check that no other
owner's task appears; they never assume the target has no other tasks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from coder_tasks_contract.target.model import Target
from coder_tasks_contract.transport.paths import TASKS
from coder_tasks_contract.transport.task_pool import DeletedTask, SharedTask
from coder_tasks_contract.transport.task_registry import TaskRegistry

from .support import assert_status, json_body, list_tasks, parse_time


def _ids(tasks: list[dict[str, Any]]) -> set[str]:
    return {str(task["id"]) for task in tasks}


@pytest.mark.operation("listTasks", 200)
def test_list_is_newest_first(client_a: httpx.Client, active_task: SharedTask, paused_task: SharedTask) -> None:
    """LIST-3: tasks come in ``created_at`` descending order (the run's two shared tasks among them)."""
    tasks = list_tasks(client_a)
    assert {active_task.id, paused_task.id} <= _ids(tasks)
    created = [parse_time(task["created_at"]) for task in tasks]
    assert created == sorted(created, reverse=True), [task["created_at"] for task in tasks]


@pytest.mark.operation("listTasks", 200)
def test_a_member_sees_only_their_own_tasks(client_a: httpx.Client, target: Target, active_task: SharedTask) -> None:
    """LIST-4, RBAC-5: without ``q`` a member's list holds their own tasks and no task of another owner."""
    tasks = list_tasks(client_a)
    assert active_task.id in _ids(tasks)
    assert {task["owner_id"] for task in tasks} == {target.user_a.id}


OWNER_QUERIES = [
    pytest.param(lambda user: "owner:me", id="owner-me"),
    pytest.param(lambda user: 'owner:"me"', id="owner-quoted-me"),
    pytest.param(lambda user: f"owner:{user.username}", id="owner-username"),
    pytest.param(lambda user: f'owner:"{user.username}"', id="owner-quoted-username"),
    pytest.param(lambda user: f"owner:{user.username.upper()}", id="owner-username-upper-case"),
    pytest.param(lambda user: f"owner:{user.id}", id="owner-uuid"),
    pytest.param(lambda user: "OWNER:ME", id="key-and-value-upper-case"),
    pytest.param(lambda user: user.username, id="bare-term-is-owner"),
]


@pytest.mark.operation("listTasks", 200)
@pytest.mark.parametrize("make_q", OWNER_QUERIES)
def test_owner_filter_selects_the_callers_tasks(
    client_a: httpx.Client,
    target: Target,
    active_task: SharedTask,
    paused_task: SharedTask,
    make_q: Callable[[Any], str],
) -> None:
    """QUERY-4, QUERY-1, QUERY-2, QUERY-3: ``owner:`` takes ``me``, a username (case-insensitive: the query is
    lower-cased) or a UUID, quoted or not, and a bare term means owner; each selects the caller's tasks and no one
    else's."""
    tasks = list_tasks(client_a, make_q(target.user_a))
    assert {active_task.id, paused_task.id} <= _ids(tasks)
    assert {task["owner_id"] for task in tasks} == {target.user_a.id}


@pytest.mark.operation("listTasks", 200)
@pytest.mark.parametrize(
    ("q", "wanted"),
    [
        pytest.param("status:active", "active", id="active"),
        pytest.param("status:paused", "paused", id="paused"),
        pytest.param('status:"paused"', "paused", id="quoted"),
        pytest.param("STATUS:ACTIVE", "active", id="upper-case"),
        pytest.param("owner:me status:paused", "paused", id="with-owner"),
    ],
)
def test_status_filter_selects_tasks_in_that_status(
    client_a: httpx.Client, active_task: SharedTask, paused_task: SharedTask, q: str, wanted: str
) -> None:
    """QUERY-6, QUERY-7: ``status:<value>`` selects tasks whose computed status is that value (filters combine with
    AND): the run's active task appears under ``active`` only and its paused task under ``paused`` only."""
    tasks = list_tasks(client_a, q)
    inside, outside = (active_task, paused_task) if wanted == "active" else (paused_task, active_task)
    assert inside.id in _ids(tasks)
    assert outside.id not in _ids(tasks)
    assert {task["status"] for task in tasks} == {wanted}


@pytest.mark.operation("listTasks", 200)
def test_organization_filter_selects_that_organizations_tasks(
    client_a: httpx.Client, active_task: SharedTask, paused_task: SharedTask
) -> None:
    """QUERY-5: ``organization:<uuid>`` (the organization of a task this run created) selects tasks of that
    organization, the run's among them."""
    organization = active_task.task["organization_id"]
    tasks = list_tasks(client_a, f"organization:{organization}")
    assert {active_task.id, paused_task.id} <= _ids(tasks)
    assert {task["organization_id"] for task in tasks} == {organization}


@pytest.mark.operation("listTasks", 200)
@pytest.mark.parametrize("key", ["owner", "organization"])
def test_unknown_uuid_filter_answers_an_empty_list(client_a: httpx.Client, registry: TaskRegistry, key: str) -> None:
    """QUERY-4, QUERY-5: a UUID in ``owner:``/``organization:`` is taken as is, with no existence check: one that
    matches nothing answers 200 ``{"tasks": [], "count": 0}`` (an empty array, never null)."""
    response = client_a.get(TASKS, params={"q": f"{key}:{registry.phantom_id()}"})
    assert_status(response, 200)
    assert json_body(response) == {"tasks": [], "count": 0}


@pytest.mark.operation("listTasks", 200)
def test_deleted_task_is_not_listed(client_a: httpx.Client, deleted_task: DeletedTask) -> None:
    """LIST-2: only non-deleted tasks are listed."""
    assert deleted_task.deletion.status_code == 202, f"the shared task was not deleted: {deleted_task.deletion}"
    assert deleted_task.id not in _ids(list_tasks(client_a, "owner:me"))


@pytest.mark.operation("listTasks", 200)
def test_every_listed_task_matches_its_get(client_a: httpx.Client, active_task: SharedTask) -> None:
    """LIST-5, GET-1: the list and GET describe a task alike (same id, name, owner, organization, template version,
    workspace, prompt)."""
    listed = {task["id"]: task for task in list_tasks(client_a, "owner:me")}[active_task.id]
    got = client_a.get(f"{TASKS}/me/{active_task.id}").json()
    for key in ("name", "owner_id", "organization_id", "template_version_id", "workspace_id", "initial_prompt"):
        assert listed[key] == got[key], key
