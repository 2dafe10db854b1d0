"""The ten coverage criteria (reports/ledger/criteria.py, coverage.py): which elements a document has, how recorded
traffic covers them, how tests/unreachable.yaml and unreachable statuses make them not reachable, the TCL, and the
cost of computing them for a run-sized traffic."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from coder_tasks_contract.reports.ledger import build, coverage, criteria, inputs, markdown
from coder_tasks_contract.reports.ledger.model import UNREACHABLE as NOT_REACHABLE
from coder_tasks_contract.reports.ledger.model import RunInfo
from coder_tasks_contract.spec import levels
from coder_tasks_contract.transport.traffic import Exchange, body_facts, query_pairs

from .support import REPO_ROOT

UNREACHABLE = REPO_ROOT / "tests" / "unreachable.yaml"
LIST = "/api/experimental/tasks"
GET = "/api/experimental/tasks/{user}/{task}"
CREATE = "/api/experimental/tasks/{user}"


def _task(**changes: Any) -> dict[str, Any]:
    example = levels.build_spec("82f")["components"]["examples"]["ActiveTask"]["value"]
    return {**example, **changes}


def _exchange(
    method: str, route: str, status: int, body: Any = None, nodeid: str | None = "t::a", **kw: Any
) -> Exchange:
    content = b"" if body is None else json.dumps(body).encode()
    facts = body_facts(content, "application/json")
    kind = "application/json" if content else ""
    return Exchange(method, route, status, nodeid, response_type=kind, facts=facts, **kw)


def _judge(exchanges: list[Exchange], level: str = "82f", kind: str = "reference") -> coverage.Coverage:
    document = levels.build_spec(level)
    operations = inputs.load_operations(document)
    unreachable = inputs.load_unreachable(UNREACHABLE, operations, level)
    info = RunInfo(level=level, target_kind=kind)
    rules = inputs.load_element_rules(UNREACHABLE)
    built = build(operations, exchanges, [], unreachable, info, document=document, element_rules=rules)
    assert built.coverage is not None
    return built.coverage


def _state(cov: coverage.Coverage, criterion: str, operation: str, key: str) -> str:
    found = [
        j
        for j in cov.judged
        if (j.element.criterion, j.element.operation, j.element.key) == (criterion, operation, key)
    ]
    assert len(found) == 1, (criterion, operation, key, len(found))
    return found[0].state


def test_the_document_yields_each_criterions_elements() -> None:
    """Nullable Task fields give null and set, enums one element per value, links one flow each, q its keys and
    status values."""
    keys = {(e.criterion, e.operation, e.key) for e in criteria.elements(levels.build_spec("82f"))}
    body, value = criteria.BODY, criteria.PARAMETER_VALUE
    assert (body, "getTask", "200 current_state: null") in keys
    assert (body, "getTask", "200 current_state: set") in keys
    assert (body, "listTasks", '200 tasks[].status: "paused"') in keys
    assert (body, "getTask", "200 workspace_agent_health.healthy") in keys
    assert (criteria.FLOW, "createTask", "201 GetTaskById -> getTask") in keys
    assert (value, "listTasks", "q status:error") in keys
    assert (value, "listTasks", "q owner:") in keys
    assert (criteria.STATUS_CLASS, "listTasks", "5XX") in keys
    assert (criteria.PATH, "", LIST) in keys
    assert {e[0] for e in keys} == set(criteria.CRITERIA)


def test_body_facts_keep_enum_like_values_only() -> None:
    facts = body_facts(json.dumps(_task(current_state=None)).encode(), "application/json")
    assert "current_state\tnull" in facts
    assert 'status\t="active"' in facts
    assert "workspace_agent_health.healthy\t=true" in facts
    assert not [fact for fact in facts if fact.startswith("initial_prompt\t=")], "a prompt is no enum value"
    assert body_facts(b"<html>", "text/html") == frozenset()


def test_query_pairs_keep_the_name_but_not_the_value_of_a_token_parameter() -> None:
    pairs = query_pairs("http://x/api/experimental/tasks?q=status%3Aactive&coder_session_token=secret-value")
    assert pairs == (("q", "status:active"), ("coder_session_token", ""))


def test_a_null_current_state_is_covered_only_when_a_response_shows_it() -> None:
    set_only = _judge([_exchange("GET", GET, 200, _task())])
    assert _state(set_only, criteria.BODY, "getTask", "200 current_state: set") == coverage.COVERED
    assert _state(set_only, criteria.BODY, "getTask", "200 current_state: null") == coverage.NOT_COVERED
    both = _judge([_exchange("GET", GET, 200, _task()), _exchange("GET", GET, 200, _task(current_state=None))])
    assert _state(both, criteria.BODY, "getTask", "200 current_state: null") == coverage.COVERED


def test_an_omitted_key_is_not_a_null_one() -> None:
    """A server that leaves ``current_state`` out shows neither its presence nor its null."""
    task = _task()
    del task["current_state"]
    cov = _judge([_exchange("GET", GET, 200, task)])
    assert _state(cov, criteria.BODY, "getTask", "200 current_state") == coverage.NOT_COVERED
    assert _state(cov, criteria.BODY, "getTask", "200 current_state: null") == coverage.NOT_COVERED


def test_q_values_count_as_coder_parses_them() -> None:
    cov = _judge([_exchange("GET", LIST, 200, {"tasks": [], "count": 0}, query=(("q", 'Owner:me STATUS:"paused"'),))])
    assert _state(cov, criteria.PARAMETER_VALUE, "listTasks", "q owner:") == coverage.COVERED
    assert _state(cov, criteria.PARAMETER_VALUE, "listTasks", "q status:paused") == coverage.COVERED
    assert _state(cov, criteria.PARAMETER_VALUE, "listTasks", "q status:active") == coverage.NOT_COVERED


def test_a_flow_needs_the_target_after_the_source_in_the_same_test() -> None:
    create = _exchange("POST", CREATE, 201, _task(), nodeid="t::flow")
    get_same = _exchange("GET", GET, 200, _task(), nodeid="t::flow")
    get_other = _exchange("GET", GET, 200, _task(), nodeid="t::other")
    key = "201 GetTaskById -> getTask"
    assert _state(_judge([create, get_same]), criteria.FLOW, "createTask", key) == coverage.COVERED
    assert _state(_judge([get_same, create]), criteria.FLOW, "createTask", key) == coverage.NOT_COVERED
    assert _state(_judge([create, get_other]), criteria.FLOW, "createTask", key) == coverage.NOT_COVERED


def test_elements_under_an_unreachable_status_and_listed_elements_are_not_reachable() -> None:
    cov = _judge([])
    assert _state(cov, criteria.RESPONSE_TYPE, "listTasks", "429 application/json") == NOT_REACHABLE
    assert _state(cov, criteria.BODY, "getTask", '200 status: "error"') == NOT_REACHABLE
    assert _state(cov, criteria.BODY, "getTask", '200 status: "active"') == coverage.NOT_COVERED
    # An element a run shows is covered whatever the file says.
    shown = _judge([_exchange("GET", GET, 200, _task(status="error"))])
    assert _state(shown, criteria.BODY, "getTask", '200 status: "error"') == coverage.COVERED


def test_element_rules_are_scoped_by_level_and_target_kind(tmp_path: Path) -> None:
    path = tmp_path / "unreachable.yaml"
    path.write_text(
        "unreachable: []\nelements:\n"
        "  - {criterion: response body, operations: [getTask], keys: ['200 owner_avatar_url'], levels: [newest],"
        " targets: [deployment], reason: only a deployment user with an avatar}\n"
    )
    rules = inputs.load_element_rules(path)
    reason = inputs.rule_reason
    assert reason(rules, criteria.BODY, "getTask", "200 owner_avatar_url", "newest", "deployment") is not None
    assert reason(rules, criteria.BODY, "getTask", "200 owner_avatar_url", "82f", "deployment") is None
    assert reason(rules, criteria.BODY, "getTask", "200 owner_avatar_url", "newest", "reference") is None


def test_the_tcl_is_the_highest_level_whose_criteria_and_all_below_are_complete() -> None:
    def totals(incomplete: set[str]) -> coverage.Coverage:
        cov = coverage.Coverage([])
        for name in criteria.CRITERIA:
            cov.totals[name] = coverage.Totals(name, 2, 1 if name in incomplete else 2, 0)
        return cov

    assert totals(set()).tcl == 7
    assert totals({criteria.FLOW}).tcl == 6
    assert totals({criteria.RESPONSE_TYPE}).tcl == 2  # TCL3 needs both content-type criteria
    assert totals({criteria.PATH, criteria.BODY}).tcl == 0
    assert totals({criteria.BODY}).summary().startswith("TCL5 of 7; path 100%")


@pytest.mark.parametrize("level", ["82f", "newest"])
def test_judging_a_run_sized_traffic_takes_well_under_a_second(level: str) -> None:
    """The criteria for 5000 exchanges (a full run sends about 1500) against the level's document."""
    bodies = [_task(), _task(current_state=None, workspace_agent_id=None), {"tasks": [_task()] * 20, "count": 20}]
    routes = [("GET", GET, 200), ("GET", GET, 200), ("GET", LIST, 200)]
    exchanges = [
        _exchange(*routes[i % 3], bodies[i % 3], nodeid=f"t::{i % 50}", query=(("q", "status:active"),))
        for i in range(5000)
    ]
    started = time.perf_counter()
    cov = _judge(exchanges, level)
    elapsed = time.perf_counter() - started
    assert cov.totals[criteria.OPERATION].covered >= 2
    assert elapsed < 1.0, f"{elapsed:.2f} s"


def test_ledger_md_shows_the_tcl_the_table_and_a_capped_list_of_what_is_not_covered() -> None:
    document = levels.build_spec("82f")
    operations = inputs.load_operations(document)
    built = build(operations, [], [], {}, RunInfo(level="82f"), document=document)
    text = markdown.render_markdown(built)
    assert "## Coverage criteria: TCL0" in text
    assert "| response body | 460 | 0 | 0 | 0.0% |" in text
    assert f"- and {460 - markdown.SHOWN_MISSING} more response body elements (ledger.json)" in text
    assert built.to_json()["coverage_criteria"]["tcl"] == 0
