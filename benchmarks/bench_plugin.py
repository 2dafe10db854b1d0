"""pytest plugin the benchmark loads into the contract suite's process (``-p bench_plugin``); inert without its
environment variables, so it changes nothing about what the suite checks.

- ``CTC_BENCH_MAX_EXAMPLES=N``: the loaded Hypothesis profile, re-registered under the same name with
  ``max_examples=N`` (the fuzzing phase's examples per operation), for the growth-with-budget figures. The profile
  keeps its name, so ``profiles.budget()`` (task creates, stateful scenarios) still follows the chosen profile.
- ``CTC_BENCH_TRAFFIC_OUT=PATH``: at the end of the session (after the suite's cleanup) the number of exchanges the
  suite's own traffic recorder saw, by method and route template, written as JSON to PATH. The benchmark counts
  requests at the server too; this is the cross-check, and the only count available against the embedded server.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

MAX_EXAMPLES_ENV = "CTC_BENCH_MAX_EXAMPLES"
TRAFFIC_OUT_ENV = "CTC_BENCH_TRAFFIC_OUT"


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    raw = os.environ.get(MAX_EXAMPLES_ENV, "").strip()
    if not raw:
        return
    from hypothesis import settings

    from coder_tasks_contract import profiles

    profiles.ensure_registered()
    name = profiles.current_name()
    settings.register_profile(name, settings.get_profile(name), max_examples=int(raw))
    settings.load_profile(name)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    out = os.environ.get(TRAFFIC_OUT_ENV, "").strip()
    # xdist workers ship their traffic to the controller, which has merged all of it by now.
    if not out or hasattr(session.config, "workerinput"):
        return
    from coder_tasks_contract.session import run_state

    exchanges = run_state(session.config).traffic.exchanges
    by_route = Counter(f"{e.method} {e.route}" for e in exchanges)
    # Which tests send the list calls (their cost grows with the tasks on the target), parameters stripped.
    lists_by_test = Counter(
        (e.nodeid or "(outside tests)").split("[", 1)[0]
        for e in exchanges
        if e.method == "GET" and e.route == "/api/experimental/tasks"
    )
    data = {
        "exchanges": len(exchanges),
        "by_route": dict(sorted(by_route.items())),
        "lists_by_test": dict(lists_by_test.most_common()),
    }
    Path(out).write_text(json.dumps(data), encoding="utf-8")
