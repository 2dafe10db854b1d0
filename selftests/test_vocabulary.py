"""The vocabulary (``spec/vocabulary.py``) agrees with every level's document, and no fact of it is written twice on
the suite side."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from coder_tasks_contract.server.golang.gofmt import try_uuid
from coder_tasks_contract.spec import levels, vocabulary
from coder_tasks_contract.spec.levels import LEVELS, Level
from coder_tasks_contract.transport.paths import TASKS

ROOT = Path(__file__).resolve().parents[1]
VOCABULARY = ROOT / "src" / "coder_tasks_contract" / "spec" / "vocabulary.py"
# The reference server keeps its own copy of Coder's wire text on purpose (docs/architecture.md): it is the other
# side of the contract. The fault catalogue is built on it and reads the server's copy (it never imports the suite).
OTHER_SIDE = (ROOT / "src" / "coder_tasks_contract" / "server", ROOT / "src" / "coder_tasks_contract" / "faults")


@pytest.mark.parametrize("level", LEVELS, ids=lambda level: level.name)
def test_operation_routes_are_the_documents(level: Level) -> None:
    document = levels.build_spec(level)
    found = {
        item["operationId"]: (method.upper(), path)
        for path, methods in document["paths"].items()
        for method, item in methods.items()
        if method in vocabulary.OPENAPI_METHODS
    }
    expected = {
        vocabulary.operation_id(op, prefix): (method, prefix + route.removeprefix(TASKS))
        for prefix in level.prefixes
        for op, (method, route) in vocabulary.OPERATION_ROUTES.items()
        if op in level.operations
    }
    assert found == expected


@pytest.mark.parametrize("level", LEVELS, ids=lambda level: level.name)
def test_task_statuses_are_the_documents_enum(level: Level) -> None:
    enum = levels.build_spec(level)["components"]["schemas"]["TaskStatus"]["enum"]
    assert list(vocabulary.TASK_STATUSES) == enum


UUID = "5e8f9a0b-1c2d-4e3f-a4b5-c6d7e8f9a0b1"


@pytest.mark.parametrize(
    "text",
    [
        UUID,
        UUID.upper(),
        "urn:uuid:" + UUID,
        "URN:UUID:" + UUID,
        "{" + UUID + "}",
        "x" + UUID + "y",  # Go does not check the braces
        UUID.replace("-", ""),
        UUID[:-1] + "g",
        UUID.replace("-", "")[:8] + "-" + UUID.replace("-", "")[8:] + "---",  # hyphens in the wrong places
        "urx:uuid:" + UUID,
        UUID + "0",
        "é" + UUID,  # 38 bytes but 37 characters
        "",
        "me",
    ],
)
def test_parses_as_uuid_follows_go(text: str) -> None:
    """The suite's reading of Coder's uuid.Parse agrees with the reference server's, case by case."""
    assert vocabulary.parses_as_uuid(text) == (try_uuid(text) is not None)


def test_is_uuid_is_the_form_coder_writes() -> None:
    assert vocabulary.is_uuid(UUID)
    assert not vocabulary.is_uuid(UUID.upper())
    assert not vocabulary.is_uuid("{" + UUID + "}")
    assert not vocabulary.is_uuid(None)


# ---- each fact once --------------------------------------------------------------------------------------------


def _facts() -> dict[object, str]:
    """The vocabulary's strings and string sets, each keyed by its value (a set as a frozenset), with its name."""
    facts: dict[object, str] = {}
    for name, value in vars(vocabulary).items():
        if not name.isupper() or name in {"LIST", "CREATE", "GET", "DELETE", "UPDATE_INPUT", "LOGS", "SEND"}:
            continue  # an operationId on its own is a name tests cite in markers, not a fact written again
        if isinstance(value, str) and len(value) > 8 and not value.startswith(("pause", "resume")):
            facts[value] = name
        elif isinstance(value, (tuple, frozenset)) and value and all(isinstance(item, str) for item in value):
            facts[frozenset(value)] = name
    return facts


def _written(node: ast.AST) -> object | None:
    """The value a literal node writes: a string, or the set of strings of a tuple, list or set display."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts:
        items = [elt.value for elt in node.elts if isinstance(elt, ast.Constant) and isinstance(elt.value, str)]
        if len(items) == len(node.elts):
            return frozenset(items)
    return None


def _suite_files() -> list[Path]:
    files = [*(ROOT / "src").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]
    return sorted(path for path in files if path != VOCABULARY and not set(OTHER_SIDE) & set(path.parents))


def test_no_fact_of_the_vocabulary_is_written_again() -> None:
    facts = _facts()
    again = []
    for path in _suite_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            value = _written(node)
            if value is not None and value in facts:
                again.append(f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}: {facts[value]}")
    assert not again, "written again (import it from coder_tasks_contract.spec.vocabulary):\n" + "\n".join(again)


def test_the_fact_check_finds_a_copy(tmp_path: Path) -> None:
    """The check above can fail: a copy of the not-found message, or of the write set in another order, is found."""
    facts = _facts()
    copy = ast.parse(
        'MESSAGE = "Resource not found or you do not have access to this resource"\n'
        'WRITES = {"sendTaskInput", "createTask", "deleteTask", "updateTaskInput", "pauseTask", "resumeTask"}\n'
    )
    found = {facts[value] for node in ast.walk(copy) if (value := _written(node)) is not None and value in facts}
    assert found == {"NOT_FOUND_MESSAGE", "WRITE_OPERATIONS"}
