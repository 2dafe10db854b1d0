"""The coverage gate end to end: a default run against the embedded reference server reaches TCL7 at every contract
level (every criterion at 100% of its reachable elements, README "Coverage"), so ``--min-coverage-level TCL7``
passes; a narrowed run reaches less and exits 12 (docs/exit-codes.md). The real suite runs in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coder_tasks_contract.plugin import exitcodes
from coder_tasks_contract.spec import levels

from .support import clean_env, run_pytest

LEVEL_NAMES = [level.name for level in levels.LEVELS]


@pytest.mark.parametrize("name", LEVEL_NAMES)
def test_a_default_run_reaches_every_reachable_element_at_every_level(tmp_path: Path, name: str) -> None:
    run = run_pytest(
        "tests",
        f"--reports-dir={tmp_path}",
        f"--coder-version={name}",
        "--min-coverage-level=TCL7",
        env=clean_env(HYPOTHESIS_PROFILE="ci"),
        timeout=600,
    )
    assert run.ret == 0, run.output[-3000:]
    found = json.loads((tmp_path / "ledger.json").read_text())["coverage_criteria"]
    missing = [e for e in found["elements"] if e["state"] == "not covered"]
    assert missing == [], missing[:20]
    assert {c["criterion"]: c["percent_of_reachable"] for c in found["criteria"]} == dict.fromkeys(
        [c["criterion"] for c in found["criteria"]], 100.0
    )
    assert found["tcl"] == 7
    assert run.lines_with("coverage criteria: TCL7 of 7; path 100%")


def test_a_run_below_the_minimum_level_exits_12_and_says_why(tmp_path: Path) -> None:
    """One read-only test cannot reach TCL1 (it never lists through the other paths), so TCL1 fails the run."""
    run = run_pytest(
        "tests/test_list.py",
        "-k",
        "test_list_is_newest_first",
        f"--reports-dir={tmp_path}",
        "--min-coverage-level",
        "tcl1",
        timeout=300,
    )
    assert run.ret == exitcodes.COVERAGE_BELOW_MINIMUM, run.output[-3000:]
    assert run.lines_with("coverage gate FAILED: the run's coverage level is TCL0, below TCL1")
    assert "1 passed" in run.output


def test_a_bad_level_is_a_usage_error() -> None:
    run = run_pytest("tests", "--collect-only", "-q", "--min-coverage-level", "TCL8", timeout=120)
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    assert run.lines_with("must be a Test Coverage Level TCL0 to TCL7")
