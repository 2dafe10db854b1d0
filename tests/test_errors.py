"""Client errors of the task operations, each with the exact body the behaviour note gives (§3, §6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from coder_tasks_contract.fixtures import SKIP_NO_TEMPLATE
from coder_tasks_contract.levels import Level
from coder_tasks_contract.paths import TASKS, task_path

from .support import (
    BAD_JSON,
    BAD_NAME,
    BAD_QUERY,
    BUILD_ACTIVE,
    DUPLICATE_NAME_VALIDATION,
    INPUT_REQUIRED,
    LIST_FAILED,
    MUST_BE_PAUSED,
    MUST_BE_PAUSED_DETAIL,
    NOT_AN_AI_TEMPLATE,
    SOME_TEXT,
    TEMPLATE_VERSION_NOT_FOUND,
    UNCHECKED,
    DeletedTask,
    SharedTask,
    assert_error,
    assert_no_body,
    assert_not_found,
    assert_refusal,
    assert_status,
    json_body,
    only_at,
    poll_until,
    send_input,
)

ALNUM = "must be alphanumeric with hyphens"
# Fresh tasks the DELETE-during-build test may use when a fast target finishes a build between its GET and DELETE.
DELETE_ATTEMPTS = 3


def _needs_template(target: Any) -> str:
    if target.template_version_id is None:
        pytest.skip(SKIP_NO_TEMPLATE)
    return str(target.template_version_id)


# --- create: names, templates, JSON (§3.2) -----------------------------------------------------------------------


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
        # Same %q pattern as "new" in NameValid (§3.2 gives "new"; "create" is the other reserved word).
        pytest.param("create", 'cannot use "create" as a name', id="create"),
    ],
)
def test_invalid_task_name_answers_400_with_its_detail(
    client_a: httpx.Client, target: Any, name: str, detail: str
) -> None:
    """§3.2 NameValid: a name longer than 32 bytes, with characters outside [a-zA-Z0-9-], with leading, trailing or
    double hyphens, untrimmed, or one of the reserved ``new``/``create`` answers 400 "Unable to create a Task with
    the provided name." with the rule it broke as detail. (Name checks come after the template lookup, so the
    request names a real AI template version.)"""
    body = {"template_version_id": _needs_template(target), "input": "ctc: must not be created", "name": name}
    assert_error(client_a.post(task_path("me"), json=body), 400, BAD_NAME, detail)


@pytest.mark.operation("createTask", 409)
@pytest.mark.writes
@pytest.mark.needs_template
def test_duplicate_name_answers_409_with_name_validation(
    client_a: httpx.Client, target: Any, active_task: SharedTask, prefix: str
) -> None:
    """§3.2 step 8: a name the owner's live task (and workspace) already has answers 409
    ``Workspace "<name>" already exists.`` with validations ``[{"field": "name", ...}]``, through every mount
    (§8)."""
    body = {"template_version_id": _needs_template(target), "input": "ctc: duplicate", "name": active_task.name}
    response = client_a.post(task_path("me", prefix=prefix), json=body)
    assert_error(response, 409, f'Workspace "{active_task.name}" already exists.', None, [DUPLICATE_NAME_VALIDATION])


@pytest.mark.operation("createTask", 409)
@pytest.mark.writes
@pytest.mark.needs_template
def test_duplicate_name_is_case_insensitive(client_a: httpx.Client, target: Any, active_task: SharedTask) -> None:
    """§3.2 step 8: the same name in upper case also collides (workspace names compare case-insensitively): 409
    with the ``name`` validation."""
    body = {"template_version_id": _needs_template(target), "input": "ctc: duplicate", "name": active_task.name.upper()}
    response = client_a.post(task_path("me"), json=body)
    assert_status(response, 409)
    assert json_body(response).get("validations") == [DUPLICATE_NAME_VALIDATION]


@pytest.mark.operation("createTask", 201, 409)
@pytest.mark.writes
@pytest.mark.needs_template
def test_a_deleted_tasks_name_can_be_used_again(
    client_a: httpx.Client, target: Any, make_task: Callable[..., dict[str, Any]]
) -> None:
    """§3.4, §3.2 step 8: deleting a task frees its name. The duplicate check is about live workspaces, so a create
    with the name may answer 409 while the delete build still runs, then 201. (Its own task: the name is reused.)"""
    task = make_task(wait="settled")
    assert_status(client_a.delete(task_path("me", str(task["id"]))), 202)
    body = {"template_version_id": _needs_template(target), "input": "ctc: name reused", "name": task["name"]}
    response = poll_until(
        lambda: client_a.post(task_path("me"), json=body),
        lambda answer: answer.status_code != 409,
        target.lifecycle_timeout,
    )
    assert_status(response, 201)
    created = json_body(response)
    assert created["name"] == task["name"]
    assert created["id"] != task["id"]


@pytest.mark.operation("createTask", 400)
@pytest.mark.writes
@pytest.mark.parametrize("omit", [pytest.param(False, id="unknown-id"), pytest.param(True, id="omitted")])
def test_unknown_template_version_answers_400(client_a: httpx.Client, registry: Any, omit: bool) -> None:
    """§3.2 step 3: a template version that does not exist (or is omitted: the nil UUID) answers 400
    ``{"message": "Template version not found or you do not have access to this resource"}``."""
    body: dict[str, Any] = {"input": "ctc: must not be created"}
    if not omit:
        body["template_version_id"] = registry.phantom_id()
    assert_error(client_a.post(task_path("me"), json=body), 400, TEMPLATE_VERSION_NOT_FOUND)


@pytest.mark.operation("createTask", 400)
@pytest.mark.writes
def test_template_without_ai_task_answers_400(client_a: httpx.Client, target: Any) -> None:
    """§3.2 step 4: a template version whose template has no coder_ai_task resource answers 400
    ``Template does not have a valid "coder_ai_task" resource.``"""
    if target.non_task_template_version_id is None:
        pytest.skip("needs --non-task-template-version-id (a template version without a coder_ai_task resource)")
    body = {"template_version_id": target.non_task_template_version_id, "input": "ctc: must not be created"}
    assert_error(client_a.post(task_path("me"), json=body), 400, NOT_AN_AI_TEMPLATE)


INVALID_BODIES = [
    # §1.1 gives "EOF" for an empty body; other decoder details are Go's wording, so only their presence counts.
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
def test_create_with_invalid_json_answers_400(client_a: httpx.Client, content: bytes, detail: Any) -> None:
    """§3.2 step 2, §1.1: a body that is no valid CreateTaskRequest JSON answers 400
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
    client_a: httpx.Client, active_task: SharedTask, suffix: str, content: bytes, detail: Any
) -> None:
    """§3.5 step 1, §3.6 step 1: PATCH /input and POST /send decode the body first: invalid JSON answers 400
    "Request body must be valid JSON." (before any status check)."""
    path = task_path("me", active_task.id, suffix)
    method = "PATCH" if suffix == "/input" else "POST"
    response = client_a.request(method, path, content=content, headers={"Content-Type": "application/json"})
    assert_error(response, 400, BAD_JSON, detail)


