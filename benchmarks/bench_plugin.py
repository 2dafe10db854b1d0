"""pytest plugin the benchmark loads into the contract suite's process (``-p bench_plugin``); inert without its
environment variables, and it changes nothing about what the suite checks.

- ``CTC_BENCH_MAX_EXAMPLES=N``: the loaded Hypothesis profile, re-registered under the same name with
  ``max_examples=N`` (the fuzzing phase's examples per operation), for the growth-with-budget figures. The profile
  keeps its name, so ``profiles.budget()`` (task creates, stateful scenarios) still follows the chosen profile.
- ``CTC_BENCH_TRAFFIC_OUT=PATH``: at the end of the session (after the suite's cleanup) the number of exchanges the
  suite's own traffic recorder saw, by method and route template, and the list calls by test, written as JSON to
  PATH. The benchmark counts requests at the server too; this is the cross-check, and the only count available
  against the embedded server. It also times the suite's sleeps (see ``_time_sleeps``): each xdist worker writes
  its own to ``PATH.<worker id>``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, SupportsIndex

import pytest

MAX_EXAMPLES_ENV = "CTC_BENCH_MAX_EXAMPLES"
TRAFFIC_OUT_ENV = "CTC_BENCH_TRAFFIC_OUT"
LIST_ROUTE = ("GET", "/api/experimental/tasks")


class Sleeps:
    """Seconds the suite's main thread slept: in ``polling.poll_task`` pauses, and in any other ``time.sleep``."""

    poll_seconds = 0.0
    polls = 0
    waits = 0  # calls of poll_task: one per wait for a task to become active, paused or settled
    other_seconds = 0.0


def _time_sleeps() -> None:
    """Time the suite's pauses, without changing them.

    ``polling.poll_task`` got ``time.sleep`` as a default argument when it was defined, so it is wrapped (its
    callers look it up in the module at each call) and handed a timed sleep. Every other pause calls
    ``time.sleep`` through the module (``stateful.wait_agent_idle``, the polls in ``tests/support.py``), so the
    module attribute is wrapped too. Only the main thread counts: an embedded server's threads are not the suite.
    """
    from coder_tasks_contract.transport import polling

    original_sleep = time.sleep
    original_poll = polling.poll_task
    main = threading.main_thread()

    def poll_sleep(seconds: float) -> None:
        Sleeps.poll_seconds += seconds
        Sleeps.polls += 1
        original_sleep(seconds)

    def poll_task(*args: Any, **kwargs: Any) -> Any:
        Sleeps.waits += 1
        kwargs.setdefault("sleep", poll_sleep)
        return original_poll(*args, **kwargs)

    def sleep(seconds: float | SupportsIndex) -> None:
        if threading.current_thread() is main:
            Sleeps.other_seconds += float(seconds)
        original_sleep(seconds)

    polling.poll_task = poll_task
    time.sleep = sleep


def _load_profile_with_max_examples(raw: str) -> None:
    from hypothesis import settings

    from coder_tasks_contract.plugin import profiles

    profiles.ensure_registered()
    name = profiles.current_name()
    settings.register_profile(name, settings.get_profile(name), max_examples=int(raw))
    settings.load_profile(name)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    raw = os.environ.get(MAX_EXAMPLES_ENV, "").strip()
    if raw:
        _load_profile_with_max_examples(raw)
    if os.environ.get(TRAFFIC_OUT_ENV, "").strip():
        _time_sleeps()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    out = os.environ.get(TRAFFIC_OUT_ENV, "").strip()
    if not out:
        return
    pauses = {
        "poll_sleep_seconds": round(Sleeps.poll_seconds, 3),
        "polls": Sleeps.polls,
        "waits": Sleeps.waits,
        "other_sleep_seconds": round(Sleeps.other_seconds, 3),
    }
    workerinput = getattr(session.config, "workerinput", None)
    if workerinput is not None:
        # xdist: a worker's traffic goes to the controller, which merges it; its pauses are only known here.
        Path(f"{out}.{workerinput.get('workerid', 'gw')}").write_text(json.dumps(pauses), encoding="utf-8")
        return
    from coder_tasks_contract.plugin.runstate import run_state

    exchanges = run_state(session.config).traffic.exchanges
    by_route = Counter(f"{e.method} {e.route}" for e in exchanges)
    # Which tests send the list calls (their cost grows with the tasks on the target), parameters stripped.
    lists_by_test = Counter(
        (e.nodeid or "(outside tests)").split("[", 1)[0] for e in exchanges if (e.method, e.route) == LIST_ROUTE
    )
    data = {
        "exchanges": len(exchanges),
        "by_route": dict(sorted(by_route.items())),
        "lists_by_test": dict(lists_by_test.most_common()),
        **pauses,
    }
    Path(out).write_text(json.dumps(data), encoding="utf-8")
