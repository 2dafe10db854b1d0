"""When in a task's life each operation can succeed, and moving a task this run created into that state.

The stages are the link walk's order (:data:`STAGES`) and what the state machine brings a task to before each step;
an operation's stage comes from ``aiming``'s roles (DELETE-2, INPUT-4, AGENT-1) and, at the newest level, from
pause and resume (PAUSE-1). :class:`TaskStates` reaches a stage with ``polling`` (workspace builds, polled), never
with blind sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from coder_tasks_contract.generated import aiming, loader
from coder_tasks_contract.transport import polling

# When in a task's life an operation can succeed (aiming's roles, DELETE-2, INPUT-4, AGENT-1).
_STAGE_OF_ROLES: dict[tuple[str, ...], str] = {
    (aiming.ACTIVE,): "active",
    (aiming.PAUSED,): "paused",
    (aiming.VICTIM,): "delete",
}
# Pause and resume share aiming's TOGGLE task; here each has its own stage: pause takes an active task, resume a
# paused one (newest, PAUSE-1), and each leaves the task in the state the next stage starts from.
_STAGE_OF_OPERATION: dict[str, str] = {loader.PAUSE: "pause", loader.RESUME: "resume"}
#: The stages in the order a task's life reaches them (the order of :meth:`linkwalk.LinkWalk.run`).
STAGES = ("active", "pause", "paused", "resume", "delete")
# The state a task must be in for an operation of the stage.
STATE_FOR_STAGE: dict[str, str] = {"pause": "active", "resume": "paused"}


def stage(operation_id: str) -> str:
    """When in a task's life an operation (base operationId) can succeed: ``any`` or one of :data:`STAGES`."""
    if operation_id in _STAGE_OF_OPERATION:
        return _STAGE_OF_OPERATION[operation_id]
    return _STAGE_OF_ROLES.get(aiming._ROLES_FOR.get(operation_id, ()), "any")


@dataclass
class TaskStates:
    """Moves tasks this run created into the state an operation needs, through ``polling``."""

    client: httpx.Client
    timeout: float

    def bring(self, task: dict[str, Any], wanted: str) -> dict[str, Any]:
        """Return the task once it is ready for the operations of stage ``wanted``: ``active`` (and ``pause``),
        ``paused`` (and ``resume``), ``delete`` (build settled)."""
        wanted = STATE_FOR_STAGE.get(wanted, wanted)
        current = polling.wait_build_settled(self.client, task, self.timeout)
        if wanted == "active":
            if current.get("status") == "paused":
                return polling.resume_task(self.client, current, self.timeout)
            return polling.wait_for_status(self.client, current, {"active"}, self.timeout)
        if wanted == "paused" and current.get("status") != "paused":
            return polling.pause_task(self.client, current, self.timeout)
        return current
