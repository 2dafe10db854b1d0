"""URL paths the suite talks to, and the route template a concrete path belongs to.

Route templates follow the server's route table (ROUTE-6) so the guard, the rate limiter and the
traffic ledger all key on the same names. The task routes are mounted at ``/api/experimental/tasks`` at every
level and also at ``/api/v2/tasks`` from v2.29 on (ROUTE-1, ``levels.py``); a path under either mount gets the route
template of its own mount, and :attr:`Route.canonical` names the same route under ``/api/experimental/tasks``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

TASKS = "/api/experimental/tasks"
TASKS_V2 = "/api/v2/tasks"  # the GA mount since v2.29 (ROUTE-1); see levels.py for which level serves which mount
TASK_PREFIXES = (TASKS, TASKS_V2)
BUILDINFO = "/api/v2/buildinfo"
USERS_ME = "/api/v2/users/me"
WORKSPACES = "/api/v2/workspaces"

# Route templates (the keys of the traffic ledger and of the per-endpoint rate limit).
ROUTE_TASKS = TASKS
ROUTE_USER_TASKS = TASKS + "/{user}"
ROUTE_TASK = TASKS + "/{user}/{task}"
ROUTE_TASK_INPUT = ROUTE_TASK + "/input"
ROUTE_TASK_SEND = ROUTE_TASK + "/send"
ROUTE_TASK_LOGS = ROUTE_TASK + "/logs"
ROUTE_WORKSPACE = WORKSPACES + "/{workspace}"
ROUTE_WORKSPACE_BUILDS = ROUTE_WORKSPACE + "/builds"

ROUTE_TASK_PAUSE = ROUTE_TASK + "/pause"
ROUTE_TASK_RESUME = ROUTE_TASK + "/resume"

# /pause and /resume exist only at the newest level (PAUSE-5); elsewhere they answer "Route not found.".
TASK_SUFFIXES = ("/input", "/send", "/logs", "/pause", "/resume")


def task_path(user: str, task: str | None = None, suffix: str = "", *, prefix: str = TASKS) -> str:
    """Path of a task route, e.g. ``task_path("me", tid, "/logs")``; segments are percent-encoded. ``prefix``
    picks the mount (``TASKS_V2`` for ``/api/v2/tasks``)."""
    if suffix and not suffix.startswith("/"):
        raise ValueError(f"suffix must start with '/': {suffix!r}")
    if prefix not in TASK_PREFIXES:
        raise ValueError(f"prefix must be one of {', '.join(TASK_PREFIXES)}: {prefix!r}")
    path = f"{prefix}/{quote(user, safe='')}"
    if task is not None:
        path += f"/{quote(task, safe='')}"
    elif suffix:
        raise ValueError("a suffix needs a task")
    return path + suffix


def workspace_path(workspace_id: str, suffix: str = "") -> str:
    """Path of a workspace route, e.g. ``workspace_path(wid, "/builds")``."""
    return f"{WORKSPACES}/{quote(workspace_id, safe='')}{suffix}"


@dataclass(frozen=True)
class Route:
    """A concrete path matched to its route template, with the decoded path parameters."""

    template: str
    params: dict[str, str] = field(default_factory=dict)
    # Segments after a known route (e.g. /tasks/me/x/unknown): still addressed to that task.
    rest: str = ""
    # The task mount the path is under ("" for the other routes).
    prefix: str = ""

    @property
    def canonical(self) -> str:
        """The template under ``/api/experimental/tasks`` (the same route whichever mount the path used)."""
        return canonical_template(self.template)


def canonical_template(template: str) -> str:
    """A route template with the ``/api/v2/tasks`` mount replaced by ``/api/experimental/tasks`` (same handlers)."""
    if template == TASKS_V2 or template.startswith(TASKS_V2 + "/"):
        return TASKS + template[len(TASKS_V2) :]
    return template


_TASK_RE = re.compile(
    r"^(?P<prefix>/api/experimental/tasks|/api/v2/tasks)(?:/(?P<user>[^/]+)(?:/(?P<task>[^/]+)(?P<rest>/.*)?)?)?$"
)
_WORKSPACE_RE = re.compile(r"^/api/v2/workspaces/(?P<workspace>[^/]+)(?P<rest>/.*)?$")
_SLASHES = re.compile(r"/{2,}")


def normalize(path: str) -> str:
    """Collapse repeated slashes and drop a trailing one, as Coder's outer middleware does (ROUTE-12)."""
    path = _SLASHES.sub("/", path or "/")
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return path


def has_dot_segment(path: str) -> bool:
    """True when a raw or percent-decoded segment is ``.`` or ``..`` (a path that may resolve elsewhere)."""
    for segment in path.split("/"):
        decoded = unquote(segment)
        if decoded in {".", ".."} or "/" in decoded or "\\" in decoded:
            return True
    return False


def match(path: str) -> Route | None:
    """The route template of ``path`` (already normalized), or None for a path outside the known routes."""
    found = _TASK_RE.match(path)
    if found:
        prefix = found.group("prefix")
        user, task, rest = found.group("user"), found.group("task"), found.group("rest") or ""
        if user is None:
            return Route(prefix, prefix=prefix)
        if task is None:
            return Route(prefix + "/{user}", {"user": unquote(user)}, prefix=prefix)
        params = {"user": unquote(user), "task": unquote(task)}
        template = prefix + "/{user}/{task}"
        if rest in TASK_SUFFIXES:
            return Route(template + rest, params, prefix=prefix)
        return Route(template, params, rest=rest, prefix=prefix)
    found = _WORKSPACE_RE.match(path)
    if found:
        rest = found.group("rest") or ""
        params = {"workspace": unquote(found.group("workspace"))}
        if rest == "/builds":
            return Route(ROUTE_WORKSPACE_BUILDS, params)
        return Route(ROUTE_WORKSPACE, params, rest=rest)
    if path in (BUILDINFO, USERS_ME):
        return Route(path)
    return None


def route_template(path: str) -> str:
    """Template to record ``path`` under: the route template, or the normalized path if no route matches."""
    normalized = normalize(path)
    route = match(normalized)
    if route is None:
        return normalized
    return route.template + route.rest if route.rest else route.template
