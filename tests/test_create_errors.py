"""Client errors of task creation, each with the exact body Coder gives (NAME-1, CREATE-3, CREATE-4, CREATE-6, ERR-3):
invalid and duplicate names, unknown or non-AI template versions, and request bodies that are no valid JSON (create,
PATCH /input and send decode alike, ERR-3)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from coder_tasks_contract.spec.vocabulary import SKIP_NO_TEMPLATE
from coder_tasks_contract.target.model import Target
from coder_tasks_contract.transport import polling
from coder_tasks_contract.transport.paths import task_path
from coder_tasks_contract.transport.task_pool import DeletedTask, SharedTask
from coder_tasks_contract.transport.task_registry import TaskRegistry

from .support import (
    BAD_JSON,
    BAD_NAME,
    DUPLICATE_NAME_VALIDATION,
    NOT_AN_AI_TEMPLATE,
    SOME_TEXT,
    TEMPLATE_VERSION_NOT_FOUND,
    assert_error,
    assert_status,
    json_body,
    poll_until,
)

ALNUM = "must be alphanumeric with hyphens"


def _needs_template(target: Target) -> str:
    if target.template_version_id is None:
        pytest.skip(SKIP_NO_TEMPLATE)
    return str(target.template_version_id)


# --- create: names, templates, JSON (CREATE-2) -----------------------------------------------------------------------


@pytest.mark.operation("createTask", 400)
@pytest.mark.writes
@pytest.mark.needs_template
@pytest.mark.parametrize(
    ("name", "detail"),
    [
        pytest.param("c" * 33, "must be <= 32 characters", id="33-characters"),
        pytest.param("ctc_name", ALNUM, id="underscore"),
        pytest.param("ctc name", ALNUM, id="space"),
        pytest.param(" ctc", ALNUM, id="untrimmed-leading-space"),
        pytest.param("ctc-tâche", ALNUM, id="non-ascii"),
        pytest.param("-ctc", ALNUM, id="leading-hyphen"),
        pytest.param("ctc-", ALNUM, id="trailing-hyphen"),
        pytest.param("ctc--x", ALNUM, id="double-hyphen"),
        pytest.param("ctc.x", ALNUM, id="dot"),
        pytest.param("new", 'cannot use "new" as a name', id="new"),
        # Same %q pattern as "new" in NameValid (NAME-1 gives "new"; "create" is the other reserved word).
        pytest.param("create", 'cannot use "create" as a name', id="create"),
    ],
)
def test_invalid_task_name_answers_400_with_its_detail(
    client_a: httpx.Client, target: Target, name: str, detail: str
) -> None:
    """NAME-1: a name longer than 32 bytes, with characters outside [a-zA-Z0-9-], with leading, trailing or
    double hyphens, untrimmed, or one of the reserved ``new``/``create`` answers 400 "Unable to create a Task with
    the provided name." with the rule it broke as detail. (Name checks come after the template lookup, so the
    request names a real AI template version.)"""
    body = {"template_version_id": _needs_template(target), "input": "ctc: must not be created", "name": name}
    assert_error(client_a.post(task_path("me"), json=body), 400, BAD_NAME, detail)


@pytest.mark.operation("createTask", 409)
@pytest.mark.writes
@pytest.mark.needs_template
def test_duplicate_name_answers_409_with_name_validation(
    client_a: httpx.Client, target: Target, active_task: SharedTask, prefix: str
) -> None:
    """CREATE-6: a name the owner's live task (and workspace) already has answers 409
    ``Workspace "<name>" already exists.`` with validations ``[{"field": "name", ...}]``, through every mount
    (ROUTE-1)."""
    body = {"template_version_id": _needs_template(target), "input": "ctc: duplicate", "name": active_task.name}
    response = client_a.post(task_path("me", prefix=prefix), json=body)
    assert_error(response, 409, f'Workspace "{active_task.name}" already exists.', None, [DUPLICATE_NAME_VALIDATION])


@pytest.mark.operation("createTask", 409)
@pytest.mark.writes
@pytest.mark.needs_template
def test_duplicate_name_is_case_insensitive(client_a: httpx.Client, target: Target, active_task: SharedTask) -> None:
    """CREATE-6: the same name in upper case also collides (workspace names compare case-insensitively): 409
    with the ``name`` validation."""
    body = {"template_version_id": _needs_template(target), "input": "ctc: duplicate", "name": active_task.name.upper()}
    response = client_a.post(task_path("me"), json=body)
    assert_status(response, 409)
    assert json_body(response).get("validations") == [DUPLICATE_NAME_VALIDATION]


@pytest.mark.operation("createTask", 201, 409)
@pytest.mark.writes
@pytest.mark.needs_template
def test_a_deleted_tasks_name_can_be_used_again(
    client_a: httpx.Client, target: Target, deleted_task: DeletedTask
) -> None:
    """DELETE-1, CREATE-7: deleting a task frees its name. The duplicate check is about live workspaces, so a create
    with the name may answer 409 while the delete build still runs, then 201. (The shared deleted task's name; the
    task made with it is deleted again at the end, so the name stays free for the tests that look it up.)"""
    assert_status(deleted_task.deletion, 202)
    body = {"template_version_id": _needs_template(target), "input": "ctc: name reused", "name": deleted_task.name}
    response = poll_until(
        lambda: client_a.post(task_path("me"), json=body),
        lambda answer: answer.status_code != 409,
        target.lifecycle_timeout,
    )
    assert_status(response, 201)
    created = json_body(response)
    try:
        assert created["name"] == deleted_task.name
        assert created["id"] != deleted_task.id
    finally:
        _delete_again(client_a, target, created)


def _delete_again(client: httpx.Client, target: Target, task: dict[str, Any]) -> None:
    """Delete the task that took the deleted task's name once its first build is done (DELETE-2), so that name
    designates no live task again (test_every_operation_on_a_deleted_task_answers_404 looks it up)."""
    polling.wait_build_settled(client, task, target.lifecycle_timeout)
    response = client.delete(task_path("me", str(task["id"])))
    assert response.status_code == 202, f"deleting the task made with the deleted task's name answered {response}"


@pytest.mark.operation("createTask", 400)
@pytest.mark.writes
@pytest.mark.parametrize("omit", [pytest.param(False, id="unknown-id"), pytest.param(True, id="omitted")])
def test_unknown_template_version_answers_400(client_a: httpx.Client, registry: TaskRegistry, omit: bool) -> None:
    """CREATE-3: a template version that does not exist (or is omitted: the nil UUID) answers 400
    ``{"message": "Template version not found or you do not have access to this resource"}``."""
    body: dict[str, Any] = {"input": "ctc: must not be created"}
    if not omit:
        body["template_version_id"] = registry.phantom_id()
    assert_error(client_a.post(task_path("me"), json=body), 400, TEMPLATE_VERSION_NOT_FOUND)


@pytest.mark.operation("createTask", 400)
@pytest.mark.writes
def test_template_without_ai_task_answers_400(client_a: httpx.Client, target: Target) -> None:
    """CREATE-4: a template version whose template has no coder_ai_task resource answers 400
    ``Template does not have a valid "coder_ai_task" resource.``"""
    if target.non_task_template_version_id is None:
        pytest.skip("needs --non-task-template-version-id (a template version without a coder_ai_task resource)")
    body = {"template_version_id": target.non_task_template_version_id, "input": "ctc: must not be created"}
    assert_error(client_a.post(task_path("me"), json=body), 400, NOT_AN_AI_TEMPLATE)


INVALID_BODIES = [
    # ERR-3 gives "EOF" for an empty body; other decoder details are Go's wording, so only their presence counts.
    pytest.param(b"", "EOF", id="empty"),
    pytest.param(b"{not json", SOME_TEXT, id="syntax-error"),
    pytest.param(b'{"input": 5}', SOME_TEXT, id="input-not-a-string"),
]


@pytest.mark.operation("createTask", 400)
@pytest.mark.writes
@pytest.mark.parametrize(
    ("content", "detail"),
    [
        *INVALID_BODIES,
        # (inferred from google/uuid): a preset id that is no UUID fails decoding.
        pytest.param(b'{"input": "x", "template_version_preset_id": "abc"}', SOME_TEXT, id="preset-not-a-uuid"),
        pytest.param(b'{"input": "x", "template_version_id": "abc"}', SOME_TEXT, id="version-not-a-uuid"),
    ],
)
def test_create_with_invalid_json_answers_400(client_a: httpx.Client, content: bytes, detail: object) -> None:
    """CREATE-2, ERR-3: a body that is no valid CreateTaskRequest JSON answers 400
    "Request body must be valid JSON." with the decoder's error as detail ("EOF" for an empty body)."""
    response = client_a.post(task_path("me"), content=content, headers={"Content-Type": "application/json"})
    assert_error(response, 400, BAD_JSON, detail)


@pytest.mark.writes
@pytest.mark.parametrize(
    "suffix",
    [
        pytest.param("/input", id="updateTaskInput", marks=pytest.mark.operation("updateTaskInput", 400)),
        pytest.param("/send", id="sendTaskInput", marks=pytest.mark.operation("sendTaskInput", 400)),
    ],
)
@pytest.mark.parametrize(("content", "detail"), INVALID_BODIES)
def test_input_with_invalid_json_answers_400(
    client_a: httpx.Client, active_task: SharedTask, suffix: str, content: bytes, detail: object
) -> None:
    """INPUT-2, SEND-2: PATCH /input and POST /send decode the body first: invalid JSON answers 400
    "Request body must be valid JSON." (before any status check)."""
    path = task_path("me", active_task.id, suffix)
    method = "PATCH" if suffix == "/input" else "POST"
    response = client_a.request(method, path, content=content, headers={"Content-Type": "application/json"})
    assert_error(response, 400, BAD_JSON, detail)
