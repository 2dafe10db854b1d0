"""The suite's fixtures compose (issue 15): a ``target`` a user's conftest overrides is what the guard, the clients and
the task factory address, on the wire, and what the cleanup empties; and the task pool creates each state's task
once, all of them before the first test waits on any.

The run is aimed (``--base-url``) at one reference server while the conftest's ``target`` names another one, with
that server's user A token: only the second may see the tasks, the task reads and the cleanup."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from coder_tasks_contract.server.domain.clock import ManualClock
from coder_tasks_contract.spec import levels
from coder_tasks_contract.transport import polling, task_pool
from coder_tasks_contract.transport.paths import task_path
from coder_tasks_contract.transport.task_pool import TaskFactory, TaskPool
from coder_tasks_contract.transport.task_registry import TaskRegistry

from .support import clean_env, run_pytest, target_args

OVERRIDE = """
import dataclasses
import os

import pytest

from coder_tasks_contract.plugin.fixtures import resolve_target
from coder_tasks_contract.target.secret import Secret


@pytest.fixture(scope="session")
def target(request):
    resolved = resolve_target(request.config)
    user_a = dataclasses.replace(resolved.user_a, token=Secret(os.environ["OTHER_TOKEN"]))
    user_b = dataclasses.replace(resolved.user_b, token=Secret(os.environ["OTHER_TOKEN_B"]))
    return dataclasses.replace(
        resolved,
        base_url=os.environ["OTHER_URL"],
        user_a=user_a,
        user_b=user_b,
        template_version_id=os.environ["OTHER_TEMPLATE"],
    )
"""

TESTS = """
def test_make_task_and_client_a_follow_the_target(make_task, client_a, target):
    task = make_task()
    assert str(client_a.base_url).rstrip("/") == target.base_url.rstrip("/")
    assert client_a.get(f"/api/experimental/tasks/me/{task['id']}").status_code == 200


def test_make_client_follows_the_target(make_client, target):
    response = make_client(target.user_a).get("/api/v2/users/me")
    assert response.status_code == 200
    assert str(response.request.url).startswith(target.base_url)
