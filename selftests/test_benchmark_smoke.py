"""The benchmark script runs end to end in ``--quick`` mode and writes a report of the documented shape.

Structure only: timings depend on the machine and are never asserted. One run (about a minute) is shared by the
tests of this module.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SCRIPT = PROJECT_ROOT / "benchmarks" / "bench.py"
# A Coder session token: 10-character key id, dash, 22-character secret (the reference server issues this shape).
TOKEN_SHAPE = re.compile(r"\b[A-Za-z0-9]{10}-[A-Za-z0-9]{22}\b")
STATUSES = {"PASS", "MISS", "SKIP"}


class QuickRun:
    def __init__(self, completed: subprocess.CompletedProcess[str], report_path: Path) -> None:
        self.completed = completed
        self.output = completed.stdout + completed.stderr
        self.report_text = report_path.read_text(encoding="utf-8") if report_path.exists() else ""

    @property
    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.report_text)
        return data


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> QuickRun:
    """``bench.py --quick --json <tmp>`` run once, in a child process."""
    report_path = tmp_path_factory.mktemp("bench") / "benchmark.json"
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--json", str(report_path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return QuickRun(completed, report_path)


def test_quick_mode_exits_0_and_writes_json(quick_run: QuickRun) -> None:
    assert quick_run.completed.returncode == 0, quick_run.output[-3000:]
    assert quick_run.report["mode"] == "quick"
    assert f"wrote {Path(quick_run.completed.args[-1])}" in quick_run.output


def test_report_names_the_machine(quick_run: QuickRun) -> None:
    machine = quick_run.report["machine"]
    assert isinstance(machine["cores"], int)
    assert machine["cores"] >= 1
    assert machine["cpu_model"]
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", machine["python"])
    for package in ("schemathesis", "hypothesis", "pytest", "httpx"):
        assert machine["packages"][package], f"no version recorded for {package}"


def test_throughput_point_counts_requests_at_the_server_and_in_the_suite(quick_run: QuickRun) -> None:
    (point,) = quick_run.report["data_growth"]
    server, suite, ceiling = point["server"], point["suite"], point["ceiling"]
    assert suite["exit_code"] == 0
    assert suite["outcome"]["passed"] > 0
    assert server["requests"] > 0
    assert server["requests"] == server["list_requests"] + server["other_requests"]
    # Two independent counts of the same run: the server's middleware and the suite's traffic recorder.
    assert suite["recorded_requests"] == server["requests"]
    assert ceiling["requests"] >= server["requests"]
    assert ceiling["rps"] > 0
    assert set(ceiling["mean_ms"]) == {"list", "get", "logs"}
    assert point["suite_rps"] > 0
    # Where the time went, from the server's side: startup before the first request, idle gaps inside the run.
    timing = point["time"]
    assert timing["startup_seconds"] > 0
    assert 0 <= timing["idle_in_active_seconds"] <= timing["active_seconds"] <= suite["wall_seconds"]


def test_every_section_has_its_rows(quick_run: QuickRun) -> None:
    report = quick_run.report
    startup = report["startup"][0]
    assert startup["exit_code"] == 0
    assert startup["cpu_seconds"] > 0
    (profile,) = report["profiles"]
    assert profile["profile"] == "ci"
    assert profile["peak_rss_mb"] > 0
    assert profile["recorded_requests"] > 0
    (growth,) = report["example_growth"]
    assert growth["max_examples"] == 2
    assert growth["server"]["requests"] > 0
    cli = report["cli"]
    assert cli["cli_faithful"][0]["requests"] > 0
    assert "summary" in cli["faults"] or "skipped" in cli["faults"]


def test_targets_have_a_verdict_each(quick_run: QuickRun) -> None:
    targets = quick_run.report["targets"]
    assert len(targets) == 4
    assert all(t["status"] in STATUSES and t["detail"] for t in targets)
    for target in targets:
        assert f"{target['target']}" in quick_run.output


def test_no_session_token_in_output_or_report(quick_run: QuickRun) -> None:
    assert not TOKEN_SHAPE.search(quick_run.output)
    assert not TOKEN_SHAPE.search(quick_run.report_text)


FLAKE_CHECK = PROJECT_ROOT / "benchmarks" / "flake_check.py"


def _flake_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(FLAKE_CHECK), "--runs", "1", "--levels", "82f", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_flake_check_counts_a_passing_run_and_removes_its_folder() -> None:
    """One run at 82f of a narrow slice (the list tests) against the embedded server, one CPU hog: 1/1, exit 0."""
    completed = _flake_check("--load", "1", "-k", "test_list")
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-3000:]
    assert "82f (fast): 1/1 runs passed" in output
    assert re.search(r"\[82f 1/1\] seed \d+: passed", output), output
    folder = re.search(r"run folders under (\S+)", output)
    assert folder is not None, output
    assert not Path(folder.group(1)).exists(), "a passing check left its run folders"


def test_flake_check_reports_a_failing_run_with_its_seed_and_replay() -> None:
    """A run that fails (here: a test id that does not exist, pytest exit 4) is counted, named with the seed it
    ran with and a replay command using that seed, its folder is kept, and the check exits 1."""
    completed = _flake_check("--hypothesis-seed", "1234", "--", "tests/test_list.py::no_such_test")
    output = completed.stdout + completed.stderr
    assert completed.returncode == 1, output[-3000:]
    assert "82f (fast): 0/1 runs passed" in output
    assert "seeds: 1234" in output
    assert "--coder-version 82f --hypothesis-seed 1234" in output
    kept = re.search(r"run folders kept in (\S+)", output)
    assert kept is not None, output
    assert (Path(kept.group(1)) / "82f-1" / "output.txt").exists()
    shutil.rmtree(kept.group(1))


SAMPLE_FAILURES = """\
=================================== FAILURES ===================================
___________________________ test_links_state_machine ___________________________
+ Exception Group Traceback (most recent call last):
  | schemathesis.core.failures.FailureGroup: Schemathesis found 1 distinct failure
  | - ST202 Schema-valid request rejected
  |     POST http://127.0.0.1:40185/api/experimental/tasks/me
