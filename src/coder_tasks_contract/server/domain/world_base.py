"""The state every part of the fake Coder's domain shares: the stores of users, keys, organizations, templates,
workspaces and tasks, the clock, speed and contract level, and the few lookups every rule needs (which workspace a
task has, what status it is in, who may access it). ``World`` (``world.py``) is assembled from mixins built on this.
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime

from coder_tasks_contract.server.domain import lifecycle
from coder_tasks_contract.server.domain.clock import Clock, SystemClock
from coder_tasks_contract.server.domain.entities import (
    SPEEDS,
    ApiKey,
    Organization,
    Speed,
    Task,
    Template,
    TemplateVersion,
    User,
    Workspace,
)
from coder_tasks_contract.server.domain.errors import BadRequest, InternalError
from coder_tasks_contract.spec import levels
from coder_tasks_contract.spec.levels import Level

TASK_STATUSES = ("pending", "initializing", "active", "paused", "unknown", "error")
NIL_UUID = "00000000-0000-0000-0000-000000000000"
USER_PARAM_MESSAGE = '"user" must be an existing uuid or username.'
BUILD_ACTIVE = "A workspace build is already active."


def new_id() -> str:
    return str(uuid.uuid4())


def db_text(value: str, message: str) -> None:
    """Postgres rejects NUL in text columns; Coder reports that database error with a fixed 500 message."""
    if "\x00" in value:
        raise InternalError(message, 'pq: invalid byte sequence for encoding "UTF8": 0x00')


class WorldBase:
    """The world's state and shared lookups. Every public method of the mixins holds ``lock``, which is
    re-entrant so the HTTP layer can hold it across an operation and the rendering of its result."""

    def __init__(
        self,
        clock: Clock | None = None,
        speed: str | Speed = "fast",
        *,
        rate_limit: int | None = None,
        level: str | Level = levels.DEFAULT,
    ):
        self.level: Level = levels.get(level) if isinstance(level, str) else level
        self.clock: Clock = clock or SystemClock()
        self.speed = SPEEDS[speed] if isinstance(speed, str) else speed
        self.rate_limit = rate_limit  # requests per minute per client and endpoint; None: unlimited (RATE-1)
        self.access_url = "http://127.0.0.1"  # set by the runner once the socket is bound
        self.deployment_id = new_id()
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.api_keys: dict[str, ApiKey] = {}
        self.organizations: dict[str, Organization] = {}
        self.templates: dict[str, Template] = {}
        self.template_versions: dict[str, TemplateVersion] = {}
        self.workspaces: dict[str, Workspace] = {}
        self.tasks: dict[str, Task] = {}
        # Set through the control surface (control.py): workspaces whose next build fails, tasks whose app is busy.
        self.fail_next_build: set[str] = set()
        self.app_not_ready: set[str] = set()

    def now(self) -> datetime:
        return self.clock.now()

    @staticmethod
    def can_read_user(actor: User, user: User) -> bool:
        return actor.is_owner or actor.id == user.id

    @staticmethod
    def can_access_task(actor: User, task: Task) -> bool:
        """Read, update, delete and ApplicationConnect: the owner of the task, or a site Owner."""
        return actor.is_owner or actor.id == task.owner_id

    def workspace_of(self, task: Task) -> Workspace | None:
        return self.workspaces.get(task.workspace_id) if task.workspace_id else None

    def task_status(self, task: Task, now: datetime | None = None) -> str:
        return lifecycle.task_status(self.workspace_of(task), now or self.now())

    def _task_workspace(self, task: Task) -> Workspace:
        workspace = self.workspace_of(task)
        if workspace is None:
            raise BadRequest("Task does not have a workspace.")
        return workspace
