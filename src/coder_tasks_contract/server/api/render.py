"""Domain records to Coder's wire JSON (SCHEMA-1 to SCHEMA-9): field names and order of the Go structs, omitempty rules,
nullable UUIDs as a string or null, RFC 3339 times. Pure functions; callers hold the world's lock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from coder_tasks_contract.server.domain import lifecycle
from coder_tasks_contract.server.domain.agentapi import Message
from coder_tasks_contract.server.domain.entities import Build, Task, User, Workspace
from coder_tasks_contract.server.domain.world import World
from coder_tasks_contract.server.golang.gofmt import rfc3339


def task_json(world: World, task: Task, now: datetime) -> dict[str, Any]:
    """``codersdk.Task`` at ``now``."""
    owner = world.users[task.owner_id]
    workspace = world.workspace_of(task)
    template = world.templates[workspace.template_id] if workspace else None
    status = lifecycle.task_status(workspace, now)
    agent = lifecycle.agent_view(workspace, now) if workspace else None
    state = lifecycle.current_state(workspace, status, now)
    body: dict[str, Any] = {
        "id": task.id,
        "organization_id": task.organization_id,
        "owner_id": owner.id,
        "owner_name": owner.username,
    }
    if owner.avatar_url:
        body["owner_avatar_url"] = owner.avatar_url
    body["name"] = task.name
    if world.level.display_name:
        body["display_name"] = task.display_name  # after name, as in the Go struct (#20856)
    body.update(
        {
            "template_id": template.id if template else "00000000-0000-0000-0000-000000000000",
            "template_version_id": task.template_version_id,
            "template_name": template.name if template else "",
            "template_display_name": template.display_name if template else "",
            "template_icon": template.icon if template else "",
            "workspace_id": workspace.id if workspace else None,
            "workspace_name": workspace.name if workspace else "",
        }
    )
    if workspace is not None:
        body["workspace_status"] = lifecycle.workspace_status(workspace.latest_build, now)
        body["workspace_build_number"] = workspace.latest_build.number
    body.update(
        {
            "workspace_agent_id": agent.agent_id if agent else None,
            "workspace_agent_lifecycle": agent.lifecycle if agent else None,
            "workspace_agent_health": _agent_health(agent),
            "workspace_app_id": agent.app_id if agent else None,
            "initial_prompt": task.prompt,
            "status": status,
            "current_state": (
                {
                    "timestamp": rfc3339(state.timestamp),
                    "state": _state(world, state.state),
                    "message": state.message,
                    "uri": state.uri,
                }
                if state
                else None
            ),
            "created_at": rfc3339(task.created_at),
            "updated_at": rfc3339(workspace.updated_at if workspace else task.created_at),
        }
    )
    return body


def _state(world: World, state: str) -> str:
    """STATE-3: the app status enum is copied through (``failure``) until #22203 mapped it to ``failed``."""
    if state == "failure" and "failure" not in world.level.task_states:
        return "failed"
    return state


def _agent_health(agent: lifecycle.AgentView | None) -> dict[str, Any] | None:
    if agent is None:
        return None
    health: dict[str, Any] = {"healthy": agent.healthy}
    if agent.health_reason:
        health["reason"] = agent.health_reason
    return health


def log_entry_json(message: Message) -> dict[str, Any]:
    """``codersdk.TaskLogEntry``: AgentAPI role ``user`` is input, ``agent`` is output."""
    return {
        "id": message.id,
        "content": message.content,
        "type": "input" if message.role == "user" else "output",
        "time": rfc3339(message.time),
    }


def snapshot_json(messages: list[Message], taken_at: datetime | None) -> dict[str, Any]:
    """``TaskLogsResponse`` with the stored snapshot (#21771): ``snapshot: true``; ``snapshot_at`` omitted when no
    snapshot was ever stored (omitempty pointer)."""
    body: dict[str, Any] = {"logs": [log_entry_json(m) for m in messages], "snapshot": True}
    if taken_at is not None:
        body["snapshot_at"] = rfc3339(taken_at)
    return body


def user_json(world: World, user: User) -> dict[str, Any]:
    """``codersdk.User``."""
    roles = [{"name": "owner", "display_name": "Owner"}] if user.is_owner else []
    return {
        "id": user.id,
        "username": user.username,
        "avatar_url": user.avatar_url,
        "name": user.name,
        "email": user.email,
        "created_at": rfc3339(user.created_at),
        "updated_at": rfc3339(user.created_at),
        "last_seen_at": rfc3339(world.now()),
        "status": "active",
        "login_type": "password",
        "theme_preference": "",
        "organization_ids": list(user.organization_ids),
        "roles": roles,
    }


