"""The seeded world every reference server starts with, and the ``SeedInfo`` that tells a client about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from typing import Any

from coder_tasks_contract.server.domain.entities import Preset, RichParameter, Task, TemplateVersion, User
from coder_tasks_contract.server.domain.world import World, new_id


@dataclass(frozen=True)
class SeedUser:
    """A seeded user and their session token (keep the token out of logs and reports)."""

    id: str
    username: str
    token: str = field(repr=False)
    email: str = ""
    github_com_user_id: int | None = None  # what ``GET /api/v2/users?q=github_com_user_id:N`` finds


@dataclass(frozen=True)
class SeedTemplate:
    """A seeded template as a client discovers it: by organization and name, then its active version's presets."""

    id: str
    name: str
    active_version_id: str
    presets: dict[str, str]  # preset name -> id
    default_preset_id: str | None


@dataclass(frozen=True)
class SeedInfo:
    """What a client needs to use a fresh reference server: URL, organization, users with tokens, template
    versions (``ai_task`` has a ``coder_ai_task`` resource, ``no_ai_task`` has none)."""

    url: str
    organization_id: str
    users: dict[str, SeedUser]
    template_versions: dict[str, str]
    organization_name: str = ""
    templates: dict[str, SeedTemplate] = field(default_factory=dict)  # by template name

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def seed_world(world: World, url: str, *, preexisting_tasks: int = 0) -> SeedInfo:
    """One organization "coder"; members alice (GitHub id 12345) and bob (67890); site owner "admin" (key ``owner``);
    two templates: "ai-coder" (a ``coder_ai_task``, two presets, "Sonnet" the default) and "docker"."""
    org = world.add_organization("coder", "Coder")
    users: dict[str, SeedUser] = {}
    for key, username, name, owner, github_id in (
        ("alice", "alice", "Alice Liddell", False, 12345),
        ("bob", "bob", "Bob Marley", False, 67890),
        ("owner", "admin", "Ada Admin", True, None),
    ):
        user, token = world.add_user(username, name, f"{username}@example.com", owner=owner)
        user.github_com_user_id = github_id
        users[key] = SeedUser(user.id, user.username, token, user.email, github_id)
    ai_version = world.add_template(
        org,
        "ai-coder",
        "AI Coder",
        "/icon/claude.svg",
        "Claude Code in a Docker workspace, ready for Coder Tasks.",
        ai_task=True,
    )
    plain_version = world.add_template(
        org, "docker", "Docker Containers", "/icon/docker.png", "Develop in a Docker container.", ai_task=False
    )
    admin_id = users["owner"].id
    ai_version = _describe(world, ai_version, admin_id, AI_PARAMETERS, ai_presets())
    plain_version = _describe(world, plain_version, admin_id, (), ())
    if preexisting_tasks:
        seed_preexisting_tasks(world, world.users[users["alice"].id], ai_version.id, preexisting_tasks)
    return SeedInfo(
        url=url,
        organization_id=org.id,
        users=users,
        template_versions={"ai_task": ai_version.id, "no_ai_task": plain_version.id},
        organization_name=org.name,
        templates={
            world.templates[v.template_id].name: SeedTemplate(
                id=v.template_id,
                name=world.templates[v.template_id].name,
                active_version_id=v.id,
                presets={p.name: p.id for p in v.presets},
                default_preset_id=next((p.id for p in v.presets if p.default), None),
            )
            for v in (ai_version, plain_version)
        },
    )


# The AI template's parameters and presets: what a client reads from /rich-parameters and /presets.
AI_PARAMETERS = (
    RichParameter("model", "Model", "The model Claude Code runs.", "string", "sonnet", True, ("sonnet", "opus")),
    RichParameter("system_prompt", "System prompt", "Extra instructions for the agent.", "string", ""),
)


def ai_presets() -> tuple[Preset, ...]:
    return (
        Preset(new_id(), "Sonnet", (("model", "sonnet"),), default=True, description="Fast and capable."),
        Preset(new_id(), "Opus", (("model", "opus"), ("system_prompt", "Think hard.")), description="Deep work."),
    )


def _describe(
    world: World,
    version: TemplateVersion,
    creator_id: str,
    parameters: tuple[RichParameter, ...],
    presets: tuple[Preset, ...],
) -> TemplateVersion:
    """Give a seeded version (and its template) a creator, parameters and presets."""
    with world.lock:
        described = replace(version, created_by_id=creator_id, parameters=parameters, presets=presets)
        world.template_versions[version.id] = described
        template = world.templates[version.template_id]
        world.templates[template.id] = replace(template, created_by_id=creator_id)
        return described


def seed_preexisting_tasks(world: World, owner: User, version_id: str, count: int) -> list[Task]:
    """``count`` tasks of ``owner`` created an hour ago (so already active) that no test run created: the
    suite's safety checks must leave them alone."""
    start = world.now() - timedelta(hours=1)
    return [
        world.create_task(
            owner,
            owner,
            template_version_id=version_id,
            prompt=f"Pre-existing task {n + 1}",
            name="",
            at=start + timedelta(seconds=n),
        )
        for n in range(count)
    ]
