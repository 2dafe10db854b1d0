"""Where a workspace stands at a given instant, computed from its builds (STATUS-1, STATE-1): job and workspace status,
agent lifecycle and health, app health, the task's ``status`` and ``current_state``. Pure functions of (records, now).

Simulated timeline of a build queued at ``t`` with stage length ``s``:

- job: ``pending`` until t+s, ``running`` until t+2s, then ``succeeded``.
- start builds: the agent appears when the job succeeds: ``created`` (t+2s), ``starting`` (t+3s), ``ready``
  (t+4s); its app is ``initializing`` until t+5s, then ``healthy``. So a task is ``active`` 5 stages after create.
- stop/delete builds: the previous agent is ``shutting_down`` while the job runs and ``off`` once it succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from coder_tasks_contract.server.domain.entities import AppStatus, Build, Workspace


def job_status(build: Build, now: datetime) -> str:
    if build.held or now < build.created_at + build.stage:
        return "pending"
    if now < build.created_at + 2 * build.stage:
        return "running"
    return "failed" if build.fails else "succeeded"


def job_started_at(build: Build, now: datetime) -> datetime | None:
    started = build.created_at + build.stage
    return started if now >= started else None


def job_completed_at(build: Build, now: datetime) -> datetime | None:
    completed = build.created_at + 2 * build.stage
    return completed if now >= completed else None


def app_healthy_at(build: Build) -> datetime:
    """When a start build's app turns healthy (and the task active)."""
    return build.created_at + 5 * build.stage


def workspace_status(build: Build, now: datetime) -> str:
    """codersdk.WorkspaceStatus from the latest build's job status and transition."""
    job = job_status(build, now)
    if job == "pending":
        return "pending"
    if job == "running":
        return {"start": "starting", "stop": "stopping", "delete": "deleting"}[build.transition]
    if job == "failed":
        return "failed"
    return {"start": "running", "stop": "stopped", "delete": "deleted"}[build.transition]


def is_build_active(build: Build, now: datetime) -> bool:
    """A build whose job is still pending or running blocks another build (409)."""
    return job_status(build, now) in ("pending", "running")


def is_deleted(workspace: Workspace, now: datetime) -> bool:
    """A workspace is deleted once a delete build's job succeeded."""
    build = workspace.latest_build
    return build.transition == "delete" and job_status(build, now) == "succeeded"


@dataclass(frozen=True)
class AgentView:
    """The agent and app of a workspace as the task sees them."""

    agent_id: str
    lifecycle: str
    healthy: bool
    health_reason: str
    app_id: str | None
    app_health: str


def _start_build_agent(build: Build, now: datetime) -> AgentView | None:
    if build.agent_id is None or job_status(build, now) != "succeeded":
        return None
    elapsed = now - build.created_at
    if elapsed < 3 * build.stage:
        lifecycle = "created"
    elif elapsed < 4 * build.stage:
        lifecycle = "starting"
    else:
        lifecycle = "ready"
    app_health = "healthy" if now >= app_healthy_at(build) else "initializing"
    if lifecycle == "created":
        return AgentView(build.agent_id, lifecycle, False, "agent is connecting", build.app_id, app_health)
    return AgentView(build.agent_id, lifecycle, True, "", build.app_id, app_health)


def agent_view(workspace: Workspace, now: datetime) -> AgentView | None:
    """The agent of the latest build; for a stop/delete build, the previous start build's agent shutting down."""
    latest = workspace.latest_build
    if latest.transition == "start":
        return _start_build_agent(latest, now)
    previous = next((b for b in reversed(workspace.builds[:-1]) if b.transition == "start"), None)
    if previous is None:
        return None
    before = _start_build_agent(previous, min(now, latest.created_at))
    if before is None:
        return None
    job = job_status(latest, now)
    if job == "pending":
        return before
    if job == "running":
        return AgentView(before.agent_id, "shutting_down", True, "", before.app_id, before.app_health)
    return AgentView(before.agent_id, "off", False, "agent is not running", before.app_id, "disabled")


def task_status(workspace: Workspace | None, now: datetime) -> str:
    """The ``tasks_with_status`` view (STATUS-1 to STATUS-5): build stage, then agent stage, then app stage."""
    if workspace is None or not workspace.builds:
        return "pending"
    build = workspace.latest_build
    job = job_status(build, now)
    if job == "failed":
        return "error"  # STATUS-2, STATUS-3: the build stage comes first
    if build.transition in ("stop", "delete"):
        return "paused" if job == "succeeded" else "unknown"
    if job == "pending":
        return "initializing"
    agent = agent_view(workspace, now)
    if agent is None or agent.lifecycle in ("created", "starting"):
        return "initializing"
    if agent.lifecycle not in ("ready", "start_timeout", "start_error"):
        return "unknown"
    return {"initializing": "initializing", "unhealthy": "error", "healthy": "active", "disabled": "active"}.get(
        agent.app_health, "unknown"
    )


@dataclass(frozen=True)
class StateEntry:
    """``TaskStateEntry``."""

    timestamp: datetime
    state: str
    message: str
    uri: str


def latest_app_status(workspace: Workspace, now: datetime) -> AppStatus | None:
    visible = [status for status in workspace.app_statuses if status.created_at <= now]
    return max(visible, key=lambda status: status.created_at) if visible else None


def current_state(workspace: Workspace | None, status: str, now: datetime) -> StateEntry | None:
    """STATE-1, STATE-2, STATE-4: the latest app status (rule 1), else a synthesised entry while initializing (rule 2),
    else None."""
    if workspace is None or not workspace.builds:
        return None
    build = workspace.latest_build
    app_status = latest_app_status(workspace, now)
    # Rule 1. The state is copied from the app status as is, so "failure" can appear (a bug at 82f).
    if app_status is not None and (build.transition != "start" or app_status.created_at > build.created_at):
        return StateEntry(app_status.created_at, app_status.state, app_status.message, app_status.uri)
    if status != "initializing":
        return None
    build_status = workspace_status(build, now)
    agent = agent_view(workspace, now)
    if build_status == "pending":
        message = "Workspace is pending"
    elif build_status == "starting":
        message = "Workspace is starting"
    elif agent is None:
        message = "Initializing workspace"
    elif agent.lifecycle == "created":
        message = "Agent is connecting"
    elif agent.lifecycle == "starting":
        message = "Agent is starting"
    elif agent.lifecycle == "ready":
        message = "App is initializing" if agent.app_health == "initializing" else "Initializing workspace applications"
    else:
        message = "Initializing workspace agent"
    return StateEntry(build.created_at, "working", message, "")