def build_json(world: World, workspace: Workspace, build: Build, now: datetime) -> dict[str, Any]:
    """``codersdk.WorkspaceBuild`` (the fields a client needs; resources are left empty)."""
    owner = world.users[workspace.owner_id]
    initiator = world.users[build.initiator_id]
    version = world.template_versions[build.template_version_id]
    job: dict[str, Any] = {
        "id": build.job_id,
        "created_at": rfc3339(build.created_at),
    }
    started = lifecycle.job_started_at(build, now)
    completed = lifecycle.job_completed_at(build, now)
    if started:
        job["started_at"] = rfc3339(started)
    if completed:
        job["completed_at"] = rfc3339(completed)
    job.update(
        {
            "status": lifecycle.job_status(build, now),
            "worker_id": None,
            "file_id": version.id,
            "tags": {"owner": "", "scope": "organization"},
            "queue_position": 0,
            "queue_size": 0,
            "organization_id": workspace.organization_id,
            "initiator_id": build.initiator_id,
            "input": {"workspace_build_id": build.id},
            "type": "workspace_build",
            "metadata": {
                "template_version_name": version.name,
                "template_id": workspace.template_id,
                "template_name": world.templates[workspace.template_id].name,
                "template_display_name": world.templates[workspace.template_id].display_name,
                "template_icon": world.templates[workspace.template_id].icon,
                "workspace_id": workspace.id,
                "workspace_name": workspace.name,
            },
            "logs_overflowed": False,
        }
    )
    return {
        "id": build.id,
        "created_at": rfc3339(build.created_at),
        "updated_at": rfc3339(completed or started or build.created_at),
        "workspace_id": workspace.id,
        "workspace_name": workspace.name,
        "workspace_owner_id": owner.id,
        "workspace_owner_name": owner.username,
        "workspace_owner_avatar_url": owner.avatar_url,
        "template_version_id": version.id,
        "template_version_name": version.name,
        "build_number": build.number,
        "transition": build.transition,
        "initiator_id": initiator.id,
        "initiator_name": initiator.username,
        "job": job,
        "reason": build.reason,
        "resources": [],
        "status": lifecycle.workspace_status(build, now),
        "daily_cost": 0,
        "matched_provisioners": {"count": 1, "available": 1},
        "template_version_preset_id": None,
        "has_ai_task": True,
    }


def workspace_json(world: World, workspace: Workspace, now: datetime) -> dict[str, Any]:
    """``codersdk.Workspace`` (the commonly used fields)."""
    owner = world.users[workspace.owner_id]
    template = world.templates[workspace.template_id]
    org = world.organizations[workspace.organization_id]
    return {
        "id": workspace.id,
        "created_at": rfc3339(workspace.created_at),
        "updated_at": rfc3339(workspace.updated_at),
        "owner_id": owner.id,
        "owner_name": owner.username,
        "owner_avatar_url": owner.avatar_url,
        "organization_id": org.id,
        "organization_name": org.name,
        "template_id": template.id,
        "template_name": template.name,
        "template_display_name": template.display_name,
        "template_icon": template.icon,
        "template_allow_user_cancel_workspace_jobs": False,
        "template_active_version_id": template.active_version_id,
        "template_require_active_version": False,
        "latest_build": build_json(world, workspace, workspace.latest_build, now),
        "latest_app_status": None,
        "outdated": False,
        "name": workspace.name,
        "last_used_at": rfc3339(workspace.updated_at),
        "automatic_updates": "never",
        "allow_renames": False,
        "favorite": False,
        "next_start_at": None,
        "is_prebuild": False,
        "task_id": workspace.task_id,
        "health": {"healthy": True, "failing_agents": []},
    }


def buildinfo_json(world: World) -> dict[str, Any]:
    """``codersdk.BuildInfoResponse``."""
    return {
        "external_url": f"https://github.com/coder/coder/commit/{world.level.commit}",
        "version": world.level.build_version,
        "dashboard_url": world.access_url,
        "telemetry": False,
        "workspace_proxy": False,
        "agent_api_version": "2.6",
        "provisioner_api_version": "1.10",
        "upgrade_message": "",
        "deployment_id": world.deployment_id,
        "webpush_public_key": "",
    }
