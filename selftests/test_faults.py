"""Prove the contract suite: it catches every fault of the catalogue, names the test that did, and raises no false
alarm on the faithful reference server.

Each case serves one variant of the reference server on a real loopback socket and runs the real suite against it
in a subprocess, stopping at the first failure (``coder_tasks_contract.faults.runner``). Only the representative
CI subset runs by default; the whole catalogue runs with ``CODER_FAULTS_FULL=1`` (``tox -e faults``). Run them in
parallel: ``pytest selftests/test_faults.py -n 2``.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from coder_tasks_contract.faults import AREAS, REGISTRY, Fault, catalogue
from coder_tasks_contract.faults.base import Catcher
from coder_tasks_contract.faults.base import fault as register_fault
from coder_tasks_contract.faults.report import render_table, summary, verdict
from coder_tasks_contract.faults.runner import FAITHFUL, FirstFailure, SuiteRun, first_failure, run_suite, suite_files
from coder_tasks_contract.server.domain.world import World
from coder_tasks_contract.server.runner import start_reference_server

FULL_ENV = "CODER_FAULTS_FULL"
FULL = os.environ.get(FULL_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")
SKIP_NOT_CI = f"part of the full catalogue only: set {FULL_ENV}=1 (or run tox -e faults) to run it"
# Randomized generation with fixed seeds: three different sets of generated cases, each reproducible.
FAITHFUL_SEEDS = (1, 2, 3)
SUITE_DIR = Path(__file__).parents[1] / "tests"
_WORLD_RULES = dict(vars(World))  # the reference rules before any variant is built
_T = "tests/test_status_codes.py::test_create_answers_201"  # a node id for the registry's own tests


def _fault_params() -> list[Any]:
    params = []
    for fault in catalogue():
        marks: list[Any] = []
        if not fault.ci and not FULL:
            marks.append(pytest.mark.skip(reason=SKIP_NOT_CI))
        if fault.known_gap:
            marks.append(pytest.mark.xfail(strict=True, reason=f"known gap: {fault.known_gap}"))
        params.append(pytest.param(fault, id=fault.name, marks=marks))
    return params


# ---- the catalogue itself (fast) -----------------------------------------------------------------------------


def test_the_catalogue_covers_every_area_with_at_least_40_faults() -> None:
    """At least 40 faults; every area has faults, and the CI subset has at least one of each area."""
    faults = catalogue()
    assert len(faults) >= 40, len(faults)
    by_area = Counter(fault.area for fault in faults)
    ci_areas = {fault.area for fault in faults if fault.ci}
    assert set(by_area) == set(AREAS), by_area
    assert ci_areas == set(AREAS), sorted(set(AREAS) - ci_areas)


@pytest.mark.parametrize(
    ("docstring", "catchers", "area", "problem"),
    [
        pytest.param("Breaks nothing in particular.", (_T,), "status", "cites no clause id", id="no-clause"),
        pytest.param("Answers 200 (note 3.2 step 8).", (_T,), "status", "cites no clause id", id="note-section-only"),
        pytest.param("Answers 200 (CREATE-999).", (_T,), "status", "unknown clause id", id="unknown-clause"),
        pytest.param("Answers 200 (CREATE-1).", (), "status", "no expected catcher", id="no-catcher"),
        pytest.param("Answers 200 (CREATE-1).", (_T,), "colour", "area 'colour'", id="unknown-area"),
        pytest.param("Answers 200 (CREATE-1).", ("test_create",), "status", "not a node id", id="bare-substring"),
        pytest.param("Answers 200 (CREATE-1).", ("tests/x.py",), "status", "not a node id", id="file-only"),
    ],
)
def test_a_fault_that_does_not_say_what_it_breaks_is_refused(
    docstring: str, catchers: tuple[str, ...], area: str, problem: str
) -> None:
    """The registry refuses, at import, a fault whose docstring cites no clause id of the registry (a section of the old
    note is none) or an unknown one, that names no catcher or a catcher that is no node id (a bare substring of a
    test name), or whose area is unknown; nothing is registered."""

    def undocumented_fault(world: World) -> Any:
        return None

    undocumented_fault.__doc__ = docstring
    before = dict(REGISTRY)
    with pytest.raises(ValueError, match=problem):
        register_fault(area, *catchers)(undocumented_fault)
    assert before == REGISTRY


@pytest.mark.parametrize(
    ("test", "message", "problem"),
    [
        pytest.param(None, None, "names a test, a message pattern, or both", id="nothing"),
        pytest.param(_T, "(unclosed", "not a regular expression", id="bad-regex"),
        pytest.param("test_status_codes.py::test_x", None, "not a node id", id="no-tests-folder"),
        pytest.param(f"{_T}[me-", None, "not a node id", id="unclosed-parameters"),
    ],
)
def test_a_malformed_catcher_is_refused(test: str | None, message: str | None, problem: str) -> None:
    """A catcher must name a node id of the suite or a valid message pattern; a bad regular expression is refused
    when the catalogue is imported, not when a verdict is first due."""
    with pytest.raises(ValueError, match=problem):
        Catcher(test, message)


@pytest.mark.parametrize(
    ("catcher", "test_id", "message", "matches"),
    [
        pytest.param(Catcher(_T), _T, "", True, id="same-id"),
        pytest.param(Catcher(_T), f"{_T}[listTasks]", "", True, id="any-parametrization"),
        pytest.param(Catcher(f"{_T}[listTasks]"), f"{_T}[listTasks]", "", True, id="that-parametrization"),
        pytest.param(Catcher(f"{_T}[listTasks]"), f"{_T}[getTask]", "", False, id="another-parametrization"),
        pytest.param(Catcher(f"{_T}[list]"), f"{_T}[listTasks]", "", False, id="no-parameter-prefix"),
        pytest.param(Catcher(_T), f"{_T}_with_its_detail", "", False, id="longer-name"),
        pytest.param(Catcher(_T), "tests/test_other.py::test_create_answers_201", "", False, id="other-file"),
        pytest.param(Catcher("tests/test_a.py::test_b"), _T, "tests/test_a.py::test_b", False, id="not-in-message"),
        pytest.param(Catcher(_T, r"count \d"), _T, "AssertionError: count 3 != 2", True, id="message-matches"),
        pytest.param(Catcher(_T, r"^count"), _T, "AssertionError: count 3 != 2", False, id="message-differs"),
        pytest.param(Catcher(message="while waiting for"), _T, "x while waiting for y", True, id="message-only"),
    ],
)
def test_a_catcher_matches_a_node_id_not_a_substring(
    catcher: Catcher, test_id: str, message: str, matches: bool
) -> None:
    """A catcher names a test exactly, or every parametrization of it (node id up to ``[``), and a message by
    ``re.search``; a substring of the test id or the message is no match."""
    assert catcher.matches(test_id, message) is matches


def _suite_tests() -> dict[str, set[str]]:
    """Test functions of the suite, by file (``tests/test_x.py``), read with ``ast`` (importing them is heavy)."""
    found: dict[str, set[str]] = {}
    for path in sorted(SUITE_DIR.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {
            node.name
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
        }
        found[f"tests/{path.name}"] = names
    return found


def test_every_catcher_names_a_test_of_the_suite() -> None:
    """A catcher that names a test names one the suite has, so renaming or moving a test cannot leave a fault
    expecting a catcher that no longer exists."""
    tests = _suite_tests()
    missing = []
    for fault in catalogue():
        for catcher in fault.catchers:
            if catcher.test is None:
                continue
            file, name = catcher.test.split("[", 1)[0].split("::")
            if name not in tests.get(file, set()):
                missing.append(f"{fault.name}: {catcher.test}")
    assert not missing, missing


def _collected_cases(level: str) -> set[str]:
    """Node ids the suite collects at ``level`` (collection only: no target is contacted)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODER_", "PYTEST_"))}
    args = [sys.executable, "-m", "pytest", "tests", "--collect-only", "-q", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [*args, "--coder-version", level], cwd=SUITE_DIR.parent, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return {line.strip() for line in done.stdout.splitlines() if "::" in line}


def test_every_parametrized_catcher_names_a_collected_case() -> None:
    """A catcher naming one parametrization (``...::test_x[param]``) names a case the suite collects, so a renamed
    parameter id cannot leave a fault expecting a case that no longer exists. The newest level collects every case
    the earlier levels do (plus the /api/v2 mount and pause/resume); a case of another level skips at run time."""
    wanted = {c.test for f in catalogue() for c in f.catchers if c.test is not None and "[" in c.test}
    cases = _collected_cases("newest")
    assert sorted(wanted - cases) == []


def _no_app(world: World) -> Any:
    return None


def _run(first: FirstFailure | None, exit_code: int = 1) -> SuiteRun:
    return SuiteRun("x", exit_code, 3, first, 1.0, 0.5 if first else None, "ci", None, "")


def test_a_fault_caught_by_an_unexpected_test_is_a_wrong_catcher_not_a_kill() -> None:
    """The kill-rate report counts a kill only when the first failure is one of the fault's catchers; any other
    first failure is listed as a wrong catcher (and fails the report), as are survivors; the table shows, per fault,
    the clause ids it breaks, the expected catchers and the test that actually failed first."""
    right, wrong, survivor = (Fault(name, "status", "(CREATE-1)", _no_app, (Catcher(_T),)) for name in ("a", "b", "c"))
    rows = [
        (right, _run(FirstFailure(f"{_T}[v2]", "failure", "AssertionError"))),
        (wrong, _run(FirstFailure("tests/test_list.py::test_create_answers_201", "failure", _T))),
        (survivor, _run(None, exit_code=0)),
    ]
    assert [verdict(fault, run) for fault, run in rows] == ["caught", "wrong-catcher", "survived"]
    report = summary(rows, None, 1.0, 1)
    assert (report["caught"], report["wrong_catcher"], report["survived"]) == (1, [wrong.name], [survivor.name])
    assert report["kill_rate"] == round(1 / 3, 4)
    assert report["runs"][1]["expected"] == list(wrong.expected)
    assert report["runs"][1]["clauses"] == ["CREATE-1"]
    table = render_table(rows).splitlines()
    wrong_row = next(i for i, line in enumerate(table) if line.startswith("b "))
    assert "wrong-catcher" in table[wrong_row]
    assert "test_list.py::test_create_answers_201" in table[wrong_row]  # the actual first failure
    assert table[wrong_row + 1].split() == ["breaks:", "CREATE-1"]
    assert table[wrong_row + 2].split() == ["expected:", _T.removeprefix("tests/")]


@pytest.mark.parametrize("fault", [*catalogue(), None], ids=lambda fault: fault.name if fault else FAITHFUL)
def test_each_variant_serves_as_coder(fault: Fault | None) -> None:
    """Each variant starts and answers buildinfo and ``/api/v2/users/me`` as Coder, so the suite's preflight accepts
    it (a fault must be caught by a contract test, not by the suite refusing the target); a fault changes the rules
    of its own world only, never the reference server's classes."""
    with start_reference_server(app_factory=fault.factory if fault else None) as server:
        token = server.seed.users["alice"].token
        with httpx.Client(base_url=server.url, headers={"Coder-Session-Token": token}, timeout=10) as client:
            assert client.get("/api/v2/buildinfo").status_code == 200
            me = client.get("/api/v2/users/me")
            assert me.status_code == 200
            assert me.json()["username"] == "alice"
        assert dict(vars(World)) == _WORLD_RULES, "the fault patched the World class itself"
        if fault is None:
            assert type(server.world) is World


# The router-order faults, probed directly: (method, path under the mount) -> what each variant answers. "{live}" is
# a task of the caller, "{phantom}" no task; NF is the resolver's not-found body, RNF chi's "Route not found.".
_NF, _RNF, _USER = "not-found", "route-not-found", "unknown-user"
_ROUTE_PROBES = [
    ("POST", "/me/{phantom}/pause"),  # no pause route at 82f
    ("PUT", "/me/{phantom}"),
    ("GET", "/nobody-at-all"),
    ("PUT", "/me/{live}"),
    ("POST", "/me/{live}/anything"),
    ("GET", "/me"),
]
_CHI_ORDER = [(404, _NF), (404, _NF), (400, _USER), (405, None), (404, _RNF), (405, None)]
_ROUTER_ORDERS = {
    None: _CHI_ORDER,
    "routes-before-resolvers": [(404, _RNF), (405, None), (405, None), (405, None), (404, _RNF), (405, None)],
    "unknown-subroute-answers-not-found": [*_CHI_ORDER[:4], (404, _NF), (405, None)],
    "wrong-method-answers-not-found": [*_CHI_ORDER[:3], (404, _NF), (404, _RNF), (404, _NF)],
}


def _answer_kind(response: httpx.Response) -> tuple[int, str | None]:
    if not response.content:
        return response.status_code, None
    message = response.json().get("message", "")
    kinds = {"Route not found.": _RNF, '"user" must be an existing uuid or username.': _USER}
    return response.status_code, kinds.get(message, _NF if message.startswith("Resource not found") else message)


@pytest.mark.parametrize("name", list(_ROUTER_ORDERS), ids=lambda name: name or FAITHFUL)
def test_the_router_order_faults_answer_in_their_order(name: str | None) -> None:
    """Each router-order fault answers the probes as its docstring says, and only those differ from the faithful
    server, which answers in chi's order (ROUTE-2, ROUTE-3, ROUTE-4): the faults break what they claim to."""
    fault = REGISTRY[name] if name else None
    with start_reference_server(app_factory=fault.factory if fault else None, preexisting_tasks=1) as server:
        token = server.seed.users["alice"].token
        with httpx.Client(base_url=server.url, headers={"Coder-Session-Token": token}, timeout=10) as client:
            live = client.get("/api/experimental/tasks").json()["tasks"][0]["id"]
            answers = [
                _answer_kind(
                    client.request(method, "/api/experimental/tasks" + path.format(live=live, phantom=uuid.uuid4()))
                )
                for method, path in _ROUTE_PROBES
            ]
    assert answers == _ROUTER_ORDERS[name]


def test_first_failure_reads_the_first_failing_test_of_a_junit_report(tmp_path: Path) -> None:
    """The runner's JUnit reading: the first ``failure``/``error`` in document order, its first message line, and
    the time up to the end of that test."""
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<testsuites><testsuite name="pytest" timestamp="2026-01-01T00:00:00">'
        '<testcase classname="tests.test_a" name="test_ok" time="1.5"/>'
        '<testcase classname="tests.test_a" name="test_bad[x]" time="0.5">'
        '<failure message="AssertionError: GET answered 200, expected 401&#10;more">trace</failure></testcase>'
        '<testcase classname="tests.test_b" name="test_later" time="9"><error message="later"/></testcase>'
        "</testsuite></testsuites>"
    )
    ET.parse(junit)  # well-formed
    count, failure, elapsed = first_failure(junit)
    assert count == 2
    assert failure is not None
    assert failure.test_id == "tests/test_a.py::test_bad[x]"
    assert failure.kind == "failure"
    assert failure.message == "AssertionError: GET answered 200, expected 401"
    assert elapsed == pytest.approx(2.0)


def test_the_suite_runs_targeted_files_before_generated_ones() -> None:
    """Cheap targeted tests run first so most faults are caught in seconds; schemathesis files last; no file of
    tests/ is left out."""
    files = [path.name for path in suite_files()]
    assert files[0] == "test_status_codes.py"
    assert sorted(files) == sorted(path.name for path in (Path(__file__).parents[1] / "tests").glob("test_*.py"))
    generated = [name for name in ("test_conformance.py", "test_stateful.py") if name in files]
    assert files[-len(generated) :] == generated


# ---- the suite against the variants (slow: one suite run each) -------------------------------------------------


@pytest.mark.parametrize("fault", _fault_params())
def test_the_suite_catches_the_fault(fault: Fault) -> None:
    """The suite, run against this broken server, fails, and its first failure is a test the catalogue expects to
    catch this fault (the failure message says why)."""
    run = run_suite(fault)
    assert run.first_failure is not None, (
        f"{fault.name} SURVIVED ({fault.clause}); exit code {run.exit_code}, {run.tests} tests ran.\n{run.output_tail}"
    )
    failure = run.first_failure
    assert fault.caught_by(failure.test_id, failure.message), (
        f"{fault.name} was caught by {failure}, which is none of {fault.expected}"
    )


@pytest.mark.parametrize("seed", FAITHFUL_SEEDS, ids=[f"seed-{seed}" for seed in FAITHFUL_SEEDS])
def test_the_faithful_server_passes(seed: int) -> None:
    """No false alarm: the whole suite passes against the faithful reference server with randomized generation
    (Hypothesis profile ``default``) under three different ``--hypothesis-seed`` values."""
    run = run_suite(None, profile="default", seed=seed)
    assert run.variant == FAITHFUL
    assert run.passed, (
        f"false alarm with seed {seed}: {run.first_failure or f'exit {run.exit_code}'}\n{run.output_tail}"
    )
    assert run.tests > 0, run.output_tail
