"""The coverage ledger (reports/ledger/): how each documented (operation, status) pair is judged from synthetic traffic
and test outcomes, how it is written, and that the real suite leaves no pair unaccounted for."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from coder_tasks_contract.reports import ledger
from coder_tasks_contract.reports.ledger import inputs, markdown, model
from coder_tasks_contract.reports.ledger.model import Operation, RunInfo, TestRecord
from coder_tasks_contract.reports.ledger.result import Ledger
from coder_tasks_contract.spec import levels, vocabulary
from coder_tasks_contract.transport.traffic import Exchange, Traffic

from .support import REPO_ROOT, clean_env

SPEC = REPO_ROOT / "spec" / "coder-tasks.yaml"
UNREACHABLE = REPO_ROOT / "tests" / "unreachable.yaml"

LIST = Operation("listTasks", "GET", "/api/experimental/tasks", (200, 400, 401))
CREATE = Operation("createTask", "POST", "/api/experimental/tasks/{user}", (201, 400, 404))
DELETE = Operation("deleteTask", "DELETE", "/api/experimental/tasks/{user}/{task}", (202, 404))
OPERATIONS = (LIST, CREATE, DELETE)


def _build(
    exchanges: Sequence[Exchange] = (),
    tests: Sequence[TestRecord] = (),
    unreachable: dict[tuple[str, int], str] | None = None,
    **run: Any,
) -> Ledger:
    return ledger.build(OPERATIONS, exchanges, tests, unreachable or {}, RunInfo(**run))


def _pair(built: Ledger, operation_id: str, status: int) -> model.PairEntry:
    for op, pair in built.pairs():
        if op.operation_id == operation_id and pair.status == status:
            return pair
    raise AssertionError(f"{operation_id} {status} is not in the ledger")


# -- inputs ---------------------------------------------------------------------------------------------------------
def test_the_spec_yields_seven_operations_with_their_documented_statuses() -> None:
    operations = {op.operation_id: op for op in inputs.load_operations(SPEC)}
    assert set(operations) == {
        "listTasks",
        "createTask",
        "getTask",
        "deleteTask",
        "updateTaskInput",
        "sendTaskInput",
        "getTaskLogs",
    }
    assert operations["createTask"].label == "POST /api/experimental/tasks/{user}"
    assert {201, 400, 401, 404, 409} <= set(operations["createTask"].statuses)
    assert operations["deleteTask"].method == "DELETE"


def test_default_and_range_responses_promise_no_status_to_exercise() -> None:
    document = {"paths": {"/x": {"get": {"operationId": "getX", "responses": {"200": {}, "4XX": {}, "default": {}}}}}}
    assert inputs.load_operations(document) == [Operation("getX", "GET", "/x", (200,))]


def test_an_operation_without_an_operation_id_is_a_clear_error() -> None:
    with pytest.raises(model.LedgerError, match=r"GET /x has no operationId"):
        inputs.load_operations({"paths": {"/x": {"get": {"responses": {"200": {}}}}}})


def test_every_entry_of_the_real_unreachable_file_is_a_documented_pair_with_a_reason() -> None:
    operations = inputs.load_operations(SPEC)
    reasons = inputs.load_unreachable(UNREACHABLE, operations)
    assert ("createTask", 406) in reasons
    assert all(len(reason) > 20 for reason in reasons.values())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("unreachable:\n  - operation: listTasks\n    status: 403\n",
                     r"unreachable/0: 'reason' is a required property", id="no-reason"),
        pytest.param("unreachable:\n  - {operation: listTasks, status: 418, reason: a teapot never answers this}\n",
                     "listTasks 418.*not a documented status", id="undocumented-pair"),
        pytest.param("- just a list\n", r"\(top\): .* is not of type 'object'", id="wrong-shape"),
        pytest.param("unreachable: []\nelements:\n  - {criterion: paths, keys: ['*'], reason: a reason long enough}\n",
                     r"elements/0/criterion: 'paths' is not one of", id="unknown-criterion"),
        pytest.param("unreachable: []\nelements:\n  - {criterion: path, keys: ['*'], targets: [staging],"
                     " reason: a reason long enough}\n", r"elements/0/targets/0: 'staging' is not one of",
                     id="unknown-target-kind"),
    ],
)  # fmt: skip
def test_a_bad_unreachable_file_is_a_one_line_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "unreachable.yaml"
    path.write_text(content)
    with pytest.raises(model.LedgerError, match=message):
        inputs.load_unreachable(path, OPERATIONS)


def test_no_unreachable_file_means_no_reasons(tmp_path: Path) -> None:
    assert inputs.load_unreachable(tmp_path / "absent.yaml", OPERATIONS) == {}


# -- deciding each pair ---------------------------------------------------------------------------------------------
def test_a_pair_seen_in_traffic_is_exercised_by_the_tests_that_caused_it() -> None:
    traffic = Traffic()
    traffic.current_nodeid = "tests/test_list.py::test_a"
    traffic.record("GET", LIST.path, 200)
    traffic.current_nodeid = "tests/test_list.py::test_b"
    traffic.record("get", LIST.path, 200)
    traffic.record("GET", LIST.path + "/me", 200)  # another route: not listTasks
    built = _build(
        traffic.exchanges,
        [TestRecord("tests/test_list.py::test_a", "passed"), TestRecord("tests/test_list.py::test_b", "failed")],
    )
    pair = _pair(built, "listTasks", 200)
    assert pair.state == model.EXERCISED
    assert [(ref.nodeid, ref.outcome) for ref in pair.exercised_by] == [
        ("tests/test_list.py::test_a", "passed"),
        ("tests/test_list.py::test_b", "failed"),
    ]
    assert _pair(built, "listTasks", 400).state != model.EXERCISED


def test_responses_outside_any_test_count_and_say_so() -> None:
    built = _build([Exchange("POST", CREATE.path, 201, None)])
    pair = _pair(built, "createTask", 201)
    assert pair.state == model.EXERCISED
    assert [ref.nodeid for ref in pair.exercised_by] == [model.OUTSIDE_TESTS]
    assert "session fixtures or the cleanup" in (pair.reason or "")


def test_an_operation_nothing_covers_and_nothing_explains_is_a_gap() -> None:
    """The ledger's check: deleteTask has no traffic, no test and no reason, so both of its statuses are gaps."""
    built = _build(
        [Exchange("GET", LIST.path, 200, "t::a"), Exchange("POST", CREATE.path, 201, "t::a")],
        [TestRecord("t::a", "passed", declares=(("listTasks", (200,)),))],
        unreachable={
            ("listTasks", 400): "r",
            ("listTasks", 401): "r",
            ("createTask", 400): "r",
            ("createTask", 404): "r",
        },
    )
    assert built.gaps == ["deleteTask 202", "deleteTask 404"]
    assert _pair(built, "deleteTask", 202).state == model.MISSING
    assert "tests/unreachable.yaml gives no reason" in (_pair(built, "deleteTask", 202).reason or "")
    assert built.operations_exercised == 2


