"""Answers the rest of the suite does not reliably show (issue 16): the task list filtered by every status value, and
a task restarted after a stop, whose ``current_state`` and agent fields Coder derives afresh. Each check holds on any
deployment; together they make the coverage criteria (``ledger.md``) see ``current_state`` null while active, the
agent fields null during a restart, and every ``status:`` value of ``q``, at every mount of the level."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from coder_tasks_contract.spec.levels import Level
from coder_tasks_contract.spec.vocabulary import TASK_STATUSES
from coder_tasks_contract.target.model import Target
from coder_tasks_contract.transport import paths, polling
from coder_tasks_contract.transport.task_pool import PAUSED, TaskPool

from .support import assert_status, assert_task_shape, json_body, parse_time


def _list(client: httpx.Client, prefix: str, q: str | None = None) -> list[dict[str, Any]]:
    response = client.get(prefix, params=None if q is None else {"q": q})
    assert_status(response, 200)
    body = json_body(response)
    assert isinstance(body, dict), f"TasksListResponse: {body!r}"
    assert isinstance(body.get("tasks"), list), f"TasksListResponse.tasks: {body!r}"
    return list(body["tasks"])


@pytest.mark.operation("listTasks", 200)
@pytest.mark.parametrize("status", TASK_STATUSES)
def test_the_list_filtered_by_each_status_holds_only_tasks_of_that_status(
    client_a: httpx.Client, level: Level, prefix: str, status: str
) -> None:
    """QUERY-6, LIST-1: ``q=status:<value>`` for each TaskStatus value answers 200 with only tasks whose computed
    status (STATUS-1) is that value (none is fine: the filter, not the data, is under test)."""
    tasks = _list(client_a, prefix, f"status:{status}")
    assert [task["status"] for task in tasks if task.get("status") != status] == []
    for task in tasks:
        assert_task_shape(task, level)


@pytest.mark.operation("getTask", 200)
@pytest.mark.operation("listTasks", 200)
@pytest.mark.writes
@pytest.mark.needs_template
@pytest.mark.pooled(PAUSED)
@pytest.mark.moves_pooled
def test_a_restarted_task_shows_no_stale_state_and_null_state_keys_are_sent(
    client_a: httpx.Client, target: Target, level: Level, task_pool: TaskPool
) -> None:
    """STATE-5, STATE-4, STATE-1, SCHEMA-1: the pooled paused task started again (a ``start`` build, as its owner
    would queue it). While it initializes, ``current_state`` is the synthesised ``working`` entry stamped with the new
    build's creation, or a report newer than that build; once active, it is ``null`` or a report newer than the build
    (the pre-stop status is dropped). Every answer carries every Task key, nullable ones as ``null`` when they have
    no value (the agent fields before the new agent connects). Read through each mount, GET and list alike; the
    pool pauses the task again for its next taker (``task_pool.moved``), and this test runs last (``moves_pooled``),
    so on a deployment a default run waits for no stop nobody needs."""
    task = task_pool.shared(PAUSED).task
    timeout = target.lifecycle_timeout
    response = client_a.post(paths.workspace_path(str(task["workspace_id"]), "/builds"), json={"transition": "start"})
    assert response.status_code in (200, 201), response.text[:300]
    task_pool.moved(PAUSED)  # started: its next taker pauses it again (this test runs last, so none does)
    build = json_body(response)
    started = parse_time(str(build["created_at"]))
    for seen in _reads(client_a, level, task["id"]):
        if seen["status"] == "initializing":
            state = seen["current_state"]
            assert state is not None, "an initializing task always has a current_state (STATE-4)"
            # The synthesised entry carries the build's creation time, a report a later one (STATE-4, STATE-2).
            assert parse_time(state["timestamp"]) >= started, (state, build)
    polling.wait_for_status(client_a, task, {"active"}, timeout)
    for seen in _reads(client_a, level, task["id"]):
        if seen["status"] == "active" and seen["current_state"] is not None:
            assert parse_time(seen["current_state"]["timestamp"]) > started, (seen["current_state"], build)


def _reads(client: httpx.Client, level: Level, task_id: str) -> list[dict[str, Any]]:
    """The task as GET and the list show it at every mount of the level, each a complete Task (SCHEMA-1)."""
    seen = []
    for prefix in level.prefixes:
        response = client.get(paths.task_path("me", task_id, prefix=prefix))
        assert_status(response, 200)
        seen.append(json_body(response))
        seen += [task for task in _list(client, prefix) if task.get("id") == task_id]
    for task in seen:
        assert_task_shape(task, level)  # every required key, the nullable ones included (SCHEMA-1)
    return seen
