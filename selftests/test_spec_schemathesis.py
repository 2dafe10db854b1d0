"""The document through schemathesis' eyes: what it generates and how its checks judge answers against it.

positive_data_acceptance sends what the schema calls valid and expects no 400, so the generated values are checked
against the server's own rules, written out independently; and Coder's real answers (JSON errors, the CSRF text/plain
400, bodiless 202/204, 401 with its challenge) must pass schemathesis' response checks while wrong ones fail them.
Clause ids (ROUTE-2, ...) are those of docs/contract/.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import find, given
from hypothesis import strategies as st
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi import checks as builtin_checks

from coder_tasks_contract.spec.vocabulary import TASK_STATUSES, parses_as_uuid
from selftests.spec_checks import fresh_document, load_in_schemathesis, operation_ids, schemathesis_operation

# A well-formed but made-up session token (AUTH-5 shape): never a real credential.
FAKE_TOKEN = "abcdefghij-0123456789abcdefghijkl"


@pytest.fixture(scope="module")
def loaded_schema() -> Any:
    """The document loaded in schemathesis with a session token configured for the header scheme."""
    return load_in_schemathesis(fresh_document(), f'[auth.openapi.CoderSessionToken]\napi_key = "{FAKE_TOKEN}"\n')


@given(data=st.data())
def test_configured_token_is_the_only_credential_generated_requests_carry(loaded_schema: Any, data: Any) -> None:
    """The other four schemes are alternatives: a generated value for any of them would outrank or contradict the
    configured header (cookie and query come first, AUTH-1; a cookie also triggers CSRF on writes, CSRF-1)."""
    for operation_id in operation_ids(fresh_document()):
        case = data.draw(schemathesis_operation(loaded_schema, operation_id).as_strategy(), label=operation_id)
        assert case.headers == {"Coder-Session-Token": FAKE_TOKEN}
        assert not case.cookies
        assert not set(case.query or {}) & {"coder_session_token", "access_token"}


GO_WHITESPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
GO_WHITESPACE += "\u2028\u2029\u202f\u205f\u3000"
NAME_VALID = re.compile(r"[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*\Z")


def _q_always_accepted(q: str) -> bool:
    """QUERY-1 to QUERY-7, restricted to what resolves on any deployment: each key once; owner `me` or an id,
    organization an id, status a TaskStatus value; a value may be wrapped in double quotes."""
    if q == "":
        return True
    keys = []
    for token in q.lower().split(" "):
        key, colon, value = token.partition(":")
        if not colon or ":" in value:
            return False
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if key == "owner":
            accepted = value == "me" or parses_as_uuid(value)
        elif key == "organization":
            accepted = parses_as_uuid(value)
        else:
            accepted = key == "status" and value in TASK_STATUSES
        if not accepted:
            return False
        keys.append(key)
    return len(keys) == len(set(keys))


@given(data=st.data())
def test_generated_positive_requests_satisfy_the_servers_own_rules(loaded_schema: Any, data: Any) -> None:
    """positive_data_acceptance sends what the schema calls valid and expects no 400: check the values the schema
    generates against the server's rules, written out independently (q: QUERY-8; name: NAME-1; input: INPUT-3,
    SEND-3)."""
    listing = data.draw(schemathesis_operation(loaded_schema, "listTasks").as_strategy(), label="listTasks")
    assert _q_always_accepted(listing.query.get("q", "")), listing.query
    create = data.draw(schemathesis_operation(loaded_schema, "createTask").as_strategy(), label="createTask")
    uuid.UUID(create.body["template_version_id"])
    name = create.body.get("name")
    assert name in (None, "") or (NAME_VALID.match(name) and len(name) <= 32 and name not in ("new", "create"))
    update = data.draw(schemathesis_operation(loaded_schema, "updateTaskInput").as_strategy(), label="updateTaskInput")
    assert update.body["input"].strip(GO_WHITESPACE) != ""
    send = data.draw(schemathesis_operation(loaded_schema, "sendTaskInput").as_strategy(), label="sendTaskInput")
    assert send.body["input"] != ""


# (what is removed from the document, the operation, the rule a generated value then breaks)
LOOSENED = [
    pytest.param(
        ("components", "parameters", "q", "schema", "pattern"),
        "listTasks",
        lambda case: not _q_always_accepted(case.query.get("q", "")),
        id="q-without-pattern",
    ),
    pytest.param(
        ("components", "schemas", "UpdateTaskInputRequest", "properties", "input", "pattern"),
        "updateTaskInput",
        lambda case: case.body["input"].strip(GO_WHITESPACE) == "",
        id="input-without-pattern",
    ),
    pytest.param(
        ("components", "schemas", "TaskSendRequest", "properties", "input", "minLength"),
        "sendTaskInput",
        lambda case: case.body["input"] == "",
        id="send-without-min-length",
    ),
    pytest.param(
        ("components", "schemas", "CreateTaskRequest", "properties", "name", "pattern"),
        "createTask",
        lambda case: bool(case.body.get("name")) and not NAME_VALID.match(case.body["name"]),
        id="name-without-pattern",
    ),
]


@pytest.mark.parametrize(("removed", "operation_id", "breaks_rule"), LOOSENED)
def test_positive_data_check_fails_once_a_rule_leaves_the_schema(
    removed: tuple[str, ...], operation_id: str, breaks_rule: Callable[[Any], bool]
) -> None:
    """Without the pattern (or minLength), schemathesis generates "valid" values the server refuses with 400."""
    document = fresh_document()
    node = document
    for part in removed[:-1]:
        node = node[part]
    del node[removed[-1]]
    strategy = schemathesis_operation(load_in_schemathesis(document), operation_id).as_strategy()
    find(strategy, breaks_rule)


CSRF_BODY = "Something is wrong with your CSRF token. Please refresh the page. If this error persists, try clearing your cookies.\n"  # noqa: E501
CHALLENGE = 'Bearer realm="coder", error="invalid_token", error_description="The access token is invalid"'
SIGNED_OUT = {"message": "You are signed out or your session has expired. Please sign in again to continue."}
JSON = "application/json; charset=utf-8"


def _answer(status: int, body: Any, content_type: str | None, headers: dict[str, str] | None = None) -> Any:
    raw = body if isinstance(body, str) else json.dumps(body)
    all_headers = {**({"content-type": content_type} if content_type else {}), **(headers or {})}
    return schemathesis.Response(
        status_code=status,
        headers={name: [value] for name, value in all_headers.items()},
        content=raw.encode(),
        request=requests.Request("GET", "http://127.0.0.1:9/").prepare(),
        elapsed=0.01,
        verify=True,
    )


# (operation, answer, the failure schemathesis must report or None): Coder's real answers pass, wrong ones fail.
ANSWERS: list[Any] = [
    pytest.param("createTask", _answer(400, CSRF_BODY, "text/plain; charset=utf-8"), None, id="csrf-text-plain-write"),
    pytest.param(
        "getTask",
        _answer(400, CSRF_BODY, "text/plain; charset=utf-8"),
        "Undocumented Content-Type",
        id="text-plain-400-on-get",
    ),
    pytest.param("createTask", _answer(400, {"message": "Task input is required."}, JSON), None, id="json-400"),
    pytest.param(
        "createTask", _answer(400, {"detail": "EOF"}, JSON), "Response violates schema", id="error-without-message"
    ),
    pytest.param("getTask", _answer(401, SIGNED_OUT, JSON, {"www-authenticate": CHALLENGE}), None, id="401"),
    # Failure titles as schemathesis 4.32 words them, or 4.30 (the newest on Python 3.10) in the optional group.
    pytest.param(
        "getTask", _answer(401, SIGNED_OUT, JSON), "Missing required (response )?headers", id="401-without-challenge"
    ),
    pytest.param(
        "listTasks", _answer(500, {"message": "Internal error fetching tasks."}, JSON), None, id="list-500-bad-status"
    ),
    pytest.param(
        "getTask", _answer(502, {"message": "Bad gateway"}, JSON), "Undocumented (HTTP )?status code", id="502-on-get"
    ),
    pytest.param("deleteTask", _answer(202, "", None), None, id="delete-202-no-body"),
    pytest.param("updateTaskInput", _answer(204, "", "application/json"), None, id="patch-204-json-type-no-body"),
    pytest.param(
        "getTask", _answer(200, {"id": str(uuid.uuid4())}, JSON), "Response violates schema", id="task-missing-fields"
    ),
]
CHECKS: list[Callable[..., Any]] = [
    builtin_checks.status_code_conformance,
    builtin_checks.content_type_conformance,
    builtin_checks.response_headers_conformance,
    builtin_checks.response_schema_conformance,
]


@pytest.mark.parametrize(("operation_id", "answer", "failure"), ANSWERS)
def test_schemathesis_checks_tell_coders_answers_from_wrong_ones(
    loaded_schema: Any, operation_id: str, answer: Any, failure: str | None
) -> None:
    case = schemathesis_operation(loaded_schema, operation_id).Case(
        path_parameters={"user": "me", "task": str(uuid.uuid4())}
    )
    if failure is None:
        case.validate_response(answer, checks=CHECKS)
    else:
        with pytest.raises(FailureGroup, match=failure):
            case.validate_response(answer, checks=CHECKS)


def test_every_task_example_passes_schemathesis_response_validation(loaded_schema: Any) -> None:
    examples = fresh_document()["components"]["examples"]
    case = schemathesis_operation(loaded_schema, "getTask").Case(
        path_parameters={"user": "me", "task": str(uuid.uuid4())}
    )
    for name in ("NewTask", "ActiveTask", "PausedTask"):
        case.validate_response(_answer(200, examples[name]["value"], JSON), checks=CHECKS)
