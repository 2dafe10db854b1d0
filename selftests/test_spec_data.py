"""Coder's pinned data (selftests/data/coder/): its checksums, and the newest level's document against Coder's newest
swagger.

The files are Coder's machine-generated API description, copied into the repository so that a clone checks the
document with nothing beside it; their README records where each comes from and its sha256, and the first tests here
hold the files to it. The newest swagger (commit a12b05183) is used for one fact only: the operations under
/api/v2/tasks, which the newest level's document (spec/coder-tasks.yaml plus spec/levels/ overlays) must match.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from coder_tasks_contract.spec import levels
from selftests.spec_checks import (
    METHODS,
    REFERENCE,
    REFERENCE_DOCS,
    REFERENCE_README,
    REFERENCE_SWAGGER,
    REFERENCE_SWAGGER_NEWEST,
    operations,
)

# ── the pinned files and their checksums ────────────────────────────────────────────────────────────────────────────


_CHECKSUM_LINE = re.compile(r"^([0-9a-f]{64})  (\S+)$", flags=re.MULTILINE)


def pin_problems(directory: Path, readme: str) -> list[str]:
    """Files of ``directory`` whose sha256 is not the one its README lists (``sha256sum`` lines), files it does not
    list, and files it lists that are missing: a pinned file edited by hand would otherwise pass unnoticed."""
    listed = {name: digest for digest, name in _CHECKSUM_LINE.findall(readme)}
    present = {path.name for path in directory.iterdir() if path.is_file()}
    present -= {"README.md"} | {name for name in present if name.startswith(".")}
    if not listed:
        return ["the README lists no sha256 checksums"]
    problems = [f"not listed in the README: {name}" for name in sorted(present - set(listed))]
    problems += [f"listed in the README but missing: {name}" for name in sorted(set(listed) - present)]
    for name in sorted(set(listed) & present):
        actual = hashlib.sha256((directory / name).read_bytes()).hexdigest()
        if actual != listed[name]:
            problems.append(f"{name}: sha256 {actual}, the README says {listed[name]}")
    return problems


def test_pinned_coder_files_have_the_checksums_of_their_readme() -> None:
    """A silent edit of Coder's data (or a new file with no provenance) fails here, not in a confusing comparison."""
    assert {REFERENCE_DOCS.name, REFERENCE_SWAGGER.name, REFERENCE_SWAGGER_NEWEST.name} <= {
        path.name for path in REFERENCE.iterdir()
    }
    assert pin_problems(REFERENCE, REFERENCE_README.read_text(encoding="utf-8")) == []


def test_pin_check_catches_an_edited_an_unlisted_and_a_missing_file(tmp_path: Path) -> None:
    copied = shutil.copytree(REFERENCE, tmp_path / "coder")
    readme = REFERENCE_README.read_text(encoding="utf-8")
    edited = copied / REFERENCE_SWAGGER.name
    edited.write_bytes(edited.read_bytes().replace(b'"string"', b'"integer"', 1))
    (copied / "extra.json").write_text("{}", encoding="utf-8")
    (copied / REFERENCE_DOCS.name).unlink()
    problems = pin_problems(copied, readme)
    assert any(problem.startswith(f"{REFERENCE_SWAGGER.name}: sha256 ") for problem in problems), problems
    assert "not listed in the README: extra.json" in problems
    assert f"listed in the README but missing: {REFERENCE_DOCS.name}" in problems
    assert pin_problems(copied, "no checksums here") == ["the README lists no sha256 checksums"]


# ── the newest level against Coder's newest swagger ─────────────────────────────────────────────────────────────────


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def swagger_operations(swagger: dict[str, Any], prefix: str) -> set[str]:
    """``METHOD /path`` of every swagger 2.0 operation under ``prefix``, the swagger's basePath joined in front."""
    base = swagger.get("basePath", "/").rstrip("/")
    return {
        f"{method.upper()} {base}{path}"
        for path, item in swagger["paths"].items()
        for method in METHODS
        if method in item and _under(base + path, prefix)
    }


def mount_problems(document: dict[str, Any], swagger: dict[str, Any], prefix: str) -> list[str]:
    """Operations under ``prefix`` that only one of the document and Coder's swagger has (the document's paths are
    from the deployment root: its server URL has no path)."""
    theirs = swagger_operations(swagger, prefix)
    if not theirs:
        return [f"no operation under {prefix} in Coder's swagger: has the subset changed?"]
    ours = {label for label in operations(document) if _under(label.split(" ", 1)[1], prefix)}
    return [f"missing from the document: {op}" for op in sorted(theirs - ours)] + [
        f"not in Coder's swagger: {op}" for op in sorted(ours - theirs)
    ]


V2_TASKS = "/api/v2/tasks"


@pytest.fixture(scope="module")
def newest_built() -> dict[str, Any]:
    return levels.build_spec("newest")


@pytest.fixture
def newest(newest_built: dict[str, Any]) -> dict[str, Any]:
    """A private copy of the newest level's document (base plus overlays): a test may break it."""
    return copy.deepcopy(newest_built)


def newest_problems(document: dict[str, Any]) -> list[str]:
    return mount_problems(document, json.loads(REFERENCE_SWAGGER_NEWEST.read_text(encoding="utf-8")), V2_TASKS)


def test_newest_level_has_exactly_the_v2_task_operations_of_coders_newest_swagger(newest: dict[str, Any]) -> None:
    """Coder's swagger at a12b05183 documents nine operations under /api/v2/tasks, pause and resume among them: the
    newest document has each and no other there (the agent's log-snapshot upload lies outside that mount)."""
    assert newest_problems(newest) == []


def _drop_method(path: str, method: str) -> Callable[[dict[str, Any]], None]:
    def mutate(document: dict[str, Any]) -> None:
        del document["paths"][path][method]

    return mutate


def _add_put_on_task(document: dict[str, Any]) -> None:
    item = document["paths"][f"{V2_TASKS}/{{user}}/{{task}}"]
    item["put"] = {**copy.deepcopy(item["get"]), "operationId": "v2PutTask"}


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        pytest.param(
            _drop_method(f"{V2_TASKS}/{{user}}/{{task}}/pause", "post"),
            f"missing from the document: POST {V2_TASKS}/{{user}}/{{task}}/pause",
            id="pause-removed",
        ),
        pytest.param(
            _drop_method(f"{V2_TASKS}/{{user}}/{{task}}", "delete"),
            f"missing from the document: DELETE {V2_TASKS}/{{user}}/{{task}}",
            id="delete-removed",
        ),
        pytest.param(_add_put_on_task, f"not in Coder's swagger: PUT {V2_TASKS}/{{user}}/{{task}}", id="extra-method"),
    ],
)
def test_newest_swagger_check_fails_when_the_document_loses_or_gains_an_operation(
    newest: dict[str, Any], mutate: Callable[[dict[str, Any]], None], expected: str
) -> None:
    mutate(newest)
    assert expected in newest_problems(newest)
