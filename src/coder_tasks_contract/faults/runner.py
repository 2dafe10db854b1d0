"""Run the real contract suite against one variant of the reference server and say what caught it, and how fast.

The variant (a fault, or the faithful server) is served by uvicorn on a real loopback socket in this process; the
suite runs as a separate ``python -m pytest`` process aimed at it exactly as at a deployment (``--base-url`` and
the ids on the command line, the session tokens in ``CODER_*`` environment variables so they never show in a
process list), with ``-x``: it stops at the first failure, which the JUnit report then names. The files run in the
order :func:`suite_files` gives (``--test-order collected``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from coder_tasks_contract import resources
from coder_tasks_contract.faults.base import Fault
from coder_tasks_contract.server.runner import start_reference_server

# How pytest is started on the suite (the checkout's tests/, or the installed copy): resources.py knows.
SUITE = resources.suite_run()
SUITE_DIR = SUITE.directory
# Where the kill-rate report goes by default (report.py): the checkout's reports/, or the caller's.
PROJECT_ROOT = resources.checkout() or Path()
FAITHFUL = "faithful"
_SUITE_ID = re.compile(rf"^{resources.SUITE_PACKAGE}/")
# Files of the suite in the order they run: cheap targeted checks first, the generated (schemathesis) tests last,
# so a fault a targeted test catches is caught in seconds. Files not listed run in between, in name order.
FIRST = (
    "test_status_codes.py",
    "test_path_resolution.py",
    "test_create_errors.py",
    "test_task_state_errors.py",
    "test_query_errors.py",
    "test_list.py",
    "test_isolation.py",
    "test_auth.py",
)
LAST = ("test_conformance.py", "test_stateful.py")
# The suite waits for tasks to become active (0.3 s on the fast reference server) or paused; a fault that stops
# that from happening should fail in seconds, not after the 600 s a deployment gets.
LIFECYCLE_TIMEOUT = 15.0
SUITE_TIMEOUT = 900.0
TIMED_OUT = -9  # exit code recorded for a suite run stopped at its timeout
PREEXISTING_TASKS = 2  # tasks of user A the run did not create: the suite must leave them alone and still pass


@dataclass(frozen=True)
class FirstFailure:
    """The first test that failed (or errored in a fixture), and the line that says why."""

    test_id: str  # e.g. "tests/test_auth.py::test_no_token_answers_401_signed_out[listTasks]"
    kind: str  # "failure" or "error"
    message: str  # the first line of the failure message

    def __str__(self) -> str:
        return f"{self.test_id}: {self.message}"


@dataclass(frozen=True)
class SuiteRun:
    """The outcome of one run of the suite against one variant."""

    variant: str  # a fault's name, or "faithful"
    exit_code: int
    tests: int  # tests run (passed, failed, errored or skipped) before the run stopped
    first_failure: FirstFailure | None
    wall_seconds: float  # start of the suite process to its exit (includes cleanup of the tasks it created)
    to_first_failure: float | None  # start of the suite process to the end of the first failing test
    profile: str
    seed: int | None
    output_tail: str  # the last lines of the suite's output, tokens redacted

    @property
    def caught(self) -> bool:
        """A test failed: the suite noticed."""
        return self.first_failure is not None

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and self.first_failure is None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["caught"] = self.caught
        return data


def suite_files(suite_dir: Path = SUITE_DIR) -> list[Path]:
    """Every ``test_*.py`` of the suite, cheap targeted files first and the generated tests last."""
    files = sorted(suite_dir.glob("test_*.py"))

    def rank(path: Path) -> tuple[int, int, str]:
        if path.name in FIRST:
            return (0, FIRST.index(path.name), path.name)
        if path.name in LAST:
            return (2, LAST.index(path.name), path.name)
        return (1, 0, path.name)

    return sorted(files, key=rank)


def suite_environment(tokens: dict[str, str], profile: str, reports_dir: Path) -> dict[str, str]:
    """This process's environment without anything that aims the suite elsewhere, plus the run's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODER_", "PYTEST_", "HYPOTHESIS_"))}
    env.update(tokens)
    env["HYPOTHESIS_PROFILE"] = profile
    env["CODER_TASKS_REPORTS_DIR"] = str(reports_dir)
    return env


