"""Run one measured child process (the contract suite, the schemathesis command line, the plain httpx loop) and
say how long it took, how much memory and CPU it used, and what it printed (tokens redacted).

Peak memory comes from ``os.wait4`` on the child: its ``ru_maxrss`` is the largest resident set of the child or
of any descendant it waited for (so with ``pytest -n 2`` it is the biggest of controller and workers, not their
sum). ``getrusage(RUSAGE_CHILDREN)`` would give the high-water mark over every child this benchmark ever ran,
which hides a small run behind an earlier big one.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
SUITE_DIR = PROJECT_ROOT / "tests"
# Environment that would aim the suite somewhere else or change its settings behind the benchmark's back.
_FOREIGN_ENV = ("CODER_", "PYTEST_", "HYPOTHESIS_", "CTC_BENCH_")


@dataclass
class ProcessRun:
    """One finished child process."""

    exit_code: int
    wall_seconds: float
    cpu_seconds: float  # user + system, child and its waited-for descendants
    peak_rss_mb: float
    output_tail: str  # last lines of stdout+stderr, secrets replaced by ****
    timed_out: bool = False
    started: float = 0.0  # time.monotonic() at start and exit, to set against the server's arrival times
    ended: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "exit_code": self.exit_code,
            "wall_seconds": round(self.wall_seconds, 2),
            "cpu_seconds": round(self.cpu_seconds, 2),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "timed_out": self.timed_out,
        }


def redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "****")
    return text


def run_process(
    args: list[str], *, env: dict[str, str], cwd: Path, timeout: float, secrets: list[str], tail_lines: int = 30
) -> ProcessRun:
    """Run ``args`` to completion (its own process group, killed as a group after ``timeout`` seconds)."""
    with tempfile.TemporaryFile() as out:
        started = time.monotonic()
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the group this call started, by its id

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        ended = time.monotonic()
        proc.returncode = os.waitstatus_to_exitcode(status)  # tell Popen it has been reaped
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    tail = "\n".join(redact(text, secrets).strip().splitlines()[-tail_lines:])
    return ProcessRun(
        exit_code=proc.returncode,
        wall_seconds=ended - started,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024.0,  # kilobytes on Linux
        output_tail=tail,
        timed_out=timed_out.is_set(),
        started=started,
        ended=ended,
    )


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment minus anything that aims or tunes the suite, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN_ENV)}
    env.update(extra or {})
    return env


@dataclass
class Outcome:
    """Test counts from a JUnit report."""

    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0

    @property
    def passed(self) -> int:
        return self.tests - self.failures - self.errors - self.skipped

    def to_json(self) -> dict[str, int]:
        return {
            "tests": self.tests,
            "passed": self.passed,
            "failures": self.failures,
            "errors": self.errors,
            "skipped": self.skipped,
        }


def read_junit(path: Path) -> Outcome:
    if not path.exists():
        return Outcome()
    root = ET.parse(path).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        return Outcome()
    return Outcome(*(int(suite.get(key) or 0) for key in ("tests", "failures", "errors", "skipped")))


def read_slowest(path: Path, count: int = 10) -> list[dict[str, Any]]:
    """The ``count`` tests that took longest (setup, call and teardown: JUnit's ``time``), slowest first: where a
    run's wall time went, test by test."""
    if not path.exists():
        return []
    cases = ET.parse(path).getroot().iter("testcase")
    timed = [(float(case.get("time") or 0), f"{case.get('classname')}::{case.get('name')}") for case in cases]
    return [{"test": name, "seconds": round(seconds, 1)} for seconds, name in sorted(timed, reverse=True)[:count]]


@dataclass
class SuiteRun:
    """One run of the contract suite: the process, its test outcome and what its traffic recorder saw."""

    process: ProcessRun
    outcome: Outcome
    recorded_requests: int | None  # exchanges in the suite's traffic recorder (None: not written)
    recorded_by_route: dict[str, int] = field(default_factory=dict)
    lists_by_test: dict[str, int] = field(default_factory=dict)
    # Seconds the suite slept (all xdist workers added up): lifecycle polls' pauses, other sleeps; and poll count.
    sleeps: dict[str, float] = field(default_factory=dict)
    slowest: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = {
            **self.process.to_json(),
            "outcome": self.outcome.to_json(),
            "recorded_requests": self.recorded_requests,
            "sleeps": self.sleeps,
            "lists_by_test": self.lists_by_test,
            "slowest_tests": self.slowest,
        }
        if self.process.exit_code != 0:
            data["output_tail"] = self.process.output_tail
        return data


def run_suite(
    paths: list[str],
    *,
    profile: str,
    suite_args: list[str] | None = None,
    tokens: dict[str, str] | None = None,
    max_examples: int | None = None,
    workers: int | None = None,
    extra_args: list[str] | None = None,
    timeout: float = 900.0,
) -> SuiteRun:
    """``python -m pytest <paths>`` in a child process with the benchmark plugin; against the embedded server unless
    ``suite_args`` aim it (``--base-url`` ...) and ``tokens`` give the ``CODER_*`` token variables."""
    with tempfile.TemporaryDirectory(prefix="ctc-bench-") as scratch:
        junit = Path(scratch) / "junit.xml"
        traffic = Path(scratch) / "traffic.json"
        extra = dict(tokens or {})
        extra["HYPOTHESIS_PROFILE"] = profile
        extra["CTC_BENCH_TRAFFIC_OUT"] = str(traffic)
        extra["PYTHONPATH"] = os.pathsep.join(p for p in (str(BENCH_DIR), os.environ.get("PYTHONPATH", "")) if p)
        if max_examples is not None:
            extra["CTC_BENCH_MAX_EXAMPLES"] = str(max_examples)
        args = [sys.executable, "-m", "pytest", *paths, "-q", "-p", "no:cacheprovider", "-p", "bench_plugin"]
        args += [f"--junitxml={junit}", f"--reports-dir={Path(scratch) / 'reports'}"]
        args += list(suite_args or [])
        if workers:
            args += ["-n", str(workers)]
        args += list(extra_args or [])
        process = run_process(
            args, env=clean_env(extra), cwd=PROJECT_ROOT, timeout=timeout, secrets=list((tokens or {}).values())
        )
        recorded: int | None = None
        by_route: dict[str, int] = {}
        lists: dict[str, int] = {}
        sleeps = {"poll_sleep_seconds": 0.0, "polls": 0.0, "waits": 0.0, "other_sleep_seconds": 0.0}
        if traffic.exists():
            data = json.loads(traffic.read_text(encoding="utf-8"))
            recorded, by_route, lists = int(data["exchanges"]), dict(data["by_route"]), dict(data["lists_by_test"])
        for part in [traffic, *traffic.parent.glob(traffic.name + ".*")]:
            if part.exists():
                found = json.loads(part.read_text(encoding="utf-8"))
                for key in sleeps:
                    sleeps[key] = round(sleeps[key] + float(found.get(key, 0)), 3)
        return SuiteRun(process, read_junit(junit), recorded, by_route, lists, sleeps, read_slowest(junit))
