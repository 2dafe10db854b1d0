"""``tests/support.assert_task_shape`` judges a Task by the level's schema and Coder's wire formats: the documented
example Task passes, and each kind of wrong shape fails (SCHEMA-1 to SCHEMA-6, STATE-3, NAME-5)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from tests.support import assert_task_shape

from coder_tasks_contract.spec import levels
from coder_tasks_contract.spec.levels import LEVELS, Level

Change = Callable[[dict[str, Any]], object]


def _example(level: Level) -> dict[str, Any]:
    """A Task made of the first example of each field of the level's Task schema."""
    properties = levels.build_spec(level)["components"]["schemas"]["Task"]["properties"]
    return {key: copy.deepcopy(schema["examples"][0]) for key, schema in properties.items()}


BROKEN: dict[str, Change] = {
    "owner_name-missing": lambda task: task.pop("owner_name"),
    "build-number-as-string": lambda task: task.update(workspace_build_number="3"),
    "build-number-zero": lambda task: task.update(workspace_build_number=0),
    "lifecycle-outside-enum": lambda task: task.update(workspace_agent_lifecycle="sleeping"),
    "status-outside-enum": lambda task: task.update(status="running"),
    "uuid-as-object": lambda task: task.update(workspace_id={"uuid": task["workspace_id"], "valid": True}),
    "uuid-upper-case": lambda task: task.update(id=task["id"].upper()),
    "uuid-in-braces": lambda task: task.update(owner_id="{" + task["owner_id"] + "}"),
    "created_at-not-rfc3339": lambda task: task.update(created_at="2025-11-25 14:01:05"),
    "state-timestamp-not-rfc3339": lambda task: task["current_state"].update(timestamp="yesterday"),
    "health-without-healthy": lambda task: task.update(workspace_agent_health={}),
}


@pytest.mark.parametrize("level", LEVELS, ids=lambda level: level.name)
def test_the_documented_example_is_a_task(level: Level) -> None:
    assert_task_shape(_example(level), level)


@pytest.mark.parametrize("level", LEVELS, ids=lambda level: level.name)
@pytest.mark.parametrize("change", BROKEN.values(), ids=list(BROKEN))
def test_a_wrong_shape_fails(level: Level, change: Change) -> None:
    task = _example(level)
    change(task)
    with pytest.raises(AssertionError, match=f"not a Task of level {level.name}"):
        assert_task_shape(task, level)


@pytest.mark.parametrize(("level", "holds"), [(levels.LEVEL_82F, False), (levels.LEVEL_NEWEST, True)])
def test_level_differences_come_from_the_levels_schema(level: Level, holds: bool) -> None:
    """``failure`` is a state before #22203 only (STATE-3); ``display_name`` is required from v2.29 (NAME-5)."""
    for change in (
        lambda task: task["current_state"].update(state="failure"),
        lambda task: task.pop("display_name", None),
    ):
        task = _example(level)
        change(task)
        if holds:
            with pytest.raises(AssertionError):
                assert_task_shape(task, level)
        else:
            assert_task_shape(task, level)