def first_failure(junit: Path) -> tuple[int, FirstFailure | None, float]:
    """From a JUnit report: tests run, the first failing one, and the seconds from the suite's start to the end of
    that test (or of the last test when none failed)."""
    root = ET.parse(junit).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        return 0, None, 0.0
    elapsed = 0.0
    count = 0
    for case in suite.iter("testcase"):
        count += 1
        elapsed += float(case.get("time") or 0.0)
        for kind in ("failure", "error"):
            problem = case.find(kind)
            if problem is None:
                continue
            classname, name = case.get("classname", ""), case.get("name", "")
            test_id = f"{classname.replace('.', '/')}.py::{name}" if classname else name
            # An installed suite's node ids start with its package; the catalogue names tests by their checkout path.
            test_id = _SUITE_ID.sub("tests/", test_id, count=1)
            text = problem.get("message") or (problem.text or "")
            message = next((line.strip() for line in text.splitlines() if line.strip()), "")
            return count, FirstFailure(test_id, kind, message[:300]), elapsed
    return count, None, elapsed


def _suite_started(junit: Path) -> float | None:
    """The suite's start (epoch seconds) from the JUnit ``timestamp`` (local time, as pytest writes it)."""
    root = ET.parse(junit).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    stamp = suite.get("timestamp") if suite is not None else None
    return datetime.fromisoformat(stamp).timestamp() if stamp else None


def _text(output: bytes | str | None) -> str:
    if isinstance(output, bytes):
        return output.decode("utf-8", "replace")
    return output or ""


def _redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "****")
    return text


def run_suite(
    fault: Fault | None,
    *,
    profile: str = "ci",
    seed: int | None = None,
    timeout: float = SUITE_TIMEOUT,
    extra_args: tuple[str, ...] = (),
) -> SuiteRun:
    """Serve ``fault`` (None: the faithful server) and run the whole suite against it, stopping at the first failure.

    ``profile`` is the suite's Hypothesis profile; ``seed`` (with a randomized profile such as ``default``) fixes
    the generated cases through Hypothesis' ``--hypothesis-seed``. Raises ``subprocess.TimeoutExpired`` after
    ``timeout`` seconds.
    """
    server = start_reference_server(
        speed="fast", app_factory=fault.factory if fault else None, preexisting_tasks=PREEXISTING_TASKS
    )
    try:
        seeded = server.seed
        tokens = {
            "CODER_SESSION_TOKEN": seeded.users["alice"].token,
            "CODER_SECOND_SESSION_TOKEN": seeded.users["bob"].token,
        }
        with tempfile.TemporaryDirectory(prefix="ctc-fault-") as scratch:
            junit = Path(scratch) / "junit.xml"
            args = [
                sys.executable,
                "-m",
                "pytest",
                *SUITE.pytest_args(),
                *(str(path) for path in suite_files()),
                "-x",
                # The files in suite_files' order, not the cost order a user's run gets (plugin/ordering.py): the
                # first failure is what the catalogue's catchers name.
                "--test-order",
                "collected",
                "-q",
                "-p",
                "no:cacheprovider",
                "--base-url",
                server.url,
                "--template-version-id",
                seeded.template_versions["ai_task"],
                "--non-task-template-version-id",
                seeded.template_versions["no_ai_task"],
                "--lifecycle-timeout",
                str(LIFECYCLE_TIMEOUT),
                f"--junitxml={junit}",
                *extra_args,
            ]
            if seed is not None:
                args.append(f"--hypothesis-seed={seed}")
            env = suite_environment(tokens, profile, Path(scratch) / "reports")
            started = time.time()
            try:
                completed = subprocess.run(
                    args, cwd=SUITE.rootdir, env=env, capture_output=True, text=True, timeout=timeout, check=False
                )
                exit_code, stdout, stderr = completed.returncode, completed.stdout, completed.stderr
            except subprocess.TimeoutExpired as expired:  # the child is killed; whatever it reported still counts
                exit_code, stdout, stderr = TIMED_OUT, _text(expired.stdout), _text(expired.stderr)
                stderr += f"\nthe suite did not finish within {timeout:g}s and was stopped"
            wall = time.time() - started
            tests, failure, elapsed = first_failure(junit) if junit.exists() else (0, None, 0.0)
            suite_start = _suite_started(junit) if junit.exists() else None
    finally:
        server.stop()
    to_failure = None
    if failure is not None:
        to_failure = elapsed + (max(suite_start - started, 0.0) if suite_start is not None else 0.0)
    output = _redact(stdout + stderr, list(tokens.values()))
    tail = "\n".join(output.strip().splitlines()[-25:])
    return SuiteRun(
        variant=fault.name if fault else FAITHFUL,
        exit_code=exit_code,
        tests=tests,
        first_failure=failure,
        wall_seconds=round(wall, 2),
        to_first_failure=round(to_failure, 2) if to_failure is not None else None,
        profile=profile,
        seed=seed,
        output_tail=tail,
    )
