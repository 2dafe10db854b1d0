"""Creating a task in the fake Coder (CREATE-2): the checks in Coder's order (template version, ``coder_ai_task``,
name validity, name in use, database text), the generated name and display name, and the first start build."""

from __future__ import annotations

from datetime import datetime

from coder_tasks_contract.server.domain import lifecycle
from coder_tasks_contract.server.domain.agentapi import AgentAPI
from coder_tasks_contract.server.domain.entities import Task, TemplateVersion, User, Workspace
from coder_tasks_contract.server.domain.errors import BadRequest, Conflict
from coder_tasks_contract.server.domain.names import (
    MAX_DISPLAY_NAME_BYTES,
    generated_display_name,
    generated_task_name,
    name_error,
)
from coder_tasks_contract.server.domain.world_base import NIL_UUID, db_text, new_id
from coder_tasks_contract.server.domain.world_builds import BuildsMixin
from coder_tasks_contract.server.golang.gofmt import go_quote, go_trim_space


class CreationMixin(BuildsMixin):
    """Task creation and its rules, for ``World``."""

    def create_task(
        self,
        actor: User,
        owner: User,
        *,
        template_version_id: str | None,
        prompt: str,
        name: str,
        display_name: str | None = None,
        at: datetime | None = None,
    ) -> Task:
        """Create a task and queue its workspace's first start build. Checks in Coder's order (CREATE-2, NAME-4):
        template version, ``coder_ai_task``, the name, then the display name (None: a level without one)."""
        with self.lock:
            version = self.template_versions.get(template_version_id or NIL_UUID)
            if version is None:
                raise BadRequest("Template version not found or you do not have access to this resource")
            self._check_ai_task(version)
            if name:
                self._check_name(name)
            if display_name is not None:
                display_name = self.display_name_for(display_name)
            if not name:
                name = self._unused_name(owner)
            now = at or self.now()
            if self._name_in_use(owner, name, now):
                raise Conflict(
                    f"Workspace {go_quote(name)} already exists.",
                    validations=[("name", "This value is already in use and should be unique.")],
                )
            db_text(prompt, "Internal error creating task.")
            template = self.templates[version.template_id]
            workspace = Workspace(new_id(), name, owner.id, template.organization_id, template.id, now, now)
            task = Task(
                new_id(), name, owner.id, template.organization_id, version.id, workspace.id, prompt, now, AgentAPI()
            )
            workspace.task_id = task.id
            self.workspaces[workspace.id] = workspace
            self.tasks[task.id] = task
            self._queue_build(actor, workspace, "start", now)
            if display_name is not None:
                task.display_name = display_name or generated_display_name(prompt, name)
            return task

    def _check_ai_task(self, version: TemplateVersion) -> None:
        """CREATE-4: the template version must define a ``coder_ai_task`` resource."""
        if not version.has_ai_task:
            raise BadRequest('Template does not have a valid "coder_ai_task" resource.')

    def _check_name(self, name: str) -> None:
        """NAME-1, for a name the caller gave."""
        problem = name_error(name)
        if problem is not None:
            raise BadRequest("Unable to create a Task with the provided name.", problem)

    def _name_in_use(self, owner: User, name: str, now: datetime) -> bool:
        """CREATE-6: a live (not deleted) workspace of the owner already has the name."""
        return any(
            ws.owner_id == owner.id and self._same_name(ws.name, name) and not lifecycle.is_deleted(ws, now)
            for ws in self.workspaces.values()
        )

    def _same_name(self, a: str, b: str) -> bool:
        """Workspace names collide case-insensitively (CREATE-6)."""
        return a.lower() == b.lower()

    def _unused_name(self, owner: User) -> str:
        taken = {ws.name.lower() for ws in self.workspaces.values() if ws.owner_id == owner.id}
        while True:
            name = generated_task_name(self.level.generated_name_prefix)
            if name.lower() not in taken:
                return name

    def display_name_for(self, raw: str) -> str:
        """CreateTaskRequest.display_name (#20856): trimmed, at most 64 bytes (400 otherwise), NAME-4."""
        display_name = go_trim_space(raw)
        if len(display_name.encode("utf-8", "surrogatepass")) > MAX_DISPLAY_NAME_BYTES:
            raise BadRequest("Display name must be 64 characters or less.")
        return display_name