"""


def _task_writes(server: Any) -> list[tuple[str, str]]:
    return [
        (str(record["method"]), str(record["path"]))
        for record in server.requests
        if "/tasks" in str(record["path"]) and record["method"] != "GET"
    ]


@pytest.fixture
def newest_pool(reference_server_factory: Callable[..., Any]) -> tuple[TaskPool, Any]:
    """A task pool on a fast reference server at the newest level (two mounts, pause and resume), and the server."""
    server = reference_server_factory(speed="fast", coder_version="newest", record=True)
    return _pool(server, "newest")[0], server


def _build_posts(server: Any) -> list[str]:
    """The paths of the workspace builds (starts and stops) the server was asked for, in order."""
    return [str(r["path"]) for r in server.requests if str(r["path"]).endswith("/builds") and r["method"] == "POST"]


def test_overriding_target_changes_what_the_clients_send(
    mini_suite: Callable[..., Path], reference_server_factory: Callable[..., Any]
) -> None:
    aimed = reference_server_factory(speed="fast", record=True)
    other = reference_server_factory(speed="fast", record=True)
    project = mini_suite(TESTS)
    with (project / "conftest.py").open("a") as conftest:
        conftest.write(OVERRIDE)
    seed = other.seed
    env = clean_env(
        OTHER_URL=seed.url,
        OTHER_TOKEN=seed.users["alice"].token,
        OTHER_TOKEN_B=seed.users["bob"].token,
        OTHER_TEMPLATE=str(seed.template_versions["ai_task"]),
    )
    run = run_pytest(*target_args(aimed, "--run-label", "compose"), cwd=project, env=env)
    assert run.ret == 0, run.output
    # The create and the cleanup's DELETE went to the conftest's target, none to the one --base-url named.
    writes = _task_writes(other)
    assert [method for method, _ in writes] == ["POST", "DELETE"], writes
    assert _task_writes(aimed) == []
    assert "cleanup: deleted 1 task(s) this run created; none left" in run.output


def _pool(server: Any, level: str = "82f") -> tuple[TaskPool, TaskRegistry]:
    seed = server.seed
    client = httpx.Client(base_url=seed.url, headers={"Coder-Session-Token": seed.users["alice"].token})
    registry = TaskRegistry("pooltest")
    factory = TaskFactory(
        template_version_id=str(seed.template_versions["ai_task"]),
        registry=registry,
        client=client,
        lifecycle_timeout=30.0,
    )
    return TaskPool(factory, levels.get(level)), registry


def test_the_pool_creates_every_state_before_awaiting_any_and_each_once(
    reference_server_factory: Callable[..., Any],
) -> None:
    server = reference_server_factory(speed="fast", record=True)
    pool, registry = _pool(server)
    pool.prefetch([task_pool.ACTIVE, task_pool.PAUSED, task_pool.DELETED, task_pool.TOGGLE, task_pool.ACTIVE])
    # Three creates (TOGGLE needs pause and resume, which 82f lacks) and nothing else until a test takes a task.
    assert [method for method, _ in _task_writes(server)] == ["POST"] * 3, _task_writes(server)
    assert pool.shared(task_pool.PAUSED).task["status"] == "paused"
    writes = _task_writes(server)
    assert writes[3][0] == "DELETE", writes  # the delete went out before the stop was awaited
    assert pool.shared(task_pool.ACTIVE).task["status"] == "active"
    assert pool.deleted().deletion.status_code == 202
    assert pool.shared(task_pool.ACTIVE) is pool.shared(task_pool.ACTIVE)
    assert len(registry.entries()) == 3  # taken twice, created once


def test_a_first_build_test_gets_the_task_to_be_deleted_while_it_still_builds(
    reference_server_factory: Callable[..., Any], clock: ManualClock
) -> None:
    # The clock stands still: every first build stays queued, as on a deployment where it takes a minute.
    server = reference_server_factory(speed="fast", clock=clock, record=True)
    pool, registry = _pool(server)
    pool.prefetch([task_pool.ACTIVE, task_pool.DELETED])
    first, second = pool.unsettled(), pool.unsettled()
    to_delete = registry.entries()[1]  # created in the order asked: ACTIVE, then DELETED
    assert first["id"] == second["id"] == to_delete.id
    assert first["workspace_status"] in task_pool.FIRST_BUILD_BUSY
    assert [method for method, _ in _task_writes(server)] == ["POST"] * 2  # no third task for the 409 tests


def test_a_state_that_failed_is_raised_to_each_test_that_takes_it(
    reference_server_factory: Callable[..., Any],
) -> None:
    server = reference_server_factory(speed="fast")
    pool, _ = _pool(server)
    pool.factory.template_version_id = "00000000-0000-4000-8000-000000000000"  # no such version: every create is 400
    pool.prefetch([task_pool.ACTIVE])  # does not raise: the failure belongs to the tests that take the task
    for _ in range(2):
        with pytest.raises(task_pool.TaskCreateError, match="creating a shared task answered 400"):
            pool.shared(task_pool.ACTIVE)


def test_the_task_that_is_paused_and_resumed_is_handed_out_active(
    reference_server_factory: Callable[..., Any],
) -> None:
    server = reference_server_factory(speed="fast", coder_version="newest")
    pool, _ = _pool(server, "newest")
    victim = pool.shared(task_pool.VICTIM)
    # A taker that paused it and stopped there (a failed test, or a generated pause case).
    polling.pause_task(pool.factory.client, victim.task, 30.0)
    toggled = pool.active(task_pool.TOGGLE)
    assert toggled.id == victim.id  # the same pooled task
    assert toggled.task["status"] == "active"
    assert pool.unsettled()["workspace_status"] in task_pool.FIRST_BUILD_BUSY


def test_the_paused_tasks_stop_is_awaited_by_its_first_taker_only(
    reference_server_factory: Callable[..., Any],
) -> None:
    server = reference_server_factory(speed="fast", record=True)
    pool, registry = _pool(server)
    pool.prefetch([task_pool.ACTIVE, task_pool.PAUSED])
    pool.shared(task_pool.ACTIVE)
    paused_id = registry.entries()[1].id  # created in the order asked: ACTIVE, then PAUSED
    paths = [str(record["path"]) for record in server.requests]
    stops = [i for i, record in enumerate(server.requests) if str(record["path"]).endswith("/builds")]
    assert len(stops) == 1, paths  # the stop is queued while the ACTIVE taker is served...
    assert not [path for path in paths[stops[0] :] if path.endswith(paused_id)], paths  # ...and not polled
    assert pool.shared(task_pool.PAUSED).task["status"] == "paused"  # its first taker waits for it


def test_a_task_taken_at_rest_is_handed_out_paused_if_a_taker_left_it_paused(
    newest_pool: tuple[TaskPool, Any],
) -> None:
    pool, server = newest_pool
    victim = pool.shared(task_pool.VICTIM)
    polling.queue_build(pool.factory.client, victim.task, "stop", 30.0)  # a generated pause, not awaited
    at_rest = pool.at_rest(task_pool.VICTIM)
    assert at_rest.task["status"] == "paused"  # waited for the stop, not resumed: no start build queued
    builds = _build_posts(server)
    assert len(builds) == 1, builds  # the stop only


def test_a_taker_that_deleted_the_pools_task_to_delete_hands_it_over_as_the_deleted_task(
    reference_server_factory: Callable[..., Any], clock: ManualClock
) -> None:
    """The 409-during-first-build test lost its race (the build finished between its GET and its DELETE, which a
    fast target allows): the pool's task to delete is gone, and the deleted-task takers must not get a 404 for it."""
    server = reference_server_factory(speed="fast", clock=clock, record=True)
    pool, _ = _pool(server)
    pool.prefetch([task_pool.DELETED])
    caught = pool.unsettled()  # the pool's task to delete, its first build still queued
    clock.advance(600)  # ...and over before the taker's DELETE
    deletion = pool.factory.client.delete(task_path("me", str(caught["id"])))
    assert deletion.status_code == 202
    pool.deleted_by_taker(str(caught["id"]), deletion)
    deleted = pool.deleted()
    assert (deleted.id, deleted.deletion.status_code) == (caught["id"], 202)
    assert [method for method, _ in _task_writes(server)] == ["POST", "DELETE"]  # no second delete, no new task


