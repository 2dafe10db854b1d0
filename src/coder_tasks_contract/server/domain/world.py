"""The fake Coder's domain, assembled: ``World`` is the one class the HTTP layer, the runner and the fault
catalogue use. It holds users and their API keys, the organization, templates, tasks with their workspaces, builds
and agents, and the rules of the USER, TASKREF, STATUS and STATE clauses for what each caller may see and do. No HTTP
here: operations raise the domain errors of ``errors`` and the HTTP layer translates. Every public method holds the
world's lock, and ``lock`` is re-entrant so the HTTP layer can hold it across an operation and the rendering of its
result.

The rules live in mixins by responsibility: ``world_base`` (state and shared lookups), ``world_access`` (seeding,
authentication, path resolution, listing), ``world_builds`` (builds, the agent's schedule, pause and resume),
``world_create`` (task creation) and ``world_interact`` (delete, input, send, logs).
"""

from __future__ import annotations

from coder_tasks_contract.server.domain.world_access import AccessMixin
from coder_tasks_contract.server.domain.world_base import (
    BUILD_ACTIVE,
    NIL_UUID,
    TASK_STATUSES,
    USER_PARAM_MESSAGE,
    new_id,
)
from coder_tasks_contract.server.domain.world_create import CreationMixin
from coder_tasks_contract.server.domain.world_interact import InteractionMixin

__all__ = ["BUILD_ACTIVE", "NIL_UUID", "TASK_STATUSES", "USER_PARAM_MESSAGE", "World", "new_id"]


class World(AccessMixin, CreationMixin, InteractionMixin):
    """Everything the fake Coder knows. Time comes from ``clock``; simulated work lasts as ``speed`` says; the
    answers that changed between Coder versions are those of contract ``level`` (``levels.py``).

    Each check or step that the fault catalogue (``faults/``) breaks is a small method of its own (``_check_name``,
    ``_name_in_use``, ``_check_paused``, ``_relay``, ...), so a broken variant overrides exactly one rule and
    keeps every other one."""