# --- PATCH /input (§3.5) -----------------------------------------------------------------------------------------


@pytest.mark.operation("updateTaskInput", 400)
@pytest.mark.writes
@pytest.mark.parametrize(
    "text", [pytest.param("", id="empty"), pytest.param("   ", id="spaces"), pytest.param("\n\t ", id="whitespace")]
)
def test_update_input_blank_answers_400(client_a: httpx.Client, active_task: SharedTask, text: str) -> None:
    """§3.5 step 2: an input that is empty after trimming whitespace answers 400 ``{"message": "Task input is
    required."}``, checked before the task's status (the task here is active, which would be a 409)."""
    response = client_a.patch(task_path("me", active_task.id, "/input"), json={"input": text})
    assert_error(response, 400, INPUT_REQUIRED)


@pytest.mark.operation("updateTaskInput", 409)
@pytest.mark.writes
def test_update_input_on_a_task_that_is_not_paused_answers_409(
    client_a: httpx.Client, active_task: SharedTask, prefix: str
) -> None:
    """§3.5 step 4: PATCH /input on an active task answers 409 "Unable to update task input, task must be paused."
    with detail "Please stop the task's workspace before updating the input." and leaves the prompt alone, through
    every mount (§8)."""
    path = task_path("me", active_task.id)
    before = client_a.get(path).json()["initial_prompt"]
    response = client_a.patch(
        task_path("me", active_task.id, "/input", prefix=prefix), json={"input": "ctc: must not be stored"}
    )
    assert_error(response, 409, MUST_BE_PAUSED, MUST_BE_PAUSED_DETAIL)
    assert client_a.get(path).json()["initial_prompt"] == before


