"""The contract levels (levels.py) and their documents (overlays.py, spec/levels/): the table says what the clauses
LEVEL-2 and LEVEL-3 say, each level's built document is valid OpenAPI 3.1 and agrees with the table,
the overlay operations do what spec/levels/README.md promises, and server versions map to the right level."""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from coder_tasks_contract.spec import levels, overlays, vocabulary
from coder_tasks_contract.spec.levels import LEVEL_82F, LEVEL_229, LEVEL_NEWEST, LEVELS, Level, LevelError
from coder_tasks_contract.transport.paths import TASKS, TASKS_V2

from . import spec_checks

LEVEL_PARAMS = [pytest.param(level, id=level.name) for level in LEVELS]


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    return {level.name: levels.build_spec(level) for level in LEVELS}


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """operationId -> operation object."""
    return {
        operation["operationId"]: operation
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in spec_checks.METHODS
    }


# ---- the table pins the level clauses ------------------------------------------------------------------------------


def test_the_table_says_what_the_note_says_at_82f() -> None:
    """USER-2, SEND-4, AGENT-1, STATE-3 at 82f525baf3, written out literally (not read from the table)."""
    assert LEVEL_82F.prefixes == ("/api/experimental/tasks",)
    assert (LEVEL_82F.unknown_user.status, LEVEL_82F.unknown_user.message) == (
        400,
        '"user" must be an existing uuid or username.',
    )
    assert LEVEL_82F.unknown_user_refusal("bob").detail == 'queried user="bob"'
    paused = LEVEL_82F.send_refusal("paused")
    assert (paused.status, paused.message, paused.detail) == (
        400,
        "Task status must be active.",
        'Task status is "paused", it must be "active" to interact with the task.',
    )
    assert LEVEL_82F.logs_refusal("paused") == paused
    assert LEVEL_82F.send_app_not_ready.status == 502
    assert "failure" in LEVEL_82F.task_states
    assert not (LEVEL_82F.display_name)
    assert not (LEVEL_82F.pause_resume)
    assert not (LEVEL_82F.log_snapshots)


def test_the_table_says_what_the_note_says_at_2_29() -> None:
    """ROUTE-1, NAME-4, NAME-5 (#20921, #20856): the GA mount and display_name; every answer of 82f otherwise."""
    assert LEVEL_229.prefixes == ("/api/experimental/tasks", "/api/v2/tasks")
    assert LEVEL_229.documented_prefix == "/api/v2/tasks"
    assert LEVEL_229.display_name
    assert LEVEL_229.generated_name_prefix == ""
    for field in ("unknown_user", "send_not_active", "logs_not_active", "send_app_not_ready", "task_states"):
        assert getattr(LEVEL_229, field) == getattr(LEVEL_82F, field), field


def test_the_table_says_what_the_note_says_at_newest() -> None:
    """The newest level's changes (LEVEL-3): USER-2 (#22069), SEND-4 (#23424), AGENT-2 and LOGS-3 (#21887, #21771),
    STATE-3 (#22203), AUTH-13."""
    assert LEVEL_NEWEST.unknown_user.status == 404
    assert LEVEL_NEWEST.unknown_user.message == "Resource not found or you do not have access to this resource"
    expected = {
        "pending": (409, "Task is pending."),
        "initializing": (409, "Task is initializing."),
        "paused": (409, "Task is paused."),
        "error": (400, "Task must be active."),
        "unknown": (400, "Task must be active."),
    }
    assert {s: (r.status, r.message) for s, r in LEVEL_NEWEST.send_not_active.items()} == expected
    assert LEVEL_NEWEST.send_refusal("paused").detail == "Resume the task to send messages."
    assert {s: LEVEL_NEWEST.logs_refusal(s) is None for s in vocabulary.NOT_ACTIVE} == {
        "pending": True,
        "initializing": True,
        "paused": True,
        "error": False,
        "unknown": False,
    }
    cannot = LEVEL_NEWEST.logs_refusal("error")
    assert cannot is not None
    assert (cannot.status, cannot.message) == (
        409,
        "Cannot fetch logs for task in current state.",
    )
    assert LEVEL_NEWEST.send_app_not_ready.status == 409
    assert LEVEL_NEWEST.task_states == {"working", "idle", "complete", "failed"}
    assert LEVEL_NEWEST.auth_internal_error_status == 500
    assert LEVEL_NEWEST.pause_resume
    assert LEVEL_NEWEST.prefixes == LEVEL_229.prefixes


