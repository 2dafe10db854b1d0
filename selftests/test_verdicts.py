"""The gate rests on evidence: a failure whose cited clauses all rest on inferred evidence is a contract warning
(exit 0, named in the summary, the JUnit file and the ledger) unless --strict-inferred; any other failure fails.

Each run is a small contract project (the plugin named in its root conftest, tests in ``tests/``) aimed at a real
reference server over HTTP, in a subprocess, as a user runs it."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from coder_tasks_contract.spec import clauses

from .support import clean_env, run_pytest, target_args


def _an_inferred_only_clause() -> str:
    found = [cid for cid, clause in clauses.registry().items() if clause.inferred_only]
    assert found, "the registry has no inferred-only clause left to exercise the warning path with"
    return found[0]


def _a_proven_clause() -> str:
    return next(cid for cid, clause in clauses.registry().items() if not clause.inferred_only)


def _project(tmp_path: Path, cited: str) -> Path:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["coder_tasks_contract.plugin.hooks"]\n')
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_clause.py").write_text(
        textwrap.dedent(
            f'''
            def test_breaks_the_clause(client_a):
                """{cited}: the clause under test (the test always fails, as against a server that breaks it)."""
                assert client_a.get("/api/experimental/tasks").status_code == 599
            '''
        )
    )
    return tmp_path


def _run(project: Path, server: Any, *extra: str) -> tuple[Any, Path]:
    reports = project / "reports"
    env = clean_env(CODER_TASKS_REPORTS_DIR=str(reports))
    return run_pytest(*target_args(server), *extra, cwd=project, env=env), reports


def test_a_failure_on_an_inferred_only_clause_is_a_warning(reference_server: Any, tmp_path: Path) -> None:
    cited = _an_inferred_only_clause()
    run, reports = _run(_project(tmp_path, cited), reference_server)
    assert run.ret == 0, run.output
    (line,) = run.lines_with("contract warning: tests/test_clause.py::test_breaks_the_clause")
    assert cited in line
    assert "--strict-inferred" in line
    case = ET.parse(reports / "junit.xml").getroot().find(".//testcase")
    assert case is not None
    assert case.find("skipped") is not None
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties["coder_clauses"] == cited
    assert cited in properties["coder_contract_warning"]
    ledger = json.loads((reports / "ledger.json").read_text())
    (entry,) = [e for e in ledger["clauses"] if e["id"] == cited]
    assert entry["verdict"].startswith("warned")
    assert entry["evidence"] == ["inferred"]
    assert "## Contract clauses" in (reports / "ledger.md").read_text()


@pytest.mark.parametrize("how", ["option", "env", "ini"])
def test_strict_inferred_makes_it_fail(reference_server: Any, tmp_path: Path, how: str) -> None:
    project = _project(tmp_path, _an_inferred_only_clause())
    if how == "option":
        run, _ = _run(project, reference_server, "--strict-inferred")
    elif how == "ini":
        (project / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\ncoder_strict_inferred = true\n")
        run, _ = _run(project, reference_server)
    else:
        env = clean_env(CODER_TASKS_REPORTS_DIR=str(project / "reports"), CODER_TASKS_STRICT_INFERRED="true")
        run = run_pytest(*target_args(reference_server), cwd=project, env=env)
    assert run.ret == 1, run.output
    assert run.lines_with("FAILED tests/test_clause.py::test_breaks_the_clause")
    assert not run.lines_with("contract warning:")


def test_a_failure_on_a_proven_clause_fails_and_the_ledger_says_so(reference_server: Any, tmp_path: Path) -> None:
    cited = _a_proven_clause()
    run, reports = _run(_project(tmp_path, cited), reference_server)
    assert run.ret == 1, run.output
    ledger = json.loads((reports / "ledger.json").read_text())
    (entry,) = [e for e in ledger["clauses"] if e["id"] == cited]
    assert entry["verdict"] == "failed"
    assert "inferred" not in entry["evidence"][:1]
    assert run.lines_with("clauses: 1 of ")
