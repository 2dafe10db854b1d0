"""Tests of the OpenAPI document spec/coder-tasks.yaml, the contract every other part of the project reads.

It must be a valid OpenAPI 3.1 document that schemathesis loads (links and all), its examples must validate, its
operations must be exactly those of Coder's reference docs, and it must agree with Coder's swagger except where
spec/swagger-differences.yaml says why not. The last tests break copies of the document on purpose, to
prove each check can fail (test_spec_schemathesis.py covers what schemathesis generates from it and how its checks
judge answers; test_spec_data.py holds the pinned files to their checksums and the newest level to Coder's newest
swagger). Coder's docs page and swagger are pinned in selftests/data/coder/ (their README says where from); clause
ids (ROUTE-2, ...) are those of docs/contract/.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis

from selftests.spec_checks import (
    LEDGER_PATH,
    REFERENCE_DOCS,
    REFERENCE_SWAGGER,
    SPEC_PATH,
    documented_operations,
    example_problems,
    fresh_document,
    iter_examples,
    link_graph,
    load_yaml,
    operation_ids,
    operation_problems,
    operations,
    swagger_differences,
    validity_problems,
)
from selftests.spec_checks import ledger_problems as ledger_problems_of

TASK_OPERATIONS = {"getTask", "deleteTask", "updateTaskInput", "sendTaskInput", "getTaskLogs"}
WRITE_OPERATIONS = {"createTask", "deleteTask", "updateTaskInput", "sendTaskInput"}


@pytest.fixture
def document() -> dict[str, Any]:
    """A private copy of the document: a test may break it without touching the others."""
    return fresh_document()


def reference_text(path: Path) -> str:
    """A pinned file of Coder's: missing is a failure (FileNotFoundError), never a skip."""
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
    """The seven `METHOD /path` lines of experimental.md at 82f525baf3, no more, no fewer (ROUTE-6 route table)."""
    assert operation_problems(document, reference_text(REFERENCE_DOCS)) == []


def test_operation_ids_are_the_stable_names_the_suite_uses(document: dict[str, Any]) -> None:
    assert operation_ids(document) == sorted({"listTasks", "createTask"} | TASK_OPERATIONS)


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


# ── responses: what each operation documents (ROUTE-6) ────────────────────────────────────────────────────────────────

# The statuses the clauses give per operation, beside the 401/403 from authentication (AUTH-6 to AUTH-13), 429 from the
# rate limiter (RATE-1) and 500 from internal errors that every operation can answer.
STATUSES = {
    "listTasks": {"200", "400"},  # QUERY-8: 400 bad q; 500 for a status value outside TaskStatus (QUERY-15)
    "createTask": {"201", "400", "404", "406", "409"},  # CREATE-2 to CREATE-8
    "getTask": {"200", "400", "404"},  # USER-2 unknown user 400, GET-1
    "deleteTask": {"202", "400", "404", "409"},  # DELETE-2: 409 while a build is active
    "updateTaskInput": {"204", "400", "404", "409"},  # INPUT-4: 409 unless paused
    "getTaskLogs": {"200", "400", "404", "502"},  # LOGS-2, AGENT-1
    "sendTaskInput": {"204", "400", "404", "502"},  # SEND-4, AGENT-1
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
    """DELETE 202, PATCH /input 204 and POST /send 204 have no body (ROUTE-9, ROUTE-10)."""
    for operation_id, status in (("deleteTask", "202"), ("updateTaskInput", "204"), ("sendTaskInput", "204")):
        assert "content" not in operation_of(document, operation_id)["responses"][status]


def test_cookie_alone_is_not_an_alternative_for_writes(document: dict[str, Any]) -> None:
    """A cookie-only POST/PATCH/DELETE is refused by CSRF protection with 400 text/plain (CSRF-1)."""
    global_schemes = {name for requirement in document["security"] for name in requirement}
    assert "CoderSessionTokenCookie" in global_schemes
    for operation_id in WRITE_OPERATIONS:
        operation = operation_of(document, operation_id)
        schemes = {name for requirement in operation["security"] for name in requirement}
        assert schemes == global_schemes - {"CoderSessionTokenCookie"}, operation_id
        bad_request = document["components"]["responses"][operation["responses"]["400"]["$ref"].rsplit("/", 1)[-1]]
        assert "text/plain" in bad_request["content"], f"{operation_id}: the CSRF 400 is text/plain"


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
