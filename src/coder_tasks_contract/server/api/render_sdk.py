"""The surrounding API's records to Coder's wire JSON: organizations, templates, template versions, their presets
and rich parameters. Field names and order follow ``codersdk`` (organizations.go, templates.go,
templateversions.go, presets.go); the fields no task client reads carry Coder's defaults for a plain template.
Pure functions; callers hold the world's lock."""

from __future__ import annotations

from typing import Any

from coder_tasks_contract.server.domain.entities import Organization, Preset, RichParameter, Template, TemplateVersion
from coder_tasks_contract.server.domain.world import World
from coder_tasks_contract.server.golang.gofmt import rfc3339

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def organization_json(world: World, org: Organization) -> dict[str, Any]:
    """``codersdk.Organization`` (``MinimalOrganization`` inlined first)."""
    default_id = next(iter(world.organizations), None)
    return {
        "id": org.id,
        "name": org.name,
        "display_name": org.display_name,
        "icon": "",
        "description": "",
        "created_at": rfc3339(org.created_at),
        "updated_at": rfc3339(org.created_at),
        "is_default": org.id == default_id,
    }


def _creator(world: World, user_id: str) -> tuple[str, str, str]:
    user = world.users.get(user_id)
    return (user.id, user.username, user.avatar_url) if user else ("00000000-0000-0000-0000-000000000000", "", "")


def template_json(world: World, template: Template) -> dict[str, Any]:
    """``codersdk.Template``: ``active_version_id`` is what a client creates a task with."""
    org = world.organizations[template.organization_id]
    creator_id, creator_name, _ = _creator(world, template.created_by_id)
    return {
        "id": template.id,
        "created_at": rfc3339(template.created_at),
        "updated_at": rfc3339(template.created_at),
        "organization_id": org.id,
        "organization_name": org.name,
        "organization_display_name": org.display_name,
        "organization_icon": "",
        "name": template.name,
        "display_name": template.display_name,
        "provisioner": "terraform",
        "active_version_id": template.active_version_id,
        "active_user_count": 0,
        "build_time_stats": {t: {"P50": None, "P95": None} for t in ("start", "stop", "delete")},
        "description": template.description,
        "deprecated": False,
        "deprecation_message": "",
        "icon": template.icon,
        "default_ttl_ms": 0,
        "activity_bump_ms": 3600000,
        "autostop_requirement": {"days_of_week": [], "weeks": 1},
        "autostart_requirement": {"days_of_week": list(WEEKDAYS)},
        "created_by_id": creator_id,
        "created_by_name": creator_name,
        "allow_user_autostart": True,
        "allow_user_autostop": True,
        "allow_user_cancel_workspace_jobs": False,
        "failure_ttl_ms": 0,
        "time_til_dormant_ms": 0,
        "time_til_dormant_autodelete_ms": 0,
        "require_active_version": False,
        "max_port_share_level": "owner",
        "cors_behavior": "simple",
        "use_classic_parameter_flow": False,
    }


def _version_job(world: World, version: TemplateVersion, org_id: str) -> dict[str, Any]:
    """The version's import job: long finished (a seeded version is ready to build)."""
    created = rfc3339(version.created_at)
    return {
        "id": version.id,
        "created_at": created,
        "started_at": created,
        "completed_at": created,
        "status": "succeeded",
        "worker_id": None,
        "file_id": version.id,
        "tags": {"owner": "", "scope": "organization"},
        "queue_position": 0,
        "queue_size": 0,
        "organization_id": org_id,
        "initiator_id": version.created_by_id or None,
        "input": {"template_version_id": version.id},
        "type": "template_version_import",
        "metadata": {"template_version_name": version.name, "template_id": version.template_id},
        "logs_overflowed": False,
    }


def template_version_json(world: World, version: TemplateVersion) -> dict[str, Any]:
    """``codersdk.TemplateVersion``."""
    template = world.templates[version.template_id]
    creator_id, creator_name, creator_avatar = _creator(world, version.created_by_id)
    return {
        "id": version.id,
        "template_id": template.id,
        "organization_id": template.organization_id,
        "created_at": rfc3339(version.created_at),
        "updated_at": rfc3339(version.created_at),
        "name": version.name,
        "message": "",
        "job": _version_job(world, version, template.organization_id),
        "readme": "",
        "created_by": {"id": creator_id, "username": creator_name, "avatar_url": creator_avatar},
        "archived": False,
        "matched_provisioners": {"count": 1, "available": 1},
        "has_external_agent": False,
    }


def preset_json(preset: Preset) -> dict[str, Any]:
    """``codersdk.Preset``: the Go struct has no json tags, so its keys are the Go field names (``ID``, ``Name``)."""
    return {
        "ID": preset.id,
        "Name": preset.name,
        "Parameters": [{"Name": name, "Value": value} for name, value in preset.parameters],
        "Default": preset.default,
        "DesiredPrebuildInstances": None,
        "Description": preset.description,
        "Icon": preset.icon,
    }


def parameter_json(parameter: RichParameter) -> dict[str, Any]:
    """``codersdk.TemplateVersionParameter`` (omitempty validation fields left out, as Go leaves them)."""
    return {
        "name": parameter.name,
        "display_name": parameter.display_name,
        "description": parameter.description,
        "description_plaintext": parameter.description,
        "type": parameter.type,
        "form_type": "dropdown" if parameter.options else "input",
        "mutable": parameter.mutable,
        "default_value": parameter.default_value,
        "icon": "",
        "options": [{"name": v, "description": "", "value": v, "icon": ""} for v in parameter.options],
        "required": False,  # every seeded parameter has a default
        "ephemeral": False,
    }