def test_operation_ids_per_mount_and_back() -> None:
    assert vocabulary.operation_id("getTask", TASKS) == "getTask"
    assert vocabulary.operation_id("getTask", TASKS_V2) == "getTaskV2"
    assert vocabulary.canonical_operation_id("pauseTaskV2") == "pauseTask"
    assert vocabulary.canonical_operation_id("getTask") == "getTask"
    assert vocabulary.canonical_operation_id("somethingV2") == "somethingV2"  # not an operation of ours
    assert len(LEVEL_NEWEST.operation_ids()) == 18 == 2 * len(LEVEL_NEWEST.operations)


# ---- each level's document --------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVEL_PARAMS)
def test_each_level_builds_a_valid_openapi_3_1_document(documents: dict[str, Any], level: Level) -> None:
    document = documents[level.name]
    assert document["openapi"] == "3.1.0"
    assert spec_checks.validity_problems(document) == []
    assert spec_checks.example_problems(document) == []


@pytest.mark.parametrize("level", LEVEL_PARAMS)
def test_each_level_document_loads_in_schemathesis(documents: dict[str, Any], level: Level) -> None:
    schema = spec_checks.load_in_schemathesis(documents[level.name])
    loaded = {op.ok().definition.raw["operationId"] for op in schema.get_all_operations()}
    assert loaded == set(level.operation_ids())


def test_the_82f_document_is_the_hand_written_base(documents: dict[str, Any]) -> None:
    base = spec_checks.fresh_document()
    built = copy.deepcopy(documents["82f"])
    assert built["info"].pop("x-coder-level") == "82f"
    assert built["info"].pop("x-coder-mounts") == {TASKS: ""}
    assert built == base


def disagreements(document: dict[str, Any], level: Level) -> list[str]:
    """Where the level's document and the table (levels.py) say different things; [] when they agree."""
    problems: list[str] = []

    def check(holds: bool, what: str) -> None:
        if not holds:
            problems.append(what)

    schemas = document["components"]["schemas"]
    check(tuple(document["info"]["x-coder-mounts"]) == level.prefixes, "mounts")
    check(level.commit.startswith(document["info"]["x-coder-commit"]), "commit")
    check(sorted(_operations(document)) == sorted(level.operation_ids()), "operations")
    check(("display_name" in schemas["Task"]["properties"]) is level.display_name, "Task.display_name")
    check(("display_name" in schemas["Task"]["required"]) is level.display_name, "Task.required")
    check(("display_name" in schemas["CreateTaskRequest"]["properties"]) is level.display_name, "create display_name")
    check(set(schemas["TaskState"]["enum"]) == level.task_states, "TaskState")
    check(("snapshot" in schemas["TaskLogsResponse"]["properties"]) is bool(level.log_snapshots), "snapshot")
    send = {level.send_refusal(status).status for status in vocabulary.NOT_ACTIVE} | {level.send_app_not_ready.status}
    logs = {r.status for r in (level.logs_refusal(s) for s in vocabulary.NOT_ACTIVE) if r is not None}
    operations = _operations(document)
    for prefix in level.prefixes:
        statuses = {
            base: {int(code) for code in operations[vocabulary.operation_id(base, prefix)]["responses"]}
            for base in level.operations
            if vocabulary.operation_id(base, prefix) in operations
        }
        if set(statuses) != set(level.operations):
            problems.append(f"operations at {prefix}")
            continue
        for base in ("getTask", "deleteTask", "updateTaskInput", "sendTaskInput", "getTaskLogs", "createTask"):
            check(level.unknown_user.status in statuses[base], f"unknown user on {base} at {prefix}")
        # getTask's only 400 was the unknown user (USER-2).
        check((400 in statuses["getTask"]) is (level.unknown_user.status == 400), f"getTask 400 at {prefix}")
        check(send <= statuses["sendTaskInput"], f"send statuses at {prefix}")
        check((409 in statuses["sendTaskInput"]) is (409 in send), f"send 409 at {prefix}")
        check(logs <= statuses["getTaskLogs"], f"logs statuses at {prefix}")
        check((409 in statuses["getTaskLogs"]) is (409 in logs), f"logs 409 at {prefix}")
    return problems


