"""Fixed bodies from Coder and the assertions the targeted tests share (ERR, SCHEMA and AUTH clauses of
docs/contract/).

Everything here states the contract, never the reference server's incidental choices: exact strings are the
ones the clauses quote, and shapes are checked only as far as SCHEMA-1 fixes them. Where Coder versions differ
(LEVEL-1), the expected answer comes from the target's contract level (``coder_tasks_contract.spec.levels``, the
``level`` fixture).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Final, TypeVar

import httpx
import pytest

from coder_tasks_contract.generated.checks_table import OPERATION_IDS
from coder_tasks_contract.plugin.fixtures import SKIP_NO_TEMPLATE, SKIP_READ_ONLY
from coder_tasks_contract.spec.levels import Level, Refusal
from coder_tasks_contract.transport.paths import TASKS, task_path

T = TypeVar("T")

# --- Fixed bodies (ERR-2, USER-2, QUERY-8, AUTH-6) -------------------------------------------------------------

NOT_FOUND_MESSAGE: Final = "Resource not found or you do not have access to this resource"
NOT_FOUND: Final = {"message": NOT_FOUND_MESSAGE}
ROUTE_NOT_FOUND: Final = {"message": "Route not found."}
BAD_JSON: Final = "Request body must be valid JSON."
SIGNED_OUT: Final = "You are signed out or your session has expired. Please sign in again to continue."
NO_TOKEN_DETAIL: Final = 'Cookie "coder_session_token" or query parameter must be provided.'
UNKNOWN_USER: Final = '"user" must be an existing uuid or username.'
BAD_NAME: Final = "Unable to create a Task with the provided name."
TEMPLATE_VERSION_NOT_FOUND: Final = "Template version not found or you do not have access to this resource"
NOT_AN_AI_TEMPLATE: Final = 'Template does not have a valid "coder_ai_task" resource.'
INPUT_REQUIRED: Final = "Task input is required."
APP_REJECTED: Final = "Task app rejected the message."
MUST_BE_PAUSED: Final = "Unable to update task input, task must be paused."
MUST_BE_PAUSED_DETAIL: Final = "Please stop the task's workspace before updating the input."
MUST_BE_ACTIVE: Final = "Task status must be active."
BUILD_ACTIVE: Final = "A workspace build is already active."
BAD_QUERY: Final = "Invalid task search query."
LIST_FAILED: Final = "Internal error fetching tasks."
APP_NOT_READY: Final = "Task app is not ready to accept input."
CSRF_MISSING: Final = (
    "Something is wrong with your CSRF token. Please refresh the page. "
    "If this error persists, try clearing your cookies."
)
CSRF_MISMATCH_PREFIX: Final = (
    'CSRF error encountered. Authentication via "coder_session_token" cookie and "Coder-Session-Token" header '
    "detected, but the values do not match."
)
DUPLICATE_NAME_VALIDATION: Final = {"field": "name", "detail": "This value is already in use and should be unique."}

TASK_STATUSES: Final = frozenset({"pending", "initializing", "active", "paused", "unknown", "error"})
WORKSPACE_STATUSES: Final = frozenset(
    {"pending", "starting", "running", "stopping", "stopped", "failed", "canceling", "canceled", "deleting", "deleted"}
)
AGENT_LIFECYCLES: Final = frozenset(
    {
        "created",
        "starting",
        "start_timeout",
        "start_error",
        "ready",
        "shutting_down",
        "shutdown_timeout",
        "shutdown_error",
        "off",
    }
)
# STATE-3, SCHEMA-6: documented TaskState values, plus "failure", which the server at 82f525baf3 emits instead of
# "failed". (A level narrows this: Level.task_states; newest emits "failed" only, #22203.)
TASK_STATES: Final = frozenset({"working", "idle", "complete", "failed", "failure"})

# The seven operations with a request that reaches each one without changing anything: writes go to a task id
# no task can have (registry.phantom_id()), create sends an empty body (400 at worst, never a new task).
OPERATIONS: Final = OPERATION_IDS
WRITE_OPERATIONS: Final = frozenset({"createTask", "deleteTask", "updateTaskInput", "sendTaskInput"})


class _Marker:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


#: ``assert_error(..., detail=UNCHECKED)``: no clause fixes the detail, so it is not compared.
UNCHECKED: Final[Any] = _Marker("UNCHECKED")
#: ``assert_error(..., detail=SOME_TEXT)``: a non-empty detail must be there, its wording is not the contract.
SOME_TEXT: Final[Any] = _Marker("SOME_TEXT")


def operation_request(operation: str, user: str, task: str, prefix: str = TASKS) -> tuple[str, str, dict[str, Any]]:
    """(method, path, httpx keyword arguments) that reach ``operation`` for ``user``/``task`` under the mount
    ``prefix``, changing nothing."""
    if operation == "listTasks":
        return "GET", prefix, {}
    if operation == "createTask":
        # An empty body fails JSON decoding (400): even a server that skipped the check under test creates nothing.
        return "POST", task_path(user, prefix=prefix), {"content": b""}
    method, suffix, body = {
        "getTask": ("GET", "", None),
        "deleteTask": ("DELETE", "", None),
        "updateTaskInput": ("PATCH", "/input", {"input": "ctc: contract probe"}),
        "sendTaskInput": ("POST", "/send", {"input": "ctc: contract probe"}),
        "getTaskLogs": ("GET", "/logs", None),
        # newest level only (PAUSE-5): a phantom task id makes them 404 at worst, never a build.
        "pauseTask": ("POST", "/pause", None),
        "resumeTask": ("POST", "/resume", None),
    }[operation]
    return method, task_path(user, task, suffix, prefix=prefix), ({} if body is None else {"json": body})


# --- Response assertions -----------------------------------------------------------------------------------------


def media_type(response: httpx.Response) -> tuple[str, dict[str, str]]:
    """The response's media type (lower-cased) and its parameters, e.g. ("application/json", {"charset": "utf-8"})."""
    raw = response.headers.get("content-type", "")
    kind, _, rest = raw.partition(";")
    params = {}
    for part in rest.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep:
            params[key.strip().lower()] = value.strip().strip('"').lower()
    return kind.strip().lower(), params