# --- send and logs (§3.6, §3.7, §3.8) ----------------------------------------------------------------------------


@pytest.mark.operation("sendTaskInput", 400)
@pytest.mark.writes
def test_send_empty_input_answers_400(client_a: httpx.Client, active_task: SharedTask) -> None:
    """§3.6 step 2: send with ``input == ""`` answers 400 ``{"message": "Task input is required."}``."""
    response = client_a.post(task_path("me", active_task.id, "/send"), json={"input": ""})
    assert_error(response, 400, INPUT_REQUIRED)


@pytest.mark.operation("sendTaskInput", 204)
@pytest.mark.writes
def test_send_accepts_whitespace_only_input(client_a: httpx.Client, target: Any, active_task: SharedTask) -> None:
    """§3.6 step 2: unlike PATCH /input, send compares with "" exactly, so a whitespace-only input is relayed
    (204)."""
    path = task_path("me", active_task.id, "/send")
    response = send_input(client_a, path, "  ", timeout=target.lifecycle_timeout)
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
    """§3.8 check 1: send and logs need an active task; on a paused one they answer 400 "Task status must be
    active." with detail ``Task status is "paused", it must be "active" to interact with the task.``, through every
    mount (levels 82f and 2.29; at the newest send answers 409 and logs the stored snapshot, see the tests below)."""
    refusal = _paused_refusal(level, suffix)
    only_at(level, refusal is not None and refusal.status == 400, "409 or a log snapshot since #21887/#21771 (§3.8)")
    kwargs: dict[str, Any] = {"json": {"input": "ctc: must not be relayed"}} if method == "POST" else {}
    path = task_path("me", paused_task.id, suffix, prefix=prefix)
    assert_refusal(client_a.request(method, path, **kwargs), refusal)


@pytest.mark.operation("sendTaskInput", 409)
@pytest.mark.writes
def test_send_on_a_paused_task_answers_409(
    client_a: httpx.Client, paused_task: SharedTask, level: Level, prefix: str
) -> None:
    """§3.8 check 1 (newest, #21887): send on a paused task answers 409 "Task is paused." with detail "Resume the
    task to send messages.", through every mount, and relays nothing."""
    refusal = level.send_refusal("paused")
    only_at(level, refusal.status == 409, "send on a paused task answers 400 before #21887 (§3.8)")
    path = task_path("me", paused_task.id, "/send", prefix=prefix)
    assert_refusal(client_a.post(path, json={"input": "ctc: must not be relayed"}), refusal)


