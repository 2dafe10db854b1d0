"""Tests of the OpenAPI document spec/coder-tasks.yaml, the contract every other part of the project reads.

It must be a valid OpenAPI 3.1 document that schemathesis loads (links and all), its examples must validate, its
operations must be exactly those of Coder's reference docs, and it must agree with Coder's swagger except where
spec/swagger-differences.yaml says why not. Its request schemas must call valid only what the server accepts, and
its responses must let schemathesis' checks tell Coder's real answers from wrong ones. The last tests break copies of
the document on purpose, to prove each check can fail. "§" refers to shared/reference/coder-tasks-behaviour.md.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import find, given
from hypothesis import strategies as st
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi import checks as builtin_checks

from selftests.spec_checks import (
    LEDGER_PATH,
    REFERENCE_DOCS,
    REFERENCE_SWAGGER,
    SPEC_PATH,
    documented_operations,
    example_problems,
    iter_examples,
    link_graph,
    load_in_schemathesis,
    load_yaml,
    operation_problems,
    operations,
    swagger_differences,
    validity_problems,
)
from selftests.spec_checks import ledger_problems as ledger_problems_of

TASK_OPERATIONS = {"getTask", "deleteTask", "updateTaskInput", "sendTaskInput", "getTaskLogs"}
WRITE_OPERATIONS = {"createTask", "deleteTask", "updateTaskInput", "sendTaskInput"}
# A well-formed but made-up session token (§7.2 shape): never a real credential.
FAKE_TOKEN = "abcdefghij-0123456789abcdefghijkl"


@lru_cache(maxsize=1)
def _pristine() -> dict[str, Any]:
    document: dict[str, Any] = load_yaml(SPEC_PATH)
    return document


@pytest.fixture
def document() -> dict[str, Any]:
    """A private copy of the document: a test may break it without touching the others."""
    return copy.deepcopy(_pristine())


def reference_text(path: Path) -> str:
    if not path.is_file():
        pytest.skip(f"Coder's reference files are not beside the repository ({path} is missing): copy shared/ there")
    return path.read_text(encoding="utf-8")


def ledger_problems(document: dict[str, Any], ledger: dict[str, Any] | None = None) -> list[str]:
    swagger = json.loads(reference_text(REFERENCE_SWAGGER))
    return ledger_problems_of(swagger_differences(document, swagger), ledger or load_yaml(LEDGER_PATH))


def operation_of(document: dict[str, Any], operation_id: str) -> dict[str, Any]:
    for label, found in operations(document).items():
        if found == operation_id:
            method, path = label.split(" ", 1)
            operation: dict[str, Any] = document["paths"][path][method.lower()]
            return operation
    raise LookupError(operation_id)


# ── the document as it is ───────────────────────────────────────────────────────────────────────────────────────────


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    assert validity_problems(document) == []


def test_top_level_sections_follow_house_order(document: dict[str, Any]) -> None:
    assert list(document) == ["openapi", "info", "servers", "security", "tags", "paths", "components"]


def test_operations_are_exactly_those_of_coders_reference_docs(document: dict[str, Any]) -> None:
    """The seven `METHOD /path` lines of experimental.md at 82f525baf3, no more, no fewer (§1 route table)."""
    assert operation_problems(document, reference_text(REFERENCE_DOCS)) == []


def test_operation_ids_are_the_stable_names_the_suite_uses(document: dict[str, Any]) -> None:
    assert sorted(operations(document).values()) == sorted({"listTasks", "createTask"} | TASK_OPERATIONS)


def test_document_loads_in_schemathesis_with_every_operation(document: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_path(SPEC_PATH)
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert labels == set(operations(document))


def test_state_machine_links_a_created_task_to_every_task_operation(document: dict[str, Any]) -> None:
    """Explicit links only (inference off): the task id from createTask's 201 feeds the five task operations."""
    assert link_graph(document) == {("createTask", target) for target in TASK_OPERATIONS}


def test_links_pass_the_task_id_and_the_same_user(document: dict[str, Any]) -> None:
    for name, link in document["components"]["links"].items():
        assert link["parameters"] == {"user": "$request.path.user", "task": "$response.body#/id"}, name


def test_every_example_validates_against_its_schema(document: dict[str, Any]) -> None:
    assert example_problems(document) == []