def json_body(response: httpx.Response) -> Any:
    """The parsed JSON body, after checking the ROUTE-8 content type ``application/json; charset=utf-8``."""
    kind, params = media_type(response)
    assert kind == "application/json", f"Content-Type of a JSON response: {response.headers.get('content-type')!r}"
    assert params.get("charset") == "utf-8", f"charset of a JSON response: {response.headers.get('content-type')!r}"
    return response.json()


def assert_status(response: httpx.Response, status: int) -> None:
    """Status check whose failure message shows the body (never the request: it may carry a token)."""
    assert response.status_code == status, (
        f"{response.request.method} answered {response.status_code}, expected {status}: {response.text[:500]!r}"
    )


def assert_error(
    response: httpx.Response,
    status: int,
    message: str,
    detail: Any = None,
    validations: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Coder's error body (ERR-1): exact ``message``; ``detail`` exact, absent (None), SOME_TEXT or UNCHECKED;
    ``validations`` exact or absent (None: omitted when empty)."""
    assert_status(response, status)
    body = json_body(response)
    assert isinstance(body, dict), f"error body is not an object: {body!r}"
    assert body.get("message") == message, f"message: {body!r}"
    if detail is SOME_TEXT:
        assert isinstance(body.get("detail"), str), f"expected a detail: {body!r}"
        assert body["detail"], f"expected a non-empty detail: {body!r}"
    elif detail is not UNCHECKED:
        assert body.get("detail") == detail, f"detail: {body!r}"
    assert body.get("validations") == validations, f"validations: {body!r}"
    return body


def assert_refusal(response: httpx.Response, refusal: Refusal) -> dict[str, Any]:
    """The error answer a contract level gives for a condition (``levels.Refusal``): status, exact message, and
    the detail when its clause states it."""
    return assert_error(
        response, refusal.status, refusal.message, refusal.detail if refusal.detail_stated else UNCHECKED
    )


def only_at(level: Level, holds: bool, why: str) -> None:
    """Skip unless ``holds``: the behaviour under test is not the contract at this level (``why`` says where it
    is, citing LEVEL-1)."""
    __tracebackhide__ = True  # the skip is reported at the test's line, not here
    if not holds:
        pytest.skip(f"not the contract at level {level.name} ({level.flavour}): {why}")


def assert_not_found(response: httpx.Response) -> None:
    """ERR-2 not-found: 404 with exactly ``{"message": "Resource not found or ..."}`` (no detail, no trailing
    period)."""
    assert_status(response, 404)
    assert json_body(response) == NOT_FOUND


def assert_no_body(response: httpx.Response, *, content_type: bool) -> None:
    """An empty body; ``content_type=False`` also checks that no Content-Type is set (ROUTE-9: DELETE 202, send 204)."""
    assert response.content == b"", f"expected no body, got {response.text[:200]!r}"
    if not content_type:
        assert "content-type" not in response.headers, f"unexpected Content-Type {response.headers['content-type']!r}"


def assert_plain_text(response: httpx.Response, status: int, text: str, *, prefix: bool = False) -> None:
    """A plain-text answer (CSRF-1): Go's http.Error adds a trailing newline, so that is not compared."""
    assert_status(response, status)
    kind, _ = media_type(response)
    assert kind == "text/plain", f"Content-Type: {response.headers.get('content-type')!r}"
    body = response.text.rstrip("\n")
    if prefix:
        assert body.startswith(text), f"body: {body!r}"
    else:
        assert body == text, f"body: {body!r}"


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def is_integer(value: object) -> bool:
    """A JSON integer (Python's bool is an int, JSON's true is not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and bool(_UUID.match(value.lower()))


def parse_time(value: str) -> tuple[datetime, int]:
    """An RFC 3339 timestamp with up to nanosecond precision (SCHEMA-5), as (UTC second, nanoseconds) for ordering."""
    found = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)", value)
    assert found, f"not an RFC 3339 date-time: {value!r}"
    offset = "+00:00" if found.group(3) == "Z" else found.group(3)
    second = datetime.fromisoformat(found.group(1) + offset).astimezone(timezone.utc)
    return second, int((found.group(2) or "").ljust(9, "0"))


def assert_task_shape(task: Any, level: Level | None = None) -> None:
    """The Task fields of SCHEMA-1 to SCHEMA-4: the always-present ones with their types, nullable UUIDs as string or
    null, and the omitempty ones typed when present. With a ``level``: its ``current_state.state`` values, and
    ``display_name`` where the level has it (NAME-5, #20856)."""
    assert isinstance(task, dict), f"a Task is an object: {task!r}"
    for key in ("id", "organization_id", "owner_id", "template_id", "template_version_id"):
        assert is_uuid(task.get(key)), f"{key} must be a UUID string: {task.get(key)!r}"
    for key in ("owner_name", "name", "template_name", "template_display_name", "template_icon", "workspace_name"):
        assert isinstance(task.get(key), str), f"{key} must be a string: {task.get(key)!r}"
    assert isinstance(task.get("initial_prompt"), str), f"initial_prompt: {task.get('initial_prompt')!r}"
    for key in ("workspace_id", "workspace_agent_id", "workspace_app_id"):
        assert key in task, f"{key} is always present (string or null)"
        assert task[key] is None or is_uuid(task[key]), f"{key} must be a UUID string or null, not {task[key]!r}"
    assert task.get("status") in TASK_STATUSES, f"status: {task.get('status')!r}"
    for key in ("created_at", "updated_at"):
        assert isinstance(task.get(key), str), f"{key}: {task.get(key)!r}"
        parse_time(task[key])
    assert "workspace_agent_lifecycle" in task, "workspace_agent_lifecycle is always present (enum or null)"
    assert task["workspace_agent_lifecycle"] is None or task["workspace_agent_lifecycle"] in AGENT_LIFECYCLES
    assert "workspace_agent_health" in task, "workspace_agent_health is always present (object or null)"
    health = task["workspace_agent_health"]
    assert health is None or (isinstance(health, dict) and isinstance(health.get("healthy"), bool)), health
    assert "current_state" in task, "current_state is always present (object or null)"
    state = task["current_state"]
    if state is not None:
        assert isinstance(state, dict), state
        states = TASK_STATES if level is None else level.task_states
        assert state.get("state") in states, f"current_state.state: {state.get('state')!r}"
        for key in ("message", "uri", "timestamp"):
            assert isinstance(state.get(key), str), f"current_state.{key}: {state.get(key)!r}"
    if "workspace_status" in task:
        assert task["workspace_status"] in WORKSPACE_STATUSES, f"workspace_status: {task['workspace_status']!r}"
    if "workspace_build_number" in task:
        number = task["workspace_build_number"]
        assert is_integer(number), f"workspace_build_number: {number!r}"
        assert number > 0, f"workspace_build_number: {number!r}"
    if "owner_avatar_url" in task:
        assert isinstance(task["owner_avatar_url"], str)
    if level is not None and level.display_name:
        display_name = task.get("display_name")
        assert isinstance(display_name, str), f"display_name is always present (a string): {display_name!r}"


def list_tasks(client: httpx.Client, q: str | None = None) -> list[dict[str, Any]]:
    """GET the task list (optionally with ``q``), check 200, the body's shape and ``count == len(tasks)`` (LIST-1)."""
    response = client.get(TASKS, params=None if q is None else {"q": q})
    assert_status(response, 200)
    body = json_body(response)
    assert isinstance(body, dict), f"TasksListResponse: {body!r}"
    assert isinstance(body.get("tasks"), list), f"TasksListResponse.tasks: {body!r}"
    assert body.get("count") == len(body["tasks"]), f"count {body.get('count')!r} != {len(body['tasks'])} tasks"
    return list(body["tasks"])


def send_input(client: httpx.Client, path: str, text: str, *, timeout: float) -> httpx.Response:
    """POST ``{"input": text}`` to a send path, again while the agent answers "not ready" (SEND-4: 502, 409 since
    #23424), until ``timeout``: the agent is busy for a while after each message, and that is not what a test
    checks (test_send_while_the_agent_works_answers_not_ready checks the status)."""
    deadline = time.monotonic() + timeout
    pause = 0.2
    while True:
        response = client.post(path, json={"input": text})
        if response.status_code not in (409, 502) or time.monotonic() >= deadline:
            return response
        try:
            message = response.json().get("message")
        except ValueError:
            return response
        if message != APP_NOT_READY:
            return response
        time.sleep(pause)  # polled with a deadline, backing off so a slow agent is not hammered
        pause = min(pause * 2, 3.0)


def poll_until(fetch: Callable[[], T], done: Callable[[T], bool], timeout: float) -> T:
    """Call ``fetch`` until ``done`` holds for its value or ``timeout`` passes; returns the last value either way
    (the caller's assertion then says what was expected)."""
    deadline = time.monotonic() + timeout
    pause = 0.1
    while True:
        value = fetch()
        if done(value) or time.monotonic() >= deadline:
            return value
        time.sleep(pause)  # polled with a deadline, backing off
        pause = min(pause * 2, 2.0)


# --- Tasks the run creates for several tests ---------------------------------------------------------------------


@dataclass(frozen=True)
class SharedTask:
    """A task this run created: what was asked for, the raw 201 answer, and the task once it reached its state."""

    request: dict[str, Any]
    creation: httpx.Response
    task: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.task["id"])

    @property
    def name(self) -> str:
        return str(self.task["name"])


@dataclass(frozen=True)
class DeletedTask:
    """A task this run created and then deleted, with the DELETE answer."""

    task: dict[str, Any]
    deletion: httpx.Response

    @property
    def id(self) -> str:
        return str(self.task["id"])

    @property
    def name(self) -> str:
        return str(self.task["name"])


def create_task(target: Any, registry: Any, client: httpx.Client, prompt: str) -> tuple[dict[str, Any], httpx.Response]:
    """POST a task for the client's user (registered for cleanup by the guard too); skips where the target cannot
    create one, fails the calling fixture if the server refuses."""
    if target.read_only:
        pytest.skip(SKIP_READ_ONLY)
    if target.template_version_id is None:
        pytest.skip(SKIP_NO_TEMPLATE)
    request = {"template_version_id": target.template_version_id, "name": registry.next_name(), "input": prompt}
    response = client.post(task_path("me"), json=request)
    if response.status_code == 201:
        registry.add(response.json())
    else:
        pytest.fail(f"creating a shared task answered {response.status_code}: {response.text[:300]!r}", pytrace=False)
    return request, response
