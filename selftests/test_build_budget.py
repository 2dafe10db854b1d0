"""The state machine's budget of workspace builds (``generated/buildbudget.py``): what each step costs, and that a
real run of ``test_links_state_machine`` stays within it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from coder_tasks_contract.generated.buildbudget import ACTIVE, PAUSED, BuildBudget, builds_for
from coder_tasks_contract.plugin import profiles

from .support import REPO_ROOT, clean_env, run_pytest, target_args


@pytest.mark.parametrize(
    ("stage", "state", "builds"),
    [
        ("any", PAUSED, 0),
        ("delete", ACTIVE, 0),
        ("active", ACTIVE, 0),
        ("active", PAUSED, 1),  # a start build
        ("paused", ACTIVE, 1),  # a stop build
        ("pause", ACTIVE, 1),  # the pause itself
        ("pause", PAUSED, 2),  # resumed first, then paused
        ("resume", ACTIVE, 2),
        ("resume", PAUSED, 1),
    ],
)
def test_a_step_costs_the_builds_of_its_state_change_and_its_own(stage: str, state: str, builds: int) -> None:
    assert builds_for(stage, state) == builds


def test_the_budget_refuses_a_step_that_would_go_beyond_it() -> None:
    budget = BuildBudget(limit=2)
    budget.created("T1")
    assert budget.allows("paused")
    budget.brought("t1", "paused")  # stopped: one build
    assert (budget.spent, budget.states["t1"]) == (1, PAUSED)
    assert [budget.allows(stage) for stage in ("active", "resume", "pause")] == [True, True, False]
    budget.succeeded("t1", "resume")  # a successful resume: the second build
    assert (budget.spent, budget.states["t1"]) == (2, ACTIVE)
    assert [budget.allows(stage) for stage in ("active", "any", "paused")] == [True, True, False]
    budget.deleted("t1")
    assert budget.allows("paused")  # nothing is live: the 404 steps after a delete cost nothing


def test_no_limit_allows_every_step() -> None:
    budget = BuildBudget(limit=None)
    budget.created("t1")
    budget.brought("t1", "paused")
    budget.brought("t1", "active")
    assert (budget.allows("pause"), budget.spent) == (True, 2)


def _builds(server: Any) -> list[str]:
    # Every request that started a workspace build: a stop or start, a pause or resume (newest), answered 2xx (the
    # ignored_auth probes without credentials and the 404s after the delete start none).
    return [
        f"{record['method']} {record['path']} {record['status']}"
        for record in server.requests
        if record["method"] == "POST"
        and str(record["path"]).endswith(("/builds", "/pause", "/resume"))
        and 200 <= int(record["status"]) < 300
    ]


# Seeds whose one scenario starts 5 builds at newest without a budget (measured with stateful_builds=None): the
# budget, not the draw, is what keeps them within it.
@pytest.mark.parametrize("seed", ["1", "8"])
def test_a_state_machine_scenario_starts_no_more_builds_than_its_budget(
    reference_server_factory: Callable[..., Any], seed: str
) -> None:
    """The default profile's one scenario at newest (pause and resume links, and workspace stop/start builds to
    reach the state a step needs): the builds it starts stay within ``stateful_builds``, and it still passes."""
    budget = profiles.BUDGETS["default"]
    assert (budget.stateful_scenarios, budget.stateful_builds) == (1, 1)
    server = reference_server_factory(speed="fast", record=True, coder_version="newest")
    env = clean_env(HYPOTHESIS_PROFILE="default")
    args = target_args(server, "--coder-version", "newest", "--hypothesis-seed", seed)
    run = run_pytest("tests/test_stateful.py", "-k", "state_machine", *args, cwd=REPO_ROOT, env=env)
    assert run.ret == 0, run.output
    assert "1 passed" in run.output, run.output
    assert len(_builds(server)) <= budget.stateful_builds, _builds(server)