@pytest.mark.parametrize("level", LEVEL_PARAMS)
def test_the_table_agrees_with_the_level_document(documents: dict[str, Any], level: Level) -> None:
    """Every difference the table states is in the document, and the document has nothing the table lacks."""
    assert disagreements(documents[level.name], level) == []


@pytest.mark.parametrize(
    ("document_of", "level", "problem"),
    [
        pytest.param("2.29", replace(LEVEL_229, display_name=False), "Task.display_name", id="field"),
        pytest.param("2.29", replace(LEVEL_229, prefixes=(TASKS,)), "mounts", id="mounts"),
        pytest.param("newest", replace(LEVEL_NEWEST, unknown_user=LEVEL_82F.unknown_user), "getTask 400", id="status"),
        pytest.param("newest", replace(LEVEL_NEWEST, pause_resume=False), "operations", id="operations"),
        pytest.param("82f", LEVEL_NEWEST, "TaskState", id="other-level"),
    ],
)
def test_the_agreement_check_catches_a_table_that_disagrees(
    documents: dict[str, Any], document_of: str, level: Level, problem: str
) -> None:
    assert any(problem in found for found in disagreements(documents[document_of], level))


def test_each_overlay_extends_the_level_before_it() -> None:
    chain = overlays.chain(LEVELS[-1].name)
    assert [overlay.level for overlay in chain] == [level.name for level in LEVELS]
    assert chain[0].extends is None
    assert all(later.extends == earlier.level for earlier, later in itertools.pairwise(chain))


def test_alias_operations_link_to_the_same_mount(documents: dict[str, Any]) -> None:
    """A task created through /api/v2/tasks leads (links) to the operations at /api/v2/tasks."""
    graph = spec_checks.link_graph(documents["newest"])
    assert ("createTaskV2", "getTaskV2") in graph
    assert ("createTaskV2", "pauseTaskV2") in graph
    assert not any(source.endswith("V2") != target.endswith("V2") for source, target in graph)


# ---- the overlay operations (spec/levels/README.md) ---------------------------------------------------------------


def test_merge_patch_follows_rfc_7386() -> None:
    target = {"a": {"b": 1, "c": [1, 2]}, "d": "x", "e": {"f": 1}}
    shared = target["e"]
    result = overlays.merge_patch(target, {"a": {"b": None, "c": [3]}, "d": {"g": None, "h": 2}, "e": {"k": 0}})
    assert result == {"a": {"c": [3]}, "d": {"h": 2}, "e": {"f": 1, "k": 0}}
    assert result["e"] is shared  # dicts change in place: YAML anchors shared in the base stay shared


def _write(directory: Path, name: str, data: dict[str, Any]) -> None:
    (directory / f"{name}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")


def _tiny_base(directory: Path) -> Path:
    base = directory / "base.yaml"
    operation = {
        "operationId": "getTask",
        "responses": {"200": {"description": "ok", "links": {"L": {"$ref": "#/components/links/L"}}}},
    }
    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {TASKS + "/{task}": {"get": operation}, "/api/v2/buildinfo": {"get": {"operationId": "info"}}},
        "components": {
            "schemas": {"S": {"enum": ["a", "b"], "required": ["x"]}},
            "links": {"L": {"operationId": "getTask"}},
        },
    }
    base.write_text(yaml.safe_dump(document), encoding="utf-8")
    return base


def test_an_overlay_chain_applies_merge_set_add_remove_then_mounts(tmp_path: Path) -> None:
    base = _tiny_base(tmp_path)
    _write(tmp_path, "one", {"level": "one", "extends": None})
    _write(
        tmp_path,
        "two",
        {
            "level": "two",
            "extends": "one",
            "mounts": {TASKS_V2: "V2"},
            "merge": {"info": {"title": "two"}, "components": {"schemas": {"T": {"type": "object"}}}},
            "set": {"/components/schemas/S/default": None},
            "add": {"/components/schemas/S/required": ["y"]},
            "remove": {"/components/schemas/S/enum": ["a"]},
        },
    )
    document = overlays.build("two", base=base, directory=tmp_path)
    assert document["info"]["title"] == "two"
    assert document["components"]["schemas"]["S"] == {"enum": ["b"], "required": ["x", "y"], "default": None}
    copied = document["paths"][TASKS_V2 + "/{task}"]["get"]
    assert copied["operationId"] == "getTaskV2"
    assert copied["responses"]["200"]["links"]["L"] == {"$ref": "#/components/links/LV2"}
    assert document["components"]["links"]["LV2"] == {"operationId": "getTaskV2"}
    assert "/api/v2/buildinfo" in document["paths"]
    assert "/api/v2/tasks/buildinfo" not in document["paths"]
    assert document["info"]["x-coder-mounts"] == {TASKS: "", TASKS_V2: "V2"}


