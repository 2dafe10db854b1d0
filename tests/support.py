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
from datetime import datetime, timezone
from typing import Any, Final, TypeVar

import httpx
import pytest
from jsonschema import FormatChecker

from coder_tasks_contract.spec import task_shape, vocabulary
from coder_tasks_contract.spec.levels import Level, Refusal
from coder_tasks_contract.spec.vocabulary import (
    APP_NOT_READY,
    BASE_OPERATIONS,
    CREATE,
    DUPLICATE_NAME_DETAIL,
    LIST,
    NOT_FOUND_MESSAGE,
    OPERATION_ROUTES,
    ROUTE_NOT_FOUND_MESSAGE,
    is_uuid,
)
from coder_tasks_contract.transport.paths import ROUTE_TASK, TASKS, task_path

T = TypeVar("T")

# --- Fixed bodies (ERR-2, USER-2, QUERY-8, AUTH-6) -------------------------------------------------------------

# The fixed messages and the write set the tests compare with, from ``vocabulary`` (where each is written once).
APP_REJECTED: Final = vocabulary.APP_REJECTED
BAD_JSON: Final = vocabulary.BAD_JSON
BAD_NAME: Final = vocabulary.BAD_NAME
BAD_QUERY: Final = vocabulary.BAD_QUERY
BUILD_ACTIVE: Final = vocabulary.BUILD_ACTIVE
CSRF_MISMATCH_PREFIX: Final = vocabulary.CSRF_MISMATCH_PREFIX
CSRF_MISSING: Final = vocabulary.CSRF_MISSING
INPUT_REQUIRED: Final = vocabulary.INPUT_REQUIRED
LIST_FAILED: Final = vocabulary.LIST_FAILED
MUST_BE_PAUSED: Final = vocabulary.MUST_BE_PAUSED
MUST_BE_PAUSED_DETAIL: Final = vocabulary.MUST_BE_PAUSED_DETAIL
NO_TOKEN_DETAIL: Final = vocabulary.NO_TOKEN_DETAIL
NOT_AN_AI_TEMPLATE: Final = vocabulary.NOT_AN_AI_TEMPLATE
SIGNED_OUT: Final = vocabulary.SIGNED_OUT
TEMPLATE_VERSION_NOT_FOUND: Final = vocabulary.TEMPLATE_VERSION_NOT_FOUND
WRITE_OPERATIONS: Final = vocabulary.WRITE_OPERATIONS


NOT_FOUND: Final = {"message": NOT_FOUND_MESSAGE}
ROUTE_NOT_FOUND: Final = {"message": ROUTE_NOT_FOUND_MESSAGE}
DUPLICATE_NAME_VALIDATION: Final = {"field": "name", "detail": DUPLICATE_NAME_DETAIL}

# The seven operations with a request that reaches each one without changing anything: writes go to a task id
# no task can have (registry.phantom_id()), create sends an empty body (400 at worst, never a new task).
OPERATIONS: Final = BASE_OPERATIONS


class _Marker:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


#: ``assert_error(..., detail=UNCHECKED)``: no clause fixes the detail, so it is not compared.
UNCHECKED: Final[Any] = _Marker("UNCHECKED")
#: ``assert_error(..., detail=SOME_TEXT)``: a non-empty detail must be there, its wording is not the contract.
SOME_TEXT: Final[Any] = _Marker("SOME_TEXT")


# The write bodies: valid, so that a server which skipped the check under test still reaches no task (the task id is
# a phantom).
_PROBE_BODIES: Final = {op: {"input": "ctc: contract probe"} for op in ("updateTaskInput", "sendTaskInput")}


def operation_request(operation: str, user: str, task: str, prefix: str = TASKS) -> tuple[str, str, dict[str, Any]]:
    """(method, path, httpx keyword arguments) that reach ``operation`` for ``user``/``task`` under the mount
    ``prefix``, changing nothing. Pause and resume exist at the newest level only (PAUSE-5): a phantom task id makes
    them 404 at worst, never a build."""
    method, route = OPERATION_ROUTES[operation]
    if operation == LIST:
        return method, prefix, {}
    if operation == CREATE:
        # An empty body fails JSON decoding (400): even a server that skipped the check under test creates nothing.
        return method, task_path(user, prefix=prefix), {"content": b""}
    body = _PROBE_BODIES.get(operation)
    path = task_path(user, task, route.removeprefix(ROUTE_TASK), prefix=prefix)
    return method, path, ({} if body is None else {"json": body})


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


def assert_status(response: httpx.Response, status: int, where: str = "") -> None:
    """Status check whose failure message shows the body (never the request: it may carry a token), after ``where``
    (e.g. the mount) when given."""
    assert response.status_code == status, (
        f"{where + ': ' if where else ''}{response.request.method} answered {response.status_code}, expected "
        f"{status}: {response.text[:500]!r}"
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


# RFC 3339 as Go's time.RFC3339Nano writes it: up to nine fractional digits, Z or a numeric offset (SCHEMA-5).
_RFC3339: Final = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)")
# A JSON Schema validator only annotates ``format``; the Task schema's two formats are checked by what Coder writes:
# ids in uuid.UUID's String() form (SCHEMA-2), times in RFC 3339 (SCHEMA-5, SCHEMA-6). A null or a wrong type is the
# schema's to report.
_WIRE_FORMATS: Final = FormatChecker(formats=())
_WIRE_FORMATS.checks("uuid")(lambda value: not isinstance(value, str) or is_uuid(value))
_WIRE_FORMATS.checks("date-time")(lambda value: not isinstance(value, str) or _RFC3339.fullmatch(value) is not None)


def is_integer(value: object) -> bool:
    """A JSON integer (Python's bool is an int, JSON's true is not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def parse_time(value: str) -> tuple[datetime, int]:
    """An RFC 3339 timestamp with up to nanosecond precision (SCHEMA-5), as (UTC second, nanoseconds) for ordering."""
    found = _RFC3339.fullmatch(value)
    assert found, f"not an RFC 3339 date-time: {value!r}"
    offset = "+00:00" if found.group(3) == "Z" else found.group(3)
    second = datetime.fromisoformat(found.group(1) + offset).astimezone(timezone.utc)
    return second, int((found.group(2) or "").ljust(9, "0"))


def assert_task_shape(task: Any, level: Level) -> None:
    """A Task as the level's document describes it (SCHEMA-1 to SCHEMA-6): the ``Task`` schema of the level, which
    fixes the fields, their types, enums and nested shapes, the level's ``current_state.state`` values (STATE-3) and
    ``display_name`` where the level has it (NAME-5), with its ``uuid`` and ``date-time`` formats checked too."""
    problems = task_shape.for_level(level.name).problems(task, formats=_WIRE_FORMATS)
    assert not problems, f"not a Task of level {level.name}: " + "; ".join(problems)


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
