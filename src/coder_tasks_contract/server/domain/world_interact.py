"""What callers do to an existing task in the fake Coder, other than builds: delete it (DELETE-1), change its input
while paused (INPUT-4), send it input (SEND-1) and read its logs or log snapshot (LOGS-1, LOGS-3)."""

from __future__ import annotations

from datetime import datetime

from coder_tasks_contract.server.domain import lifecycle
from coder_tasks_contract.server.domain.agentapi import Message, MessageRejected
from coder_tasks_contract.server.domain.entities import Task, User, Workspace
from coder_tasks_contract.server.domain.errors import BadRequest, Conflict, InternalError, UpstreamFailure, refusal
from coder_tasks_contract.server.domain.world_base import BUILD_ACTIVE, db_text
from coder_tasks_contract.server.domain.world_builds import BuildsMixin, summary
from coder_tasks_contract.server.golang.gofmt import go_quote, go_trim_space


class InteractionMixin(BuildsMixin):
    """Delete, input, send and logs, for ``World``."""

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
        """PATCH ``/input`` (INPUT-1, INPUT-3, INPUT-4): non-blank after trimming, and only while the task is paused."""
        with self.lock:
            self._prompt_required(prompt)
            self._check_paused(task)
            db_text(prompt, "Failed to update task input.")
            task.prompt = prompt

    def _prompt_required(self, prompt: str) -> None:
        """INPUT-3: the new prompt is not blank after trimming whitespace."""
        if go_trim_space(prompt) == "":
            raise BadRequest("Task input is required.")

    def _check_paused(self, task: Task) -> None:
        """INPUT-4: the input of a task changes only while it is paused."""
        if self.task_status(task) != "paused":
            raise Conflict(
                "Unable to update task input, task must be paused.",
                "Please stop the task's workspace before updating the input.",
            )

    def _check_interactive(self, task: Task, operation: str = "send") -> Workspace:
        """The shared checks of send and logs (AGENT-1) that this fake can fail; a task that is not active is
        refused as the level says for ``operation`` ("send" or "logs")."""
        self._check_active(task, operation)
        return self._task_workspace(task)

    def _check_active(self, task: Task, operation: str) -> None:
        """AGENT-1: only an active task is interactive."""
        status = self.task_status(task)
        if status != "active":
            answer = self.level.send_refusal(status) if operation == "send" else self.level.logs_refusal(status)
            if answer is None:  # the caller should have answered the snapshot (log_snapshot)
                raise InternalError("Internal error fetching task logs.", f"no snapshot answer for {status}")
            unstated = f'Task status is {go_quote(status)}, it must be "active" to interact with the task.'
            raise refusal(answer, None if answer.detail_stated else unstated)

    def send(self, actor: User, task: Task, text: str) -> None:
        """POST ``/send`` (SEND-1, SEND-4): relayed to the AgentAPI only when it is ``stable``."""
        with self.lock:
            self._send_input_required(text)
            workspace = self._check_interactive(task)
            now = self.now()
            status = "running" if task.id in self.app_not_ready else task.agentapi.status(now)
            if status != "stable":
                raise refusal(self.level.send_app_not_ready, f"Status: {status}")
            self._relay(task, workspace, text, now)

    def _send_input_required(self, text: str) -> None:
        """SEND-3: the input is not empty (compared exactly: whitespace-only input passes)."""
        if text == "":
            raise BadRequest("Task input is required.")

    def _relay(self, task: Task, workspace: Workspace, text: str, now: datetime) -> None:
        """SEND-1: the input reaches the agent as a user message; the app works on it, then waits again. An input
        the app refuses (SEND-5) answers 502 and changes nothing."""
        try:
            done = task.agentapi.converse(text, now, self.speed.work)
        except MessageRejected as exc:
            # Coder's wording; the detail is the AgentAPI client's error text, which differs between versions.
            raise UpstreamFailure("Task app rejected the message.", f"send message: {exc}") from exc
        app_id = workspace.latest_build.app_id or ""
        self._report(workspace, app_id, "working", summary(text), now)
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