@pytest.mark.operation("sendTaskInput")  # 502 or 409: the level says which
@pytest.mark.writes
def test_send_while_the_agent_works_answers_not_ready(
    client_a: httpx.Client, target: Any, run_id: str, active_task: SharedTask, level: Level
) -> None:
    """§3.6 step 4: while the agent still works on the previous message (AgentAPI not ``stable``), send answers
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


# --- DELETE (§3.4) -----------------------------------------------------------------------------------------------


@pytest.mark.operation("deleteTask", 409)
@pytest.mark.writes
@pytest.mark.needs_template
def test_delete_while_the_first_build_runs_answers_409(client_a: httpx.Client, make_task: Any, prefix: str) -> None:
    """§3.4: DELETE while a build job is queued or running answers 409 ``{"message": "A workspace build is already
    active.", "detail": "A workspace build is already active."}`` and deletes nothing.

    Needs its own task, caught before its first build finishes: a GET right before the DELETE must show the build
    busy (workspace_status pending/starting), else the 409 cannot be forced and the attempt does not count. A 202
    after such a GET is either the bug or a build that finished in the instant between GET and DELETE; only a fast
    target can lose that race, so a fresh task is tried (at most DELETE_ATTEMPTS), and the test fails when every
    attempt answered 202 and skips when the builds were always finished before the check. Once per mount (§8):
    each alias's handler is held to the rule on a task of its own."""
    outcomes = []
    for _ in range(DELETE_ATTEMPTS):
        task = make_task(wait=None)
        path = task_path("me", str(task["id"]), prefix=prefix)
        before = client_a.get(path).json().get("workspace_status")
        if before not in {"pending", "starting"}:
            outcomes.append(f"build already finished (workspace_status {before!r})")
            continue
        response = client_a.delete(path)
        if response.status_code == 202:
            outcomes.append(f"202 although workspace_status was {before!r} just before")
            continue
        assert_error(response, 409, BUILD_ACTIVE, BUILD_ACTIVE)
        assert client_a.get(path).status_code == 200, "the task was deleted despite the 409"
        return
    if all(outcome.startswith("202") for outcome in outcomes):
        pytest.fail("DELETE during a running build never answered 409: " + "; ".join(outcomes), pytrace=False)
    pytest.skip("could not catch a first build running (this target builds too fast): " + "; ".join(outcomes))


def _deleted_params() -> list[Any]:
    # Writes go by id only: the write guard refuses a deleted task's name (another task may take it, §2.2.4).
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
    """§2.2 step 4, §3.4: a deleted task is never returned again: get, delete, PATCH /input, send and logs on it
    answer the exact 404 not-found body, by id and by name."""
    assert deleted_task.deletion.status_code == 202, f"the shared task was not deleted: {deleted_task.deletion}"
    task = deleted_task.id if by == "id" else deleted_task.name
    kwargs: dict[str, Any] = {"json": {"input": "ctc: probe"}} if method in {"PATCH", "POST"} else {}
    assert_not_found(client_a.request(method, task_path("me", task, suffix), **kwargs))


# --- The q search syntax (§6) ------------------------------------------------------------------------------------


def _q_cases() -> list[Any]:
    return [
        pytest.param(":owner", "q", """Query element ":owner" cannot start or end with ':'""", id="prefix-colon"),
        pytest.param("owner:", "q", """Query element "owner:" cannot start or end with ':'""", id="suffix-colon"),
        pytest.param("owner:a:b", "q", """Query element "owner:a:b" can only contain 1 ':'""", id="extra-colon"),
        pytest.param("foo:bar", "foo", '"foo" is not a valid query param', id="unknown-key"),
        pytest.param("FOO:bar", "foo", '"foo" is not a valid query param', id="unknown-key-lower-cased"),
        pytest.param(
            "owner:me owner:me",
            "owner",
            'Query param "owner" provided more than once, found 2 times. Only provide 1 instance of this query param.',
            id="key-twice",
        ),
        pytest.param(
            "owner:ctc-nobody-{run_id}",
            "owner",
            'Query param "owner" has invalid value: user "ctc-nobody-{run_id}" either does not exist, or you are '
            "unauthorized to view them",
            id="unknown-owner",
        ),
        pytest.param(
            "ctc-nobody-{run_id} second",
            "owner",
            'Query param "owner" has invalid value: user "ctc-nobody-{run_id} second" either does not exist, or you '
            "are unauthorized to view them",
            id="bare-terms-join-into-one-owner",
        ),
        pytest.param(
            "organization:ctc-noorg-{run_id}",
            "organization",
            'Query param "organization" has invalid value: organization "ctc-noorg-{run_id}" either does not exist, '
            "or you are unauthorized to view it",
            id="unknown-organization",
        ),
    ]


@pytest.mark.operation("listTasks", 400)
@pytest.mark.parametrize(("q", "field", "detail"), _q_cases())
def test_invalid_query_answers_400_with_its_validation(
    client_a: httpx.Client, run_id: str, q: str, field: str, detail: str
) -> None:
    """§6: each malformed ``q`` answers 400 "Invalid task search query." with exactly one validation naming the
    field and the rule it broke, as in the §6 table."""
    response = client_a.get(TASKS, params={"q": q.format(run_id=run_id)})
    expected = [{"field": field, "detail": detail.format(run_id=run_id)}]
    assert_error(response, 400, BAD_QUERY, None, expected)


@pytest.mark.operation("listTasks", 500)
def test_unknown_status_value_answers_500(client_a: httpx.Client, prefix: str) -> None:
    """§3.1, §6 (inferred): ``status:<value>`` is passed through unvalidated and the database rejects a value
    outside the TaskStatus enum: 500 "Internal error fetching tasks." (not 400), through every mount (§8)."""
    response = client_a.get(prefix, params={"q": "status:bogus"})
    assert_error(response, 500, LIST_FAILED, UNCHECKED)