def test_a_reason_from_unreachable_yaml_explains_a_pair() -> None:
    built = _build(unreachable={("createTask", 404): "needs another organization"})
    pair = _pair(built, "createTask", 404)
    assert (pair.state, pair.reason) == (model.UNREACHABLE, "needs another organization")
    assert "createTask 404" not in built.gaps


def test_a_pair_listed_unreachable_but_seen_is_exercised_with_a_note_to_fix_the_list() -> None:
    built = _build([Exchange("POST", CREATE.path, 404, "t::x")], unreachable={("createTask", 404): "never"})
    pair = _pair(built, "createTask", 404)
    assert pair.state == model.EXERCISED
    assert "update that entry" in (pair.reason or "")


def test_skipped_declaring_tests_explain_a_pair_with_their_reasons() -> None:
    reason = "needs --second-session-token (a second ordinary member) to check isolation between users"
    tests = [
        TestRecord("t::iso[a]", "skipped", reason, (("createTask", (404,)),)),
        TestRecord("t::iso[b]", "skipped", reason, (("createTask", (404,)),)),
    ]
    pair = _pair(_build(tests=tests), "createTask", 404)
    assert (pair.state, pair.reason) == (model.SKIPPED, reason)
    assert [ref.nodeid for ref in pair.declared_by] == ["t::iso[a]", "t::iso[b]"]


def test_read_only_mode_explains_every_unseen_pair_of_a_writing_operation_only() -> None:
    built = _build(read_only=True)
    assert _pair(built, "deleteTask", 202).state == model.READ_ONLY
    assert _pair(built, "createTask", 201).reason == model.READ_ONLY_REASON
    assert _pair(built, "listTasks", 400).state == model.MISSING


def test_a_failed_declaring_test_marks_the_pair_failed() -> None:
    tests = [TestRecord("t::create_dup", "failed", declares=(("createTask", (400,)),))]
    pair = _pair(_build(tests=tests), "createTask", 400)
    assert pair.state == model.FAILED
    assert "t::create_dup" in (pair.reason or "")


def test_a_passing_test_whose_marker_claims_an_unseen_status_leaves_a_gap() -> None:
    tests = [TestRecord("t::claims", "passed", declares=(("deleteTask", (202, 404)),))]
    built = _build([Exchange("DELETE", DELETE.path, 202, "t::claims")], tests)
    assert _pair(built, "deleteTask", 202).state == model.EXERCISED
    assert _pair(built, "deleteTask", 404).state == model.MISSING
    assert "marker claims more" in (_pair(built, "deleteTask", 404).reason or "")


