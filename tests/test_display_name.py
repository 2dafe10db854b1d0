"""``display_name`` on tasks, from v2.29 on (NAME-4, NAME-5, #20856): always present on a Task, optional on create,
trimmed, at most 64 bytes. Skipped at levels without it (82f: the field is an unknown one and ignored, ERR-5)."""

from __future__ import annotations

import httpx
import pytest

from coder_tasks_contract.spec.levels import Level
from coder_tasks_contract.spec.vocabulary import DISPLAY_NAME_TOO_LONG, SKIP_NO_TEMPLATE
from coder_tasks_contract.target.model import Target
from coder_tasks_contract.transport.paths import task_path
from coder_tasks_contract.transport.task_pool import DISPLAY_NAME, SharedTask
from coder_tasks_contract.transport.task_registry import TaskRegistry

from .support import (
    BAD_NAME,
    SOME_TEXT,
    TEMPLATE_VERSION_NOT_FOUND,
    assert_error,
    assert_status,
    json_body,
    only_at,
)

pytestmark = pytest.mark.needs_template


@pytest.fixture
def template_version_id(target: Target, level: Level) -> str:
    """The target's AI-task template version; skips where display_name is not the contract or nothing can be made."""
    only_at(level, level.display_name, "display_name arrived with v2.29 (#20856, NAME-4)")
    if target.template_version_id is None:
        pytest.skip(SKIP_NO_TEMPLATE)
    return str(target.template_version_id)


@pytest.mark.operation("getTask", 200)
def test_every_task_has_a_display_name(client_a: httpx.Client, active_task: SharedTask, level: Level) -> None:
    """NAME-5 (#20856): a Task always carries ``display_name``, a string, also when the create request gave none
    (it is then generated along with the name; its wording is the server's, so only its type is checked)."""
    only_at(level, level.display_name, "display_name arrived with v2.29 (#20856, NAME-4)")
    task = json_body(client_a.get(task_path("me", active_task.id)))
    assert isinstance(task.get("display_name"), str), task.get("display_name")


@pytest.mark.operation("createTask", 201)
@pytest.mark.writes
def test_display_name_is_stored_trimmed(
    client_a: httpx.Client, template_version_id: str, display_named_task: SharedTask, level: Level
) -> None:
    """NAME-4 (#20856): ``display_name`` is trimmed before it is stored: the 201 and a later GET, through the mount
    Coder documents at this level, show it without the surrounding whitespace. (The pooled task that was created
    with a padded display name through that mount: its 201 is kept for this test.)"""
    assert display_named_task.request["display_name"] == DISPLAY_NAME, display_named_task.request
    assert display_named_task.creation.url.path.startswith(level.documented_prefix), display_named_task.creation.url
    assert_status(display_named_task.creation, 201)
    created = json_body(display_named_task.creation)
    assert created["display_name"] == "ctc display name"
    fetched = json_body(client_a.get(task_path("me", created["id"], prefix=level.documented_prefix)))
    assert fetched["display_name"] == "ctc display name"


@pytest.mark.operation("createTask", 400)
@pytest.mark.writes
@pytest.mark.parametrize(
    "display_name",
    [
        pytest.param("d" * 65, id="65-ascii-characters"),
        # 33 characters, 66 bytes: the limit counts bytes (Go's len), not characters.
        pytest.param("é" * 33, id="66-bytes-in-33-characters"),
    ],
)
def test_display_name_longer_than_64_bytes_answers_400(
    client_a: httpx.Client, registry: TaskRegistry, template_version_id: str, display_name: str
) -> None:
    """NAME-4 (#20856): a display name longer than 64 bytes after trimming answers 400 "Display name must be 64
    characters or less." (the rest of the request is valid, so only the display name can be at fault)."""
    body = {
        "template_version_id": template_version_id,
        "name": registry.next_name(),
        "input": "ctc: must not be created",
        "display_name": display_name,
    }
    assert_error(client_a.post(task_path("me"), json=body), 400, DISPLAY_NAME_TOO_LONG)


@pytest.mark.operation("createTask", 400)
@pytest.mark.writes
def test_display_name_is_checked_after_the_template_version_and_the_name(
    client_a: httpx.Client, registry: TaskRegistry, template_version_id: str
) -> None:
    """NAME-4, CREATE-2: Coder's tasksCreate checks the template version, then ``coder_ai_task``, then the name, and
    only then the display name: a request that is wrong in both answers the earlier check's error, not the display
    name's (an unknown template version: 400 "Template version not found..."; a bad name: "Unable to create a Task
    with the provided name.")."""
    too_long = "d" * 65
    unknown_version = {"template_version_id": registry.phantom_id(), "input": "ctc: not created"}
    unknown_version["display_name"] = too_long
    assert_error(client_a.post(task_path("me"), json=unknown_version), 400, TEMPLATE_VERSION_NOT_FOUND)
    bad_name = {
        "template_version_id": template_version_id,
        "name": "not a valid name",
        "input": "ctc: not created",
        "display_name": too_long,
    }
    assert_error(client_a.post(task_path("me"), json=bad_name), 400, BAD_NAME, detail=SOME_TEXT)