______________ test_get_by_name[1b4e28ba-2fa1-11d2-883f-0016d3cca427] ______________
E       AssertionError: GET http://127.0.0.1:40185/x answered 500 after 1.5s
=========================== short test summary info ============================
FAILED tests/test_stateful.py::test_links_state_machine - + Exception Group T...
FAILED tests/test_conformance.py::test_conformance[POST /api/experimental/tasks/{user}] - boom
FAILED tests/test_get.py::test_get_by_name[1b4e28ba-2fa1-11d2-883f-0016d3cca427] - AssertionError: GET
SUBFAILED tests/test_conformance.py::test_conformance[GET /api/v2/tasks] - FailedHealthCheck: filtering
"""


def test_flake_check_names_each_failure_by_test_id_and_what_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The failure lines group repeats of one failure: the check's title instead of the exception group's banner,
    whole test ids (spaces inside brackets too), and ids, ports and durations in messages replaced."""
    spec = importlib.util.spec_from_file_location("flake_check", FLAKE_CHECK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "flake_check", module)  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    assert module.failures_in(SAMPLE_FAILURES, 1) == [
        ("tests/test_stateful.py::test_links_state_machine", "ST202 Schema-valid request rejected"),
        ("tests/test_conformance.py::test_conformance[POST /api/experimental/tasks/{user}]", "boom"),
        (
            "tests/test_get.py::test_get_by_name[1b4e28ba-2fa1-11d2-883f-0016d3cca427]",
            "AssertionError: GET http://127.0.0.1:<port>/x answered 500 after <n>s",
        ),
        ("tests/test_conformance.py::test_conformance[GET /api/v2/tasks]", "FailedHealthCheck: filtering"),
    ]
    assert module.failures_in("INTERNALERROR> boom\n", 3) == [("<run>", "exit code 3: INTERNALERROR> boom")]


# -- the realistic profile (issue 18): wall time against the floor builds and the rate limit set ---------------------

REALISTIC = PROJECT_ROOT / "benchmarks" / "bench_realistic.py"