def test_a_narrowed_run_says_not_run_instead_of_missing() -> None:
    built = _build(narrowed="-k 'test_list'")
    assert _pair(built, "deleteTask", 202).state == model.NOT_RUN
    assert built.gaps == []


def test_schemathesis_subtests_count_as_tests_of_their_operation() -> None:
    nodeid = "tests/test_conformance.py::test_conformance[POST /api/experimental/tasks/{user}]"
    built = _build([Exchange("POST", CREATE.path, 400, nodeid)], [TestRecord(nodeid, "passed")])
    create = next(entry for entry in built.operations if entry.operation.operation_id == "createTask")
    assert [ref.nodeid for ref in create.tests] == [nodeid]
    assert _pair(built, "createTask", 400).exercised_by[0].nodeid == nodeid
    assert ledger.subtest_route(nodeid) == ("POST", "/api/experimental/tasks/{user}")
    assert ledger.subtest_route("tests/test_list.py::test_x[owner-me]") is None


def test_statuses_the_spec_does_not_document_are_listed_separately() -> None:
    built = _build([Exchange("GET", LIST.path, 503, "t::a"), Exchange("TRACE", LIST.path, 405, "t::b")])
    listing = next(entry for entry in built.operations if entry.operation.operation_id == "listTasks")
    assert list(listing.undocumented) == [503]  # TRACE is no operation of the spec
    assert built.count(model.EXERCISED) == 0


def test_declarations_round_trip_through_their_property_text() -> None:
    text = inputs.format_declaration("updateTaskInput", [204, 409])
    assert text == "updateTaskInput 204 409"
    assert inputs.parse_declaration(text) == ("updateTaskInput", (204, 409))
    assert inputs.parse_declaration("getTask") == ("getTask", ())


# -- writing --------------------------------------------------------------------------------------------------------
def test_markdown_has_a_table_per_operation_and_flags_gaps() -> None:
    built = _build(
        [Exchange("GET", LIST.path, 200, "tests/test_list.py::test_a")],
        [TestRecord("tests/test_list.py::test_a", "passed")],
        unreachable={("createTask", 404): "needs | a pipe"},
        target="http://127.0.0.1:1 (embedded reference server)",
        server_version="v2.28.1",
        run_id="abc",
    )
    text = markdown.render_markdown(built)
    assert "**Operations exercised: 1/3; statuses exercised: 1/8.**" in text
    for op in OPERATIONS:
        assert f"## {op.operation_id}: `{op.method} {op.path}`" in text
    assert text.count("| Status | State | Exercised by / reason |") == 3
    assert "| 200 | exercised | `tests/test_list.py::test_a` |" in text
    assert "| 404 | not reachable | needs \\| a pipe |" in text  # a pipe in a reason does not break the table
    assert "| 202 | **MISSING** |" in text
    assert "MISSING (nothing exercises and nothing explains): listTasks 400" in text
    assert "server version v2.28.1" in text


def test_long_test_lists_are_shortened_in_markdown_but_complete_in_json() -> None:
    exchanges = [Exchange("GET", LIST.path, 200, f"t::test_{n}") for n in range(5)]
    built = _build(exchanges)
    assert "and 2 more" in markdown.render_markdown(built)
    data = json.loads(json.dumps(built.to_json()))
    listing = data["operations"][0]
    assert listing["operation_id"] == "listTasks"
    assert len(listing["statuses"][0]["exercised_by"]) == 5
    assert data["totals"]["statuses"] == 8
    assert data["totals"]["statuses_exercised"] == 1
    assert data["gaps"] == built.gaps


# -- the real suite -------------------------------------------------------------------------------------------------
_COLLECT = textwrap.dedent(
    """
    import json, sys
    import pytest

    class Markers:
        found = []

        def pytest_collection_finish(self, session):
            for item in session.items:
                for marker in item.iter_markers("operation"):
                    self.found.append([item.nodeid, [str(arg) for arg in marker.args]])

    markers = Markers()
    args = ["--collect-only", "-q", "-p", "no:cacheprovider", "--coder-version", sys.argv[2], "tests"]
    code = pytest.main(args, plugins=[markers])
    with open(sys.argv[1], "w") as out:
        json.dump({"code": int(code), "found": markers.found}, out)
    """
)