@pytest.mark.parametrize(
    ("overlay", "message"),
    [
        pytest.param({"level": "bad", "extends": None, "oops": 1}, "unknown key(s) oops", id="unknown-key"),
        pytest.param({"level": "other", "extends": None}, "file is named for 'bad'", id="wrong-level"),
        pytest.param(
            {"level": "bad", "extends": None, "add": {"/components/schemas/S/enum": ["a"]}},
            "already there",
            id="add-twice",
        ),
        pytest.param(
            {"level": "bad", "extends": None, "remove": {"/components/schemas/S/enum": ["z"]}},
            "is not there",
            id="remove-absent",
        ),
        pytest.param(
            {"level": "bad", "extends": None, "add": {"/components/schemas/Q/enum": ["a"]}},
            "nothing at 'Q'",
            id="bad-pointer",
        ),
        pytest.param({"level": "bad", "extends": "bad"}, "in a circle", id="circular"),
    ],
)
def test_a_broken_overlay_is_refused_with_its_file_and_problem(
    tmp_path: Path, overlay: dict[str, Any], message: str
) -> None:
    base = _tiny_base(tmp_path)
    _write(tmp_path, "bad", overlay)
    with pytest.raises(overlays.OverlayError) as caught:
        overlays.build("bad", base=base, directory=tmp_path)
    assert message in str(caught.value)


# ---- which level judges a server version ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "level", "reason"),
    [
        ("v2.28.1-devel+82f525b", "82f", "build of commit 82f525baf3"),
        ("v2.28.0", "82f", "v2.28.0 <= version < v2.29.0"),
        ("v2.28.4+0a1b2c3", "82f", "v2.28.0 <= version"),
        ("v2.29.0", "2.29", "v2.29.0 <= version < v2.32.0"),
        ("2.30.2", "2.29", "v2.29.0 <= version"),
        ("v2.31.5+fedcba9", "2.29", "v2.29.0 <= version"),
        ("v2.28.1-devel+b255827", "2.29", "build of commit b255827a52"),
        ("v2.30.0-devel+1234567", "2.29", "main-branch build"),
        ("v2.32.0-rc.0", "newest", "v2.32.0 <= version"),
        ("v2.33.1", "newest", "v2.32.0 <= version"),
        ("v2.34.1-devel+a12b051", "newest", "build of commit a12b051834"),
        ("v2.40.0", "newest", "newer than v2.34.0.x"),
    ],
)
def test_detection_maps_server_versions_to_levels(version: str, level: str, reason: str) -> None:
    detection = levels.detect(version)
    assert detection.level.name == level
    assert reason in detection.reason
    assert version in detection.reason


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("v2.27.3", "predates v2.28.0"),
        ("v0.0.0-devel+deadbee", "predates v2.28.0"),
        ("devel", "not a vMAJOR.MINOR.PATCH version"),
        ("", "not a vMAJOR.MINOR.PATCH version"),
    ],
)
def test_a_version_no_level_judges_says_to_pass_coder_version(version: str, message: str) -> None:
    with pytest.raises(LevelError) as caught:
        levels.detect(version)
    assert message in str(caught.value)
    assert "--coder-version 82f | 2.29 | newest" in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "level"),
    [("82f", "82f"), ("2.29", "2.29"), (" newest ", "newest"), ("v2.30.1", "2.29"), ("v2.32.0", "newest")],
)
def test_coder_version_takes_a_level_or_a_version(raw: str, level: str) -> None:
    assert levels.parse_choice(raw) == level


@pytest.mark.parametrize("raw", ["bogus", "2.28.x", "v2.27.0", "latest"])
def test_coder_version_refuses_anything_else_naming_the_choices(raw: str) -> None:
    with pytest.raises(
        LevelError, match=re.escape("pass one of 82f, 2.29, newest, or a Coder version such as v2.30.1")
    ):
        levels.parse_choice(raw)