def _bench_module(name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A benchmark module imported as its script would be (its siblings importable by their plain names)."""
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "benchmarks"))
    return importlib.import_module(name)


def test_the_floor_comes_from_the_server_s_timeline(monkeypatch: pytest.MonkeyPatch) -> None:
    """At ``slow`` a start build reaches active in 55 s and a stop build ends in 22 s (the server's --help says so);
    the rate limit's floor is a full window per 512 requests beyond the first batch."""
    realistic = _bench_module("bench_realistic", monkeypatch)
    assert realistic.build_seconds("slow") == {"create_to_active": 55.0, "stop": 22.0, "start": 55.0}
    assert realistic.build_seconds("realistic") == {"create_to_active": 10.0, "stop": 4.0, "start": 10.0}
    assert [realistic.rate_floor_seconds(n) for n in (0, 1, 512, 513, 1024, 1025)] == [0, 0, 0, 60, 60, 120]


def test_the_busiest_minute_of_a_key_is_counted_in_a_sliding_window(monkeypatch: pytest.MonkeyPatch) -> None:
    realistic = _bench_module("bench_realistic", monkeypatch)
    assert realistic.peak_per_window([]) == 0
    # 10.0 to 61.0 fall in one 60 s window; 0.0 and 60.0 are a whole window apart, so never counted together.
    assert realistic.peak_per_window([0.0, 10.0, 59.9, 60.0, 61.0]) == 4
    assert realistic.peak_per_window([0.0, 60.0, 120.0]) == 1
    figures = realistic.endpoint_figures({("alice", "/a"): [0.0, 1.0, 2.0], ("bob", "/a"): [0.0]})
    assert figures["keys"] == 2
    assert figures["busiest"][0] == {"user": "alice", "path": "/a", "requests": 3, "peak_per_minute": 3}


def test_the_realistic_profile_reports_wall_floor_tasks_and_requests(tmp_path: Path) -> None:
    """One fast run of a slice of the suite (the minute-long profile is for reading, not for the self-tests)."""
    report_path = tmp_path / "realistic.json"
    args = ["--speeds", "fast", "--no-embedded", "--json", str(report_path), "--", "tests/test_list.py"]
    completed = subprocess.run(
        [sys.executable, str(REALISTIC), *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-3000:]
    report = json.loads(report_path.read_text(encoding="utf-8"))
    (run,) = report["runs"]
    assert run["suite"]["exit_code"] == 0
    assert run["floor_builds_seconds"] == pytest.approx(0.72)  # 5 + 2 + 5 stages of 60 ms
    # The wall time is reported to 0.1 s and the ratio to 0.01 from the unrounded wall time: allow both roundings.
    rounding = 0.05 / run["floor_seconds"] + 0.005
    assert run["ratio_wall_to_floor"] == pytest.approx(run["wall_seconds"] / run["floor_seconds"], abs=rounding)
    # Tasks made, counted in the server's world: each came from one create the counter saw, and none was left.
    assert 0 < run["tasks_created"] <= run["requests_by_group"]["create"]
    assert run["tasks_left"] == 0
    # Requests per rate-limit key (user, path): the keys add up to the server's count.
    assert run["rate_limit"]["busiest_requests"] <= run["requests"]
    assert run["rate_limit"]["busiest"][0]["user"] in {"alice", "bob"}
    assert "PASS tasks <= 8" in output or "MISS tasks <= 8" in output
    assert not TOKEN_SHAPE.search(output)
    assert not TOKEN_SHAPE.search(report_path.read_text(encoding="utf-8"))


def test_the_slowest_tests_come_from_junit_slowest_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bench_run = _bench_module("bench_run", monkeypatch)
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<testsuites><testsuite tests="3">'
        '<testcase classname="tests.test_a" name="test_x" time="1.25"/>'
        '<testcase classname="tests.test_b" name="test_y" time="40.04"/>'
        '<testcase classname="tests.test_a" name="test_z" time="3"/>'
        "</testsuite></testsuites>",
        encoding="utf-8",
    )
    slowest = bench_run.read_slowest(junit, count=2)
    assert slowest == [
        {"test": "tests.test_b::test_y", "seconds": 40.0},
        {"test": "tests.test_a::test_z", "seconds": 3.0},
    ]
    assert bench_run.read_slowest(tmp_path / "absent.xml") == []