def test_every_schema_property_has_a_description_and_examples(document: dict[str, Any]) -> None:
    checked = {where for where, _, _ in iter_examples(document)}
    for name, schema in document["components"]["schemas"].items():
        for prop, node in schema.get("properties", {}).items():
            at = f"components/schemas/{name}/properties/{prop}"
            assert node.get("description"), f"{at} has no description"
            assert node.get("examples"), f"{at} has no examples"
            assert f"{at}/examples/0" in checked, f"{at}: its examples are not validated"


def test_document_agrees_with_coders_swagger_except_the_ledger(document: dict[str, Any]) -> None:
    problems = ledger_problems(document)
    assert problems == [], "\n".join(problems)


# ── responses: what each operation documents (§3) ───────────────────────────────────────────────────────────────────

# The statuses the behaviour note lists per operation, beside the 401/403 from authentication (§7.3), 429 from the
# rate limiter (§1.1) and 500 from internal errors that every operation can answer.
STATUSES = {
    "listTasks": {"200", "400"},  # §3.1: 400 bad q; 500 for a status value outside TaskStatus (§6)
    "createTask": {"201", "400", "404", "406", "409"},  # §3.2
    "getTask": {"200", "400", "404"},  # §2.1 unknown user 400, §3.3
    "deleteTask": {"202", "400", "404", "409"},  # §3.4: 409 while a build is active
    "updateTaskInput": {"204", "400", "404", "409"},  # §3.5: 409 unless paused
    "getTaskLogs": {"200", "400", "404", "502"},  # §3.7, §3.8
    "sendTaskInput": {"204", "400", "404", "502"},  # §3.6, §3.8
}


@pytest.mark.parametrize("operation_id", sorted(STATUSES))
def test_operation_documents_the_statuses_of_the_behaviour_note(document: dict[str, Any], operation_id: str) -> None:
    responses = operation_of(document, operation_id)["responses"]
    assert set(responses) == STATUSES[operation_id] | {"401", "403", "429", "500"}


