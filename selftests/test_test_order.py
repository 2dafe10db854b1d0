"""``--test-order`` (``plugin/ordering.py``): by default the tests that wait on workspace builds run first, so their
builds overlap the task pool's, and the one that leaves a pooled task moved runs last; ``collected`` keeps pytest's
order (the fault catalogue's runner uses it)."""

from __future__ import annotations

from .support import REPO_ROOT, clean_env, run_pytest


def _collected(*args: str) -> list[str]:
    """Node ids in the order the suite would run them at the newest level (collection only: no target contacted)."""
    run = run_pytest("tests", "--collect-only", "-q", "--coder-version", "newest", *args, cwd=REPO_ROOT)
    assert run.ret == 0, run.output
    return [line.strip() for line in run.output.splitlines() if "::" in line]


def test_the_tests_that_wait_on_builds_run_first_and_the_rest_keep_their_order() -> None:
    overlap, collected = _collected(), _collected("--test-order", "collected")
    assert sorted(overlap) == sorted(collected)
    # The first_build tests (a 409 while a first build runs), then the own_tasks ones (the stateful tests).
    first_build = [node for node in collected if "_while_the_first_build_runs_" in node]
    own_tasks = [node for node in collected if node.startswith("tests/test_stateful.py::")]
    assert (len(first_build), len(own_tasks)) == (3, 2), (first_build, own_tasks)
    # Last, the moves_pooled ones (the restarted-task test leaves the paused task for its next taker to pause).
    moved = [node for node in collected if "::test_a_restarted_task_" in node]
    assert len(moved) == 1, moved
    rest = [node for node in collected if node not in first_build + own_tasks + moved]
    assert overlap == first_build + own_tasks + rest + moved
    assert collected[0].startswith("tests/test_auth.py::")  # pytest's order: the files by name


def test_an_unknown_order_is_a_one_line_error_naming_the_choices() -> None:
    run = run_pytest("tests", "--collect-only", "-q", cwd=REPO_ROOT, env=clean_env(CODER_TASKS_TEST_ORDER="fastest"))
    assert run.ret == 4, run.output
    assert "CODER_TASKS_TEST_ORDER='fastest': must be one of: overlap, collected" in run.output
