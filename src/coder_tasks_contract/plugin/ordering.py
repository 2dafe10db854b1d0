"""The order the contract tests run in (``--test-order``): by default, the one that overlaps the most workspace builds.

On a deployment a task's first build takes about a minute, and the run's wall time is the builds it waits for one
after another. The task pool sends its creates when the first test starts and finishes them between tests once they
are built (``transport/task_pool.py``); so ``overlap`` runs first the tests that need a first build still running
(they take the pool's task that is to be deleted, while it builds), then the tests that create and await their own
tasks (the stateful walk and state machine: their builds run while the pool's do), then the rest in the order
collected, and last the tests that leave a pooled task for its next taker to put back (the restarted-task test: as
none follows, nobody waits for that task's stop). The verdicts do not depend on the order (every test gets the
state it needs in any order, under xdist, ``-k`` or ``--lf``); only the cost does. ``collected`` keeps pytest's
order: the fault catalogue's runner uses it, as it orders the files itself for a fast first failure.
"""

from __future__ import annotations

import pytest

FIRST_BUILD = "first_build"
OWN_TASKS = "own_tasks"
MOVES_POOLED = "moves_pooled"
MARKERS = (
    f"{FIRST_BUILD}: takes a task whose first build still runs (task_pool.unsettled); runs first (--test-order)",
    f"{OWN_TASKS}: creates and awaits its own tasks, none of the pool's; runs after the {FIRST_BUILD} tests",
    f"{MOVES_POOLED}: leaves a pooled task for its next taker to put back (task_pool.moved); runs last",
)
OVERLAP, COLLECTED = "overlap", "collected"
ORDERS = (OVERLAP, COLLECTED)


def rank(item: pytest.Item) -> int:
    """0 for a test that needs a first build running, 1 for one that creates its own tasks, 3 for one that leaves a
    pooled task moved, else 2."""
    if item.get_closest_marker(FIRST_BUILD):
        return 0
    if item.get_closest_marker(OWN_TASKS):
        return 1
    if item.get_closest_marker(MOVES_POOLED):
        return 3
    return 2


def reorder(items: list[pytest.Item], order: str) -> None:
    """Sort ``items`` in place for ``order``; a stable sort, so each group keeps the order it was collected in."""
    if order == OVERLAP:
        items.sort(key=rank)
