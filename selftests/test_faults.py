"""Prove the contract suite: it catches every fault of the catalogue, names the test that did, and raises no false
alarm on the faithful reference server.

Each case serves one variant of the reference server on a real loopback socket and runs the real suite against it
in a subprocess, stopping at the first failure (``coder_tasks_contract.faults.runner``). Only the representative
CI subset runs by default; the whole catalogue runs with ``CODER_FAULTS_FULL=1`` (``tox -e faults``). Run them in
parallel: ``pytest selftests/test_faults.py -n 2``.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from coder_tasks_contract.faults import AREAS, REGISTRY, Fault, catalogue
from coder_tasks_contract.faults.base import fault as register_fault
from coder_tasks_contract.faults.runner import FAITHFUL, first_failure, run_suite, suite_files
from coder_tasks_contract.server.model import World
from coder_tasks_contract.server.runner import start_reference_server

FULL_ENV = "CODER_FAULTS_FULL"
FULL = os.environ.get(FULL_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")
SKIP_NOT_CI = f"part of the full catalogue only: set {FULL_ENV}=1 (or run tox -e faults) to run it"
# Randomized generation with fixed seeds: three different sets of generated cases, each reproducible.
FAITHFUL_SEEDS = (1, 2, 3)
_WORLD_RULES = dict(vars(World))  # the reference rules before any variant is built


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
        pytest.param("Breaks nothing in particular.", ("test_x",), "status", "cites no §", id="no-section"),
        pytest.param("Answers 200 (§3.2).", (), "status", "no expected catcher", id="no-catcher"),
        pytest.param("Answers 200 (§3.2).", ("test_x",), "colour", "area 'colour'", id="unknown-area"),
    ],
)
def test_a_fault_that_does_not_say_what_it_breaks_is_refused(
    docstring: str, catchers: tuple[str, ...], area: str, problem: str
) -> None:
    """The registry refuses, at import, a fault whose docstring cites no § of the behaviour note, that names no
    expected catcher, or whose area is unknown; nothing is registered."""

    def undocumented_fault(world: World) -> Any:
        return None

    undocumented_fault.__doc__ = docstring
    before = dict(REGISTRY)
    with pytest.raises(ValueError, match=problem):
        register_fault(area, *catchers)(undocumented_fault)
    assert before == REGISTRY


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
        f"{fault.name} was caught by {failure}, which is none of {fault.expected_catchers}"
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
