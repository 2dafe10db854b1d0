"""Shortcuts of the reference server's domain-model self-tests: the fast speed's timings and helpers that
create, activate and stop tasks in a seeded ``World`` by stepping its ManualClock. Each test file declares its own
``clock``/``world``/``seed`` fixtures: a fixture imported from here would be shadowed by the test arguments (F811)."""

from __future__ import annotations

from coder_tasks_contract.server.domain.clock import ManualClock
from coder_tasks_contract.server.domain.entities import Task
from coder_tasks_contract.server.domain.seed import SeedInfo
from coder_tasks_contract.server.domain.world import World

STAGE = 0.06  # the "fast" speed's stage length, seconds
WORK = 0.15  # the "fast" speed's reply time


def user(world: World, seed: SeedInfo, key: str):  # type: ignore[no-untyped-def]
    return world.users[seed.users[key].id]


def create(world: World, seed: SeedInfo, key: str = "alice", **kwargs: str) -> Task:
    actor = user(world, seed, key)
    args = {"template_version_id": seed.template_versions["ai_task"], "prompt": "Fix the bug", "name": ""}
    args.update(kwargs)
    return world.create_task(actor, actor, **args)  # type: ignore[arg-type]


def status(world: World, task: Task) -> str:
    return world.task_status(task)


def make_active(world: World, seed: SeedInfo, clock: ManualClock, **kwargs: str) -> Task:
    task = create(world, seed, **kwargs)
    clock.advance(5 * STAGE + WORK + 0.001)  # active, and the agent has answered the initial prompt
    assert status(world, task) == "active"
    return task


def stop(world: World, seed: SeedInfo, task: Task, key: str = "alice") -> None:
    actor = user(world, seed, key)
    workspace = world.workspace(actor, task.workspace_id or "")
    world.create_build(actor, workspace, "stop")