@pytest.mark.parametrize("operation_id", sorted(STATUSES))
def test_errors_are_reusable_responses_with_coders_error_body(document: dict[str, Any], operation_id: str) -> None:
    for status, response in operation_of(document, operation_id)["responses"].items():
        if status.startswith("2"):
            continue
        assert set(response) == {"$ref"}, f"{operation_id} {status} is not a $ref to components/responses"
        component = document["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
        assert component["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Response"}


def test_bodiless_successes_declare_no_content(document: dict[str, Any]) -> None:
    """DELETE 202, PATCH /input 204 and POST /send 204 have no body (§3.4-§3.6)."""
    for operation_id, status in (("deleteTask", "202"), ("updateTaskInput", "204"), ("sendTaskInput", "204")):
        assert "content" not in operation_of(document, operation_id)["responses"][status]


def test_cookie_alone_is_not_an_alternative_for_writes(document: dict[str, Any]) -> None:
    """A cookie-only POST/PATCH/DELETE is refused by CSRF protection with 400 text/plain (§7.4)."""
    global_schemes = {name for requirement in document["security"] for name in requirement}
    assert "CoderSessionTokenCookie" in global_schemes
    for operation_id in WRITE_OPERATIONS:
        operation = operation_of(document, operation_id)
        schemes = {name for requirement in operation["security"] for name in requirement}
        assert schemes == global_schemes - {"CoderSessionTokenCookie"}, operation_id
        bad_request = document["components"]["responses"][operation["responses"]["400"]["$ref"].rsplit("/", 1)[-1]]
        assert "text/plain" in bad_request["content"], f"{operation_id}: the CSRF 400 is text/plain"


# ── the document through schemathesis' eyes ────────────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def loaded_schema() -> Any:
    """The document loaded in schemathesis with a session token configured for the header scheme."""
    return load_in_schemathesis(_pristine(), f'[auth.openapi.CoderSessionToken]\napi_key = "{FAKE_TOKEN}"\n')


def _operation(schema: Any, operation_id: str) -> Any:
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.definition.raw.get("operationId") == operation_id:
            return operation
    raise LookupError(operation_id)


@given(data=st.data())
def test_configured_token_is_the_only_credential_generated_requests_carry(loaded_schema: Any, data: Any) -> None:
    """The other four schemes are alternatives: a generated value for any of them would outrank or contradict the
    configured header (cookie and query come first, §7.1; a cookie also triggers CSRF on writes, §7.4)."""
    for operation_id in sorted(STATUSES):
        case = data.draw(_operation(loaded_schema, operation_id).as_strategy(), label=operation_id)
        assert case.headers == {"Coder-Session-Token": FAKE_TOKEN}
        assert not case.cookies
        assert not set(case.query or {}) & {"coder_session_token", "access_token"}


GO_WHITESPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
GO_WHITESPACE += "\u2028\u2029\u202f\u205f\u3000"
NAME_VALID = re.compile(r"[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*\Z")
TASK_STATUSES = {"pending", "initializing", "active", "paused", "unknown", "error"}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _q_always_accepted(q: str) -> bool:
    """§6, restricted to what resolves on any deployment: each key once; owner `me` or an id, organization an id,
    status a TaskStatus value; a value may be wrapped in double quotes."""
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
            accepted = value == "me" or _is_uuid(value)
        elif key == "organization":
            accepted = _is_uuid(value)
        else:
            accepted = key == "status" and value in TASK_STATUSES
        if not accepted:
            return False
        keys.append(key)
    return len(keys) == len(set(keys))


@given(data=st.data())
def test_generated_positive_requests_satisfy_the_servers_own_rules(loaded_schema: Any, data: Any) -> None:
    """positive_data_acceptance sends what the schema calls valid and expects no 400: check the values the schema
    generates against the server's rules, written out independently (q §6, name §3.2, input §3.5/§3.6)."""
    listing = data.draw(_operation(loaded_schema, "listTasks").as_strategy(), label="listTasks")
    assert _q_always_accepted(listing.query.get("q", "")), listing.query
    create = data.draw(_operation(loaded_schema, "createTask").as_strategy(), label="createTask")
    uuid.UUID(create.body["template_version_id"])
    name = create.body.get("name")
    assert name in (None, "") or (NAME_VALID.match(name) and len(name) <= 32 and name not in ("new", "create"))
    update = data.draw(_operation(loaded_schema, "updateTaskInput").as_strategy(), label="updateTaskInput")
    assert update.body["input"].strip(GO_WHITESPACE) != ""
    send = data.draw(_operation(loaded_schema, "sendTaskInput").as_strategy(), label="sendTaskInput")
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
    document: dict[str, Any], removed: tuple[str, ...], operation_id: str, breaks_rule: Callable[[Any], bool]
) -> None:
    """Without the pattern (or minLength), schemathesis generates "valid" values the server refuses with 400."""
    node = document
    for part in removed[:-1]:
        node = node[part]
    del node[removed[-1]]
    strategy = _operation(load_in_schemathesis(document), operation_id).as_strategy()
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
    pytest.param(
        "getTask", _answer(401, SIGNED_OUT, JSON), "Missing required response headers", id="401-without-challenge"
    ),
    pytest.param(
        "listTasks", _answer(500, {"message": "Internal error fetching tasks."}, JSON), None, id="list-500-bad-status"
    ),
    pytest.param(
        "getTask", _answer(502, {"message": "Bad gateway"}, JSON), "Undocumented status code", id="502-on-get"
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
    case = _operation(loaded_schema, operation_id).Case(path_parameters={"user": "me", "task": str(uuid.uuid4())})
    if failure is None:
        case.validate_response(answer, checks=CHECKS)
    else:
        with pytest.raises(FailureGroup, match=failure):
            case.validate_response(answer, checks=CHECKS)


def test_every_task_example_passes_schemathesis_response_validation(loaded_schema: Any) -> None:
    examples = _pristine()["components"]["examples"]
    case = _operation(loaded_schema, "getTask").Case(path_parameters={"user": "me", "task": str(uuid.uuid4())})
    for name in ("NewTask", "ActiveTask", "PausedTask"):
        case.validate_response(_answer(200, examples[name]["value"], JSON), checks=CHECKS)


# ── every check can fail: broken copies of the document ─────────────────────────────────────────────────────────────


def _break_property_example(document: dict[str, Any]) -> None:
    document["components"]["schemas"]["Task"]["properties"]["id"]["examples"] = ["not-a-uuid"]


def _break_response_example(document: dict[str, Any]) -> None:
    document["components"]["examples"]["NewTask"]["value"]["status"] = "sleeping"


def _orphan_example(document: dict[str, Any]) -> None:
    document["components"]["examples"]["Orphan"] = {"value": {"anything": True}}


def _extra_operation(document: dict[str, Any]) -> None:
    send = document["paths"]["/api/experimental/tasks/{user}/{task}/send"]
    pause = {key: value for key, value in copy.deepcopy(send["post"]).items() if key != "requestBody"}
    pause["operationId"] = "pauseTask"
    document["paths"]["/api/experimental/tasks/{user}/{task}/pause"] = {"parameters": send["parameters"], "post": pause}


def _missing_operation(document: dict[str, Any]) -> None:
    del document["paths"]["/api/experimental/tasks/{user}/{task}/logs"]


def _response_without_description(document: dict[str, Any]) -> None:
    del document["components"]["responses"]["NotFound"]["description"]


def _changed_field_type(document: dict[str, Any]) -> None:
    document["components"]["schemas"]["Task"]["properties"]["owner_name"] = {
        "type": "integer",
        "description": "broken on purpose",
        "examples": [1],
    }


def _resolved_difference(document: dict[str, Any]) -> None:
    document["components"]["schemas"]["TaskState"]["enum"].remove("failure")


def _removed_link(document: dict[str, Any]) -> None:
    operation_of(document, "createTask")["responses"]["201"]["links"].pop("DeleteTask")


MUTATIONS = [
    pytest.param(_break_property_example, example_problems, "components/schemas/Task/properties/id", id="bad-example"),
    pytest.param(_break_response_example, example_problems, "'sleeping' is not one of", id="bad-response-example"),
    pytest.param(_orphan_example, example_problems, "Orphan: not used", id="unchecked-example"),
    pytest.param(
        _extra_operation,
        lambda d: operation_problems(d, reference_text(REFERENCE_DOCS)),
        "not in Coder's reference docs: POST /api/experimental/tasks/{user}/{task}/pause",
        id="extra-op",
    ),
    pytest.param(
        _missing_operation,
        lambda d: operation_problems(d, reference_text(REFERENCE_DOCS)),
        "missing from the document: GET /api/experimental/tasks/{user}/{task}/logs",
        id="missing-op",
    ),
    pytest.param(
        _extra_operation,
        ledger_problems,
        "undeclared difference from Coder's swagger: operation POST",
        id="extra-op-vs-swagger",
    ),
    pytest.param(
        _response_without_description, validity_problems, '"description" is a required property', id="invalid-document"
    ),
    pytest.param(
        _changed_field_type,
        ledger_problems,
        "property Task.owner_name: swagger 'string', spec 'integer'",
        id="undeclared-difference",
    ),
    pytest.param(_resolved_difference, ledger_problems, "stale ledger entry: enum TaskState", id="stale-ledger"),
    pytest.param(
        _removed_link,
        lambda d: sorted({("createTask", t) for t in TASK_OPERATIONS} - link_graph(d)),
        "deleteTask",
        id="removed-link",
    ),
]


@pytest.mark.parametrize(("mutate", "check", "expected"), MUTATIONS)
def test_each_check_fails_on_a_document_broken_on_purpose(
    document: dict[str, Any], mutate: Callable[[dict[str, Any]], None], check: Callable[..., Any], expected: str
) -> None:
    assert not check(copy.deepcopy(document)), "the unbroken document must pass the check first"
    mutate(document)
    problems = check(document)
    assert any(expected in str(problem) for problem in problems), problems


def test_ledger_check_fails_on_an_entry_without_a_reason(document: dict[str, Any]) -> None:
    ledger = load_yaml(LEDGER_PATH)
    ledger["differences"][0]["reason"] = " "
    assert any("without a reason" in problem for problem in ledger_problems(document, ledger))


def test_documented_operations_parser_reads_the_operation_lines_only() -> None:
    markdown = "## List\n\n```shell\ncurl -X GET http://x/api/v2/api/experimental/tasks\n```\n\n`GET /api/x`\n"
    assert documented_operations(markdown) == {"GET /api/x"}
