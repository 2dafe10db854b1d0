"""The fake Coder's domain: users and their API keys, the organization, templates, tasks with their workspaces,
builds and agents, and the rules of §2-§4 for what each caller may see and do. No HTTP here: operations raise the
domain errors of ``errors`` and the HTTP layer translates. Every public method holds the world's lock, and
``lock`` is re-entrant so the HTTP layer can hold it across an operation and the rendering of its result.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import threading
import uuid
from datetime import datetime

from coder_tasks_contract import levels
from coder_tasks_contract.levels import Level

from . import lifecycle
from .agentapi import AgentAPI, Message
from .auth import AuthFailure, split_token
from .clock import Clock, SystemClock
from .entities import (
    SPEEDS,
    ApiKey,
    AppStatus,
    Build,
    Organization,
    Speed,
    Task,
    Template,
    TemplateVersion,
    User,
    Workspace,
)
from .errors import BadRequest, Conflict, InternalError, NotFound, refusal
from .gofmt import go_quote, go_trim_space, try_uuid
from .names import MAX_DISPLAY_NAME_BYTES, generated_display_name, generated_task_name, name_error
from .query import TaskFilter, parse_task_query

TASK_STATUSES = ("pending", "initializing", "active", "paused", "unknown", "error")
NIL_UUID = "00000000-0000-0000-0000-000000000000"
USER_PARAM_MESSAGE = '"user" must be an existing uuid or username.'
BUILD_ACTIVE = "A workspace build is already active."
_TOKEN_ALPHABET = string.ascii_letters + string.digits


def new_id() -> str:
    return str(uuid.uuid4())


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


def _db_text(value: str, message: str) -> None:
    """Postgres rejects NUL in text columns; Coder reports that database error with a fixed 500 message."""
    if "\x00" in value:
        raise InternalError(message, 'pq: invalid byte sequence for encoding "UTF8": 0x00')


class World:
    """Everything the fake Coder knows. Time comes from ``clock``; simulated work lasts as ``speed`` says; the
    answers that changed between Coder versions are those of contract ``level`` (``levels.py``).

    Each check or step that the fault catalogue (``faults/``) breaks is a small method of its own (``_check_name``,
    ``_name_in_use``, ``_check_paused``, ``_relay``, ...), so a broken variant overrides exactly one rule and
    keeps every other one."""

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
        self.rate_limit = rate_limit  # requests per minute per client and endpoint; None: unlimited (§1.1)
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

    def now(self) -> datetime:
        return self.clock.now()

    # ---- seeding -------------------------------------------------------------------------------------------

    def add_organization(self, name: str, display_name: str) -> Organization:
        with self.lock:
            org = Organization(new_id(), name, display_name, self.now())
            self.organizations[org.id] = org
            return org

    def add_user(self, username: str, name: str, email: str, *, owner: bool = False) -> tuple[User, str]:
        """A user in every organization, with a fresh session token of Coder's shape (returned, not stored)."""
        with self.lock:
            user = User(new_id(), username, email, name, self.now(), is_owner=owner)
            user.organization_ids = list(self.organizations)
            self.users[user.id] = user
            return user, self.issue_token(user)

    def issue_token(self, user: User) -> str:
        with self.lock:
            key_id = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(10))
            secret = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(22))
            self.api_keys[key_id] = ApiKey(key_id, _hash(secret), user.id)
            return f"{key_id}-{secret}"

    def add_template(
        self, org: Organization, name: str, display_name: str, icon: str, description: str, *, ai_task: bool
    ) -> TemplateVersion:
        with self.lock:
            now = self.now()
            version_id = new_id()
            template = Template(new_id(), org.id, name, display_name, icon, description, version_id, now)
            version = TemplateVersion(version_id, template.id, name + "-v1", ai_task, now)
            self.templates[template.id] = template
            self.template_versions[version.id] = version
            return version

    # ---- authentication and visibility (§7, §2) --------------------------------------------------------------

    def authenticate(self, token: str) -> User:
        """The user a session token belongs to, or ``AuthFailure`` with Coder's detail."""
        key_id, secret = split_token(token)
        with self.lock:
            key = self.api_keys.get(key_id)
            if key is None:
                raise AuthFailure("API key is invalid.")
            if not hmac.compare_digest(key.secret_hash, _hash(secret)):
                raise AuthFailure("API key secret is invalid.")
            return self.users[key.user_id]

    @staticmethod
    def can_read_user(actor: User, user: User) -> bool:
        return actor.is_owner or actor.id == user.id

    @staticmethod
    def can_access_task(actor: User, task: Task) -> bool:
        """Read, update, delete and ApplicationConnect: the owner of the task, or a site Owner."""
        return actor.is_owner or actor.id == task.owner_id

    def resolve_user(self, actor: User, raw: str) -> User:
        """The ``{user}`` path segment (§2.1): ``me``, a UUID or a username (case-insensitive)."""
        with self.lock:
            if raw == "me":
                return actor
            user_id = try_uuid(raw)
            if user_id is not None:
                user = self.users.get(user_id)
            else:
                user = next((u for u in self.users.values() if u.username.lower() == raw.lower()), None)
            if user is None:
                # 400 with the value quoted as Go's %q at 82f525baf3; 404 since #22069 (the level says which).
                answer = self.level.unknown_user
                raise refusal(answer, f"queried user={go_quote(raw)}" if answer.detail else "")
            if not self.can_read_user(actor, user):
                raise NotFound()
            return user

    def resolve_task(self, actor: User, owner: User, raw: str) -> Task:
        """The ``{task}`` path segment (§2.2): a task UUID the caller may read (whatever ``{user}`` says), else a
        task name of ``owner`` (case-insensitive); deleted tasks are never found."""
        with self.lock:
            task_id = try_uuid(raw)
            if task_id is not None:
                task = self.tasks.get(task_id)
                if task is not None and task.deleted_at is None and self.can_access_task(actor, task):
                    return task
            _db_text(raw, "Internal error fetching task.")
            for task in self.tasks.values():
                if task.owner_id == owner.id and task.deleted_at is None and task.name.lower() == raw.lower():
                    return task
            raise NotFound()

    def workspace_of(self, task: Task) -> Workspace | None:
        return self.workspaces.get(task.workspace_id) if task.workspace_id else None

    def task_status(self, task: Task, now: datetime | None = None) -> str:
        return lifecycle.task_status(self.workspace_of(task), now or self.now())

    # ---- list (§3.1, §6) -------------------------------------------------------------------------------------

    def parse_query(self, actor: User, q: str) -> TaskFilter:
        with self.lock:

            def user_id_by_name(name: str) -> str | None:
                for user in self.users.values():
                    if user.username.lower() == name and self.can_read_user(actor, user):
                        return user.id
                return None

            def org_id_by_name(name: str) -> str | None:
                for org in self.organizations.values():
                    if org.name.lower() == name and (actor.is_owner or org.id in actor.organization_ids):
                        return org.id
                return None

            return parse_task_query(
                q, actor_id=actor.id, user_id_by_name=user_id_by_name, org_id_by_name=org_id_by_name
            )

    def list_tasks(self, actor: User, task_filter: TaskFilter) -> list[Task]:
        """Live tasks the caller may read that match the filter, newest first. An unknown status is a database
        error in Coder (the enum cast fails), reported as 500 (inferred, §3.1)."""
        with self.lock:
            if task_filter.status is not None and task_filter.status not in TASK_STATUSES:
                raise InternalError(
                    "Internal error fetching tasks.",
                    f"pq: invalid input value for enum task_status: {go_quote(task_filter.status)}",
                )
            now = self.now()
            found = [
                task
                for task in self.tasks.values()
                if task.deleted_at is None
                and self.can_access_task(actor, task)
                and task_filter.owner_id in (None, task.owner_id)
                and task_filter.organization_id in (None, task.organization_id)
                and task_filter.status in (None, self.task_status(task, now))
            ]
            return sorted(found, key=lambda task: (task.created_at, task.id), reverse=True)

    # ---- create (§3.2) ---------------------------------------------------------------------------------------

    def create_task(
        self,
        actor: User,
        owner: User,
        *,
        template_version_id: str | None,
        prompt: str,
        name: str,
        at: datetime | None = None,
    ) -> Task:
        """Create a task and queue its workspace's first start build. Checks in Coder's order (§3.2)."""
        with self.lock:
            version = self.template_versions.get(template_version_id or NIL_UUID)
            if version is None:
                raise BadRequest("Template version not found or you do not have access to this resource")
            self._check_ai_task(version)
            if name:
                self._check_name(name)
            else:
                name = self._unused_name(owner)
            now = at or self.now()
            if self._name_in_use(owner, name, now):
                raise Conflict(
                    f"Workspace {go_quote(name)} already exists.",
                    validations=[("name", "This value is already in use and should be unique.")],
                )
            _db_text(prompt, "Internal error creating task.")
            template = self.templates[version.template_id]
            workspace = Workspace(new_id(), name, owner.id, template.organization_id, template.id, now, now)
            task = Task(
                new_id(), name, owner.id, template.organization_id, version.id, workspace.id, prompt, now, AgentAPI()
            )
            workspace.task_id = task.id
            self.workspaces[workspace.id] = workspace
            self.tasks[task.id] = task
            self._queue_build(actor, workspace, "start", now)
            return task

    def _check_ai_task(self, version: TemplateVersion) -> None:
        """§3.2 step 4: the template version must define a ``coder_ai_task`` resource."""
        if not version.has_ai_task:
            raise BadRequest('Template does not have a valid "coder_ai_task" resource.')

    def _check_name(self, name: str) -> None:
        """§3.2 NameValid, for a name the caller gave."""
        problem = name_error(name)
        if problem is not None:
            raise BadRequest("Unable to create a Task with the provided name.", problem)

    def _name_in_use(self, owner: User, name: str, now: datetime) -> bool:
        """§3.2 step 8: a live (not deleted) workspace of the owner already has the name."""
        return any(
            ws.owner_id == owner.id and self._same_name(ws.name, name) and not lifecycle.is_deleted(ws, now)
            for ws in self.workspaces.values()
        )

    def _same_name(self, a: str, b: str) -> bool:
        """Workspace names collide case-insensitively (§3.2 step 8)."""
        return a.lower() == b.lower()

    def _unused_name(self, owner: User) -> str:
        taken = {ws.name.lower() for ws in self.workspaces.values() if ws.owner_id == owner.id}
        while True:
            name = generated_task_name(self.level.generated_name_prefix)
            if name.lower() not in taken:
                return name

    def display_name_for(self, raw: str) -> str:
        """CreateTaskRequest.display_name (#20856): trimmed, at most 64 bytes (400 otherwise). Checked before the
        template version (inferred: the note gives no order)."""
        display_name = go_trim_space(raw)
        if len(display_name.encode("utf-8", "surrogatepass")) > MAX_DISPLAY_NAME_BYTES:
            raise BadRequest(levels.DISPLAY_NAME_TOO_LONG)
        return display_name

    def name_for_display(self, task: Task, display_name: str) -> None:
        """Give a new task its display name: the one asked for, else one generated along with the name."""
        with self.lock:
            task.display_name = display_name or generated_display_name(task.prompt, task.name)

    # ---- builds ----------------------------------------------------------------------------------------------

    def _queue_build(self, actor: User, workspace: Workspace, transition: str, now: datetime) -> Build:
        previous = workspace.builds[-1] if workspace.builds else None
        build = Build(
            id=new_id(),
            job_id=new_id(),
            workspace_id=workspace.id,
            number=(previous.number + 1 if previous else 1),
            transition=transition,
            template_version_id=(previous.template_version_id if previous else self._task_version(workspace)),
            initiator_id=actor.id,
            created_at=now,
            stage=self.speed.stage,
        )
        workspace.builds.append(build)
        workspace.updated_at = now
        task = self.tasks.get(workspace.task_id) if workspace.task_id else None
        if transition == "start":
            build.agent_id, build.app_id = new_id(), new_id()
            if task is not None:
                self._schedule_agent_start(task, workspace, build, first=previous is None)
        else:
            # The agent goes away: whatever it had not done yet never happens.
            workspace.app_statuses = [s for s in workspace.app_statuses if s.created_at <= now]
            if task is not None:
                task.agentapi.stop_at(now)
                # At shutdown the agent stores the conversation as the task's log snapshot (#21644); only levels
                # with log snapshots ever show it (#21771).
                task.snapshot, task.snapshot_at = task.agentapi.messages(now), now
                if transition == "delete" and task.deleted_at is None:
                    task.deleted_at = now  # deleting a task's workspace deletes the task (§3.4)
        return build

    def _task_version(self, workspace: Workspace) -> str:
        task = self.tasks.get(workspace.task_id) if workspace.task_id else None
        return task.template_version_id if task else self.templates[workspace.template_id].active_version_id

    def _schedule_agent_start(self, task: Task, workspace: Workspace, build: Build, *, first: bool) -> None:
        """When the app turns healthy, the agent works on the prompt (first start only) or reports it is idle."""
        ready = lifecycle.app_healthy_at(build)
        assert build.app_id is not None
        if first and task.prompt:
            done = task.agentapi.converse(task.prompt, ready, self.speed.work)
            self._report(workspace, build.app_id, "working", _summary(task.prompt), ready)
            self._report(workspace, build.app_id, "idle", "Waiting for input", done)
        else:
            self._report(workspace, build.app_id, "idle", "Waiting for input", ready)

    @staticmethod
    def _report(workspace: Workspace, app_id: str, state: str, message: str, at: datetime) -> None:
        workspace.app_statuses.append(AppStatus(new_id(), app_id, state, message, "", at))

    def workspace(self, actor: User, workspace_id: str) -> Workspace:
        """A workspace the caller may read, deleted or not."""
        with self.lock:
            workspace = self.workspaces.get(workspace_id)
            if workspace is None or not (actor.is_owner or actor.id == workspace.owner_id):
                raise NotFound()
            return workspace

    def is_workspace_deleted(self, workspace: Workspace) -> bool:
        with self.lock:
            return lifecycle.is_deleted(workspace, self.now())

    def create_build(self, actor: User, workspace: Workspace, transition: str) -> Build:
        """``POST /api/v2/workspaces/{id}/builds``: 409 while the latest build's job is pending or running."""
        with self.lock:
            now = self.now()
            if lifecycle.is_deleted(workspace, now):
                raise NotFound()
            if lifecycle.is_build_active(workspace.latest_build, now):
                raise Conflict(BUILD_ACTIVE, BUILD_ACTIVE)
            return self._queue_build(actor, workspace, transition, now)

    # ---- delete, input, send, logs (§3.4-§3.8) ---------------------------------------------------------------

    def delete_task(self, actor: User, task: Task) -> None:
        """Queue a delete build and soft-delete the task at once; 409 while a build job is pending or running."""
        with self.lock:
            now = self.now()
            workspace = self.workspace_of(task)
            if workspace is not None:
                if lifecycle.is_build_active(workspace.latest_build, now):
                    raise Conflict(BUILD_ACTIVE, BUILD_ACTIVE)
                self._queue_build(actor, workspace, "delete", now)
            task.deleted_at = now

    def update_input(self, actor: User, task: Task, prompt: str) -> None:
        """PATCH ``/input`` (§3.5): non-blank after trimming, and only while the task is paused."""
        with self.lock:
            self._prompt_required(prompt)
            self._check_paused(task)
            _db_text(prompt, "Failed to update task input.")
            task.prompt = prompt

    def _prompt_required(self, prompt: str) -> None:
        """§3.5 step 2: the new prompt is not blank after trimming whitespace."""
        if go_trim_space(prompt) == "":
            raise BadRequest("Task input is required.")

    def _check_paused(self, task: Task) -> None:
        """§3.5 step 4: the input of a task changes only while it is paused."""
        if self.task_status(task) != "paused":
            raise Conflict(
                "Unable to update task input, task must be paused.",
                "Please stop the task's workspace before updating the input.",
            )

    def _check_interactive(self, task: Task, operation: str = "send") -> Workspace:
        """The shared checks of send and logs (§3.8) that this fake can fail; a task that is not active is
        refused as the level says for ``operation`` ("send" or "logs")."""
        self._check_active(task, operation)
        return self._task_workspace(task)

    def _check_active(self, task: Task, operation: str) -> None:
        """§3.8 check 1: only an active task is interactive."""
        status = self.task_status(task)
        if status != "active":
            answer = self.level.send_refusal(status) if operation == "send" else self.level.logs_refusal(status)
            if answer is None:  # the caller should have answered the snapshot (log_snapshot)
                raise InternalError("Internal error fetching task logs.", f"no snapshot answer for {status}")
            unstated = f'Task status is {go_quote(status)}, it must be "active" to interact with the task.'
            raise refusal(answer, None if answer.detail_stated else unstated)

    def send(self, actor: User, task: Task, text: str) -> None:
        """POST ``/send`` (§3.6): relayed to the AgentAPI only when it is ``stable``."""
        with self.lock:
            self._send_input_required(text)
            workspace = self._check_interactive(task)
            now = self.now()
            status = task.agentapi.status(now)
            if status != "stable":
                raise refusal(self.level.send_app_not_ready, f"Status: {status}")
            self._relay(task, workspace, text, now)

    def _send_input_required(self, text: str) -> None:
        """§3.6 step 2: the input is not empty (compared exactly: whitespace-only input passes)."""
        if text == "":
            raise BadRequest("Task input is required.")

    def _relay(self, task: Task, workspace: Workspace, text: str, now: datetime) -> None:
        """§3.6: the input reaches the agent as a user message; the app works on it, then waits again."""
        done = task.agentapi.converse(text, now, self.speed.work)
        app_id = workspace.latest_build.app_id or ""
        self._report(workspace, app_id, "working", _summary(text), now)
        self._report(workspace, app_id, "idle", "Waiting for input", done)

    def logs(self, actor: User, task: Task) -> list[Message]:
        with self.lock:
            self._check_interactive(task, "logs")
            return task.agentapi.messages(self.now())

    def log_snapshot(self, task: Task) -> tuple[list[Message], datetime | None] | None:
        """At levels with log snapshots (#21771): a task in a status that answers its snapshot gets the stored
        messages and when they were stored (``[]`` and None if none was); None: answer as :meth:`logs` does."""
        with self.lock:
            if self.task_status(task) not in self.level.log_snapshots:
                return None
            return list(task.snapshot or []), task.snapshot_at

    # ---- pause and resume (newest: #21889, #21948) -----------------------------------------------------------

    def pause_task(self, actor: User, task: Task) -> tuple[Workspace, Build]:
        """Queue a stop build of the task's workspace; 409 while another build is pending or running (inferred)."""
        with self.lock:
            workspace = self._task_workspace(task)
            return workspace, self.create_build(actor, workspace, "stop")

    def resume_task(self, actor: User, task: Task) -> tuple[Workspace, Build]:
        """Queue a start build; 409 "Task workspace is already running." when its latest build is a start."""
        with self.lock:
            workspace = self._task_workspace(task)
            if workspace.latest_build.transition == "start" and not lifecycle.is_build_active(
                workspace.latest_build, self.now()
            ):
                raise Conflict(levels.ALREADY_RUNNING)
            return workspace, self.create_build(actor, workspace, "start")

    def _task_workspace(self, task: Task) -> Workspace:
        workspace = self.workspace_of(task)
        if workspace is None:
            raise BadRequest("Task does not have a workspace.")
        return workspace


def _summary(text: str) -> str:
    words = " ".join(text.split())
    return words if len(words) <= 80 else words[:77] + "..."
