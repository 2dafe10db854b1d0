"""What the suite is aimed at: the deployment (or embedded reference server), its users and template versions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coder_tasks_contract.target.secret import Secret

#: API flavour: where the task routes are mounted. 82f525baf3 serves them only under /api/experimental (ROUTE-1); the
#: flavour of a run is its level's (``levels.Level.flavour``).
FLAVOUR_EXPERIMENTAL = "experimental"


@dataclass(frozen=True)
class User:
    """A suite user: username and id (from GET /api/v2/users/me at preflight) and the session token."""

    username: str
    id: str
    token: Secret
    #: Site-wide role names from users/me (e.g. ``("owner",)``); an ordinary member has none.
    site_roles: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.token, Secret):
            raise TypeError("User.token must be a Secret")

    @property
    def label(self) -> str:
        """How a user is shown in headers and messages: the username, never the token."""
        return self.username or "<unknown user>"


@dataclass(frozen=True)
class Target:
    """The resolved target of a run; safe to print (tokens are Secrets)."""

    base_url: str
    embedded: bool
    user_a: User
    user_b: User | None
    template_version_id: str | None
    non_task_template_version_id: str | None
    server_version: str
    read_only: bool
    lifecycle_timeout: float
    request_timeout: float = 30.0
    flavour: str = FLAVOUR_EXPERIMENTAL
    #: Contract level the target is judged by (a ``levels.py`` name): --coder-version, else detected from the
    #: server version.
    coder_version: str = ""
    #: Why that level: "forced by --coder-version", or how the server version maps to it.
    level_reason: str = ""

    @property
    def users(self) -> tuple[User, ...]:
        return (self.user_a,) if self.user_b is None else (self.user_a, self.user_b)

    def to_wire(self) -> dict[str, Any]:
        """Plain dict for handing the target to xdist workers (tokens revealed: the channel is not output)."""
        return {
            "base_url": self.base_url,
            "embedded": self.embedded,
            "users": [
                {"username": u.username, "id": u.id, "token": u.token.reveal(), "site_roles": list(u.site_roles)}
                for u in self.users
            ],
            "template_version_id": self.template_version_id,
            "non_task_template_version_id": self.non_task_template_version_id,
            "server_version": self.server_version,
            "read_only": self.read_only,
            "lifecycle_timeout": self.lifecycle_timeout,
            "request_timeout": self.request_timeout,
            "flavour": self.flavour,
            "coder_version": self.coder_version,
            "level_reason": self.level_reason,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Target:
        users = [
            User(u["username"], u["id"], Secret(u["token"]), tuple(u.get("site_roles", ()))) for u in data["users"]
        ]
        return cls(
            base_url=data["base_url"],
            embedded=bool(data["embedded"]),
            user_a=users[0],
            user_b=users[1] if len(users) > 1 else None,
            template_version_id=data["template_version_id"],
            non_task_template_version_id=data["non_task_template_version_id"],
            server_version=data["server_version"],
            read_only=bool(data["read_only"]),
            lifecycle_timeout=float(data["lifecycle_timeout"]),
            request_timeout=float(data["request_timeout"]),
            flavour=data["flavour"],
            coder_version=data["coder_version"],
            level_reason=data.get("level_reason", ""),
        )
