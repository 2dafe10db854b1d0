"""What a state machine step costs in workspace builds, so that a scenario stays within its profile's budget.

On a deployment every change of a task between active and paused is a workspace build (a stop takes about 20 s, a
start about a minute). The state machine draws its steps at random and, left alone, toggles its task back and forth
for each step that needs the other state. A scenario may start at most ``Budget.stateful_builds`` such builds
(None: no limit); a step that would go beyond is not drawn (a precondition on each link's rule,
``compat.limit_link_rules``), while the steps that need no change, the 404s after a delete included, still run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ACTIVE, PAUSED = "active", "paused"


# The state a stage's operation needs, and the state its success leaves the task in (pause and resume, PAUSE-1).
_NEEDS = {"active": ACTIVE, "pause": ACTIVE, "paused": PAUSED, "resume": PAUSED}
_LEAVES = {"pause": PAUSED, "resume": ACTIVE}


def builds_for(stage: str, state: str) -> int:
    """The builds a step of ``stage`` (``stages.STAGES`` or ``any``) starts on a task that is ``state`` now: the
    change into the state it needs, plus its own where the operation is pause or resume. "any" and "delete" start
    none (DELETE-2: a delete waits for a running build, and its own build ends the task)."""
    if stage not in _NEEDS:
        return 0
    return int(state != _NEEDS[stage]) + int(stage in _LEAVES)


@dataclass
class BuildBudget:
    """One scenario's builds: how many it may start, how many it has, and the state of each of its live tasks."""

    limit: int | None
    spent: int = 0
    states: dict[str, str] = field(default_factory=dict)  # task id (lower case) -> ACTIVE or PAUSED

    def allows(self, stage: str) -> bool:
        """Whether a step of ``stage`` fits, whichever live task it addresses (each starts active after its create)."""
        if self.limit is None:
            return True
        cost = max((builds_for(stage, state) for state in self.states.values()), default=0)
        return self.spent + cost <= self.limit

    def created(self, task_id: str) -> None:
        self.states[task_id.lower()] = ACTIVE

    def brought(self, task_id: str, stage: str) -> None:
        """Count the build that brought a live task into the state a step of ``stage`` needs (if it changed)."""
        key = task_id.lower()
        if key in self.states and stage in _NEEDS:
            self.spent += int(self.states[key] != _NEEDS[stage])
            self.states[key] = _NEEDS[stage]

    def succeeded(self, task_id: str, stage: str) -> None:
        """Count the build a successful pause or resume started."""
        key = task_id.lower()
        if key in self.states and stage in _LEAVES:
            self.spent += 1
            self.states[key] = _LEAVES[stage]

    def deleted(self, task_id: str) -> None:
        self.states.pop(task_id.lower(), None)
