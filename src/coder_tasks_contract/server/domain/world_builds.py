"""Workspace builds in the fake Coder: queuing start, stop and delete builds, what the agent then does and reports
on schedule, ``POST /api/v2/workspaces/{id}/builds``, and the task operations that are builds (pause and resume)."""

from __future__ import annotations

from datetime import datetime

from coder_tasks_contract.server.domain import lifecycle
from coder_tasks_contract.server.domain.agentapi import AGENTAPI_SPACES, GREETING
from coder_tasks_contract.server.domain.entities import AppStatus, Build, Task, User, Workspace
from coder_tasks_contract.server.domain.errors import Conflict, NotFound
from coder_tasks_contract.server.domain.world_base import BUILD_ACTIVE, WorldBase, new_id


def summary(text: str) -> str:
    """The app status message for work on ``text``: its words, cut to 80 characters."""
    words = " ".join(text.split())
    return words if len(words) <= 80 else words[:77] + "..."


class BuildsMixin(WorldBase):
    """Builds and the agent's scheduled reports, for ``World``."""

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
            fails=workspace.id in self.fail_next_build,
        )
        self.fail_next_build.discard(workspace.id)
        workspace.builds.append(build)
        workspace.updated_at = now
        task = self.tasks.get(workspace.task_id) if workspace.task_id else None
        if transition == "start":
            build.agent_id, build.app_id = new_id(), new_id()
            if task is not None and not build.fails:  # a failed build starts no agent
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
                    task.deleted_at = now  # deleting a task's workspace deletes the task (DELETE-5)
        return build

    def _task_version(self, workspace: Workspace) -> str:
        task = self.tasks.get(workspace.task_id) if workspace.task_id else None
        return task.template_version_id if task else self.templates[workspace.template_id].active_version_id

    def _schedule_agent_start(self, task: Task, workspace: Workspace, build: Build, *, first: bool) -> None:
        """When the app turns healthy, the agent works on the prompt (first start only) or reports it is idle.

        After a restart (any later start) it reports nothing until it works again (the next send): Coder then drops
        the stale status of the earlier build (STATE-5) and, once the task is active, sends ``current_state`` null
        (STATE-1), as with an agent module that reports only on work, or none at all."""
        ready = lifecycle.app_healthy_at(build)
        assert build.app_id is not None
        if first:
            task.agentapi.greet(ready, GREETING)
        if first and task.prompt.strip(AGENTAPI_SPACES):
            done = task.agentapi.converse(task.prompt, ready, self.speed.work)
            self._report(workspace, build.app_id, "working", summary(task.prompt), ready)
            self._report(workspace, build.app_id, "idle", "Waiting for input", done)
        elif first:  # no prompt, or one AgentAPI refuses (empty once trimmed): the agent just waits
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
                raise Conflict("Task workspace is already running.")
            return workspace, self.create_build(actor, workspace, "start")