def test_between_tests_the_pool_finishes_its_tasks_once_their_first_builds_are_over(
    reference_server_factory: Callable[..., Any], clock: ManualClock
) -> None:
    server = reference_server_factory(speed="fast", clock=clock, record=True)
    pool, _ = _pool(server)
    pool.prefetch([task_pool.ACTIVE, task_pool.PAUSED, task_pool.DELETED])
    pool.settle_if_built()  # the clock stands still: every first build is still queued
    assert [method for method, _ in _task_writes(server)] == ["POST"] * 3
    clock.advance(600)
    pool.settle_if_built()  # all over: the delete and the stop go out, neither awaited
    writes = _task_writes(server)
    assert [method for method, _ in writes] == ["POST"] * 3 + ["DELETE"], writes
    stops = _build_posts(server)
    assert len(stops) == 1, stops


def test_the_paused_task_a_taker_started_is_paused_again_by_its_next_taker_only(
    newest_pool: tuple[TaskPool, Any],
) -> None:
    pool, server = newest_pool
    paused = pool.shared(task_pool.PAUSED)
    polling.resume_task(pool.factory.client, paused.task, 30.0)  # the restarted-task test, as it leaves it
    pool.moved(task_pool.PAUSED)
    assert pool.at_rest(task_pool.PAUSED).task["status"] == "active"  # as left: at_rest puts nothing back
    assert pool.shared(task_pool.PAUSED).task["status"] == "paused"  # a shared() taker gets it paused again
    builds = _build_posts(server)
    assert len(builds) == 3, builds  # the pool's stop, the start, the stop for the next taker: no more
    assert pool.shared(task_pool.PAUSED).task["status"] == "paused"
    with pytest.raises(ValueError, match="only the 'paused' task"):
        pool.moved(task_pool.ACTIVE)
