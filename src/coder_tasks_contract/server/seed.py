"""The seeded world every reference server starts with, and the ``SeedInfo`` that tells a client about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from .entities import Task, User
from .model import World


@dataclass(frozen=True)
class SeedUser:
    """A seeded user and their session token (keep the token out of logs and reports)."""

    id: str
    username: str
    token: str = field(repr=False)


@dataclass(frozen=True)
class SeedInfo:
    """What a client needs to use a fresh reference server: URL, organization, users with tokens, template
    versions (``ai_task`` has a ``coder_ai_task`` resource, ``no_ai_task`` has none)."""

    url: str
    organization_id: str
    users: dict[str, SeedUser]
    template_versions: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def seed_world(world: World, url: str, *, preexisting_tasks: int = 0) -> SeedInfo:
    """One organization "coder"; members alice and bob; site owner "admin" (key ``owner``); two templates."""
    org = world.add_organization("coder", "Coder")
    users: dict[str, SeedUser] = {}
    for key, username, name, owner in (
        ("alice", "alice", "Alice Liddell", False),
        ("bob", "bob", "Bob Marley", False),
        ("owner", "admin", "Ada Admin", True),
    ):
        user, token = world.add_user(username, name, f"{username}@example.com", owner=owner)
        users[key] = SeedUser(user.id, user.username, token)
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
    if preexisting_tasks:
        seed_preexisting_tasks(world, world.users[users["alice"].id], ai_version.id, preexisting_tasks)
    return SeedInfo(
        url=url,
        organization_id=org.id,
        users=users,
        template_versions={"ai_task": ai_version.id, "no_ai_task": plain_version.id},
    )


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