@pytest.mark.parametrize("level", [level.name for level in levels.LEVELS])
def test_every_documented_pair_is_declared_by_a_contract_test_or_listed_unreachable(tmp_path: Path, level: str) -> None:
    """The ledger's check on the suite itself, at every contract level (the level's document, ``build_spec``, and
    the tests collected for it: ``prefix`` repeats markers per mount): a pair no ``operation`` marker declares and
    ``unreachable.yaml`` does not explain (an entry for a base operation explains its copy at every mount) would be
    MISSING in every full run at that level. (Reachable pairs that need an option are declared by tests that skip;
    the ledger then shows their skip reason.)

    A copy at /api/v2/tasks whose base pair is declared passes here: it is the same handler (ROUTE-1), and the
    generated tests send every operation through every mount. This check is static; the run's ledger still
    judges the copy by the answers actually seen at that mount, so a copy nothing reaches is MISSING there."""
    out = tmp_path / "markers.json"
    done = subprocess.run(
        [sys.executable, "-c", _COLLECT, str(out), level],
        cwd=REPO_ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert out.is_file(), done.stdout[-2000:] + done.stderr[-2000:]
    collected = json.loads(out.read_text())
    assert collected["code"] == 0, done.stdout[-3000:]
    declared = {(args[0], int(status)) for _, args in collected["found"] for status in args[1:]}
    assert len(collected["found"]) > 50  # the collection did see the suite's markers
    operations = inputs.load_operations(levels.build_spec(level, base=SPEC))
    unreachable = inputs.load_unreachable(UNREACHABLE, operations, level)
    unaccounted = [
        f"{op.operation_id} {status}"
        for op in operations
        for status in op.statuses
        if (op.operation_id, status) not in declared
        and (vocabulary.canonical_operation_id(op.operation_id), status) not in declared
        and inputs.unreachable_reason(unreachable, op.operation_id, status) is None
    ]
    assert unaccounted == [], (
        f"{unaccounted}: declare these with @pytest.mark.operation or explain them in tests/unreachable.yaml"
    )
    # A level-scoped entry may explain a pair whose declaring tests skip at that level (getTaskLogs 400 at newest).
    scoped = {
        (e["operation"], e["status"]) for e in yaml.safe_load(UNREACHABLE.read_text())["unreachable"] if "levels" in e
    }
    both = sorted(
        f"{op} {status}"
        for op, status in declared
        if inputs.unreachable_reason(unreachable, op, status) is not None
        and (vocabulary.canonical_operation_id(op), status) not in scoped
    )
    assert both == [], "tests/unreachable.yaml lists pairs that tests declare: drop those entries"


def test_entries_scoped_to_levels_are_documented_pairs_of_each_level_they_name() -> None:
    """A ``levels:`` entry is left out where its pair is not documented; at the levels it names it must be one."""
    entries = yaml.safe_load(UNREACHABLE.read_text())["unreachable"]
    scoped = [entry for entry in entries if "levels" in entry]
    assert scoped, "tests/unreachable.yaml has no level-scoped entry to check"
    for entry in scoped:
        for name in entry["levels"]:
            operations = inputs.load_operations(levels.build_spec(name, base=SPEC))
            reasons = inputs.load_unreachable(UNREACHABLE, operations)
            assert (entry["operation"], entry["status"]) in reasons, (name, entry["operation"], entry["status"])


def test_a_level_scoped_entry_is_left_out_where_its_pair_is_not_documented(tmp_path: Path) -> None:
    path = tmp_path / "unreachable.yaml"
    entry = "{operation: createTask, status: 409, levels: [%s], reason: only while another build runs}"
    path.write_text(f"unreachable:\n  - {entry % 'newest'}\n")
    assert inputs.load_unreachable(path, OPERATIONS) == {}
    with_409 = (*OPERATIONS[:1], Operation("createTask", "POST", CREATE.path, (201, 409)))
    assert inputs.load_unreachable(path, with_409) == {("createTask", 409): "only while another build runs"}
    path.write_text(f"unreachable:\n  - {entry % '2.30'}\n")
    with pytest.raises(model.LedgerError, match=r"unreachable/0/levels/0: 2\.3 is not one of"):
        inputs.load_unreachable(path, with_409)


def test_tests_that_declare_a_pair_are_listed_first_and_outside_traffic_last() -> None:
    exchanges = [
        Exchange("DELETE", DELETE.path, 202, None),
        Exchange("DELETE", DELETE.path, 202, "t::generated"),
        Exchange("DELETE", DELETE.path, 202, "t::declares"),
    ]
    tests = [TestRecord("t::generated", "passed"), TestRecord("t::declares", "passed", None, (("deleteTask", (202,)),))]
    pair = _pair(_build(exchanges, tests), "deleteTask", 202)
    assert [ref.nodeid for ref in pair.exercised_by] == ["t::declares", "t::generated", model.OUTSIDE_TESTS]
