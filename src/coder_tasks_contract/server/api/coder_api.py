"""The API around the task routes that a task client calls before and after them: find the user (by GitHub id,
username or email), the organization, the template by name and its active version's presets and parameters, the
task's workspace and builds. All GETs, all behind the API key (``middleware.authenticated_groups``).

Errors as Coder's path extractors answer them: a path segment that must be a UUID and is not is 400
``Invalid UUID "x".`` (``httpmw.ParseUUIDParam``); an unknown or invisible organization, template, template version,
workspace or build is the 404 not-found body (``httpapi.ResourceNotFound``); an unknown ``{user}`` is the level's
answer (``World.resolve_user``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from coder_tasks_contract.server.api import render, render_sdk
from coder_tasks_contract.server.api.middleware import json_response
from coder_tasks_contract.server.api.params import actor_of, uuid_param, world_of
from coder_tasks_contract.server.api.router import Handler
from coder_tasks_contract.server.domain.entities import Organization, Template, TemplateVersion, User
from coder_tasks_contract.server.domain.errors import BadRequest, NotFound
from coder_tasks_contract.server.domain.lifecycle import is_deleted
from coder_tasks_contract.server.domain.query import QueryError
from coder_tasks_contract.server.domain.user_query import UserFilter, parse_user_query
from coder_tasks_contract.server.domain.world import World
from coder_tasks_contract.server.golang.gofmt import go_parse_query, query_values, try_uuid


def _member(actor: User, org: Organization) -> bool:
    return actor.is_owner or org.id in actor.organization_ids


# ---- users -----------------------------------------------------------------------------------------------------


def matches(world: World, user: User, found: UserFilter) -> bool:
    """Whether ``user`` passes the filter (``GetUsers``: search is ILIKE on username or email)."""
    if found.search and found.search not in user.username.lower() and found.search not in user.email.lower():
        return False
    if found.status and "active" not in found.status:
        return False
    if found.role and not (set(found.role) & ({"owner"} if user.is_owner else set())):
        return False
    if found.login_type and "password" not in found.login_type:
        return False
    if found.github_com_user_id and user.github_com_user_id != found.github_com_user_id:
        return False
    seen = world.now()
    for key, bound in found.times:
        when = user.created_at if key.startswith("created") else seen
        if (key.endswith("_after") and when < bound) or (key.endswith("_before") and when > bound):
            return False
    return True


async def list_users(request: Request) -> Response:
    """``GET /api/v2/users?q=...``: ``{"users": [...], "count": N}``, by username; only users the caller may read."""
    world, actor = world_of(request), actor_of(request)
    q = query_values(go_parse_query(request.scope.get("query_string", b"")), "q")
    try:
        found = parse_user_query(q[0] if q else "")
    except QueryError as exc:
        raise BadRequest("Invalid user search query.", validations=exc.validations) from None
    with world.lock:
        users = sorted(
            (u for u in world.users.values() if world.can_read_user(actor, u) and matches(world, u, found)),
            key=lambda u: u.username.lower(),
        )
        return json_response(200, {"users": [render.user_json(world, u) for u in users], "count": len(users)})


# ---- organizations ---------------------------------------------------------------------------------------------


def organization(world: World, actor: User, raw: str) -> Organization:
    """``httpmw.ExtractOrganizationParam``: an id, a name, or ``default``; 404 when unknown or not a member's."""
    with world.lock:
        org_id = try_uuid(raw)
        if raw == "default":
            org = next(iter(world.organizations.values()), None)
        elif org_id is not None:
            org = world.organizations.get(org_id)
        else:
            org = next((o for o in world.organizations.values() if o.name.lower() == raw.lower()), None)
        if org is None or not _member(actor, org):
            raise NotFound()
        return org


async def list_organizations(request: Request) -> Response:
    world, actor = world_of(request), actor_of(request)
    with world.lock:
        orgs = [o for o in world.organizations.values() if _member(actor, o)]
        return json_response(200, [render_sdk.organization_json(world, o) for o in orgs])


async def get_organization(request: Request) -> Response:
    world = world_of(request)
    with world.lock:
        org = organization(world, actor_of(request), request.path_params["organization"])
        return json_response(200, render_sdk.organization_json(world, org))


# ---- templates and versions ------------------------------------------------------------------------------------


def _templates(world: World, actor: User, org: Organization | None = None) -> list[Template]:
    readable = [
        t
        for t in world.templates.values()
        if _member(actor, world.organizations[t.organization_id]) and (org is None or t.organization_id == org.id)
    ]
    return sorted(readable, key=lambda t: t.name.lower())


async def list_templates(request: Request) -> Response:
    """``GET /api/v2/templates`` (every organization the caller is in)."""
    world = world_of(request)
    with world.lock:
        return json_response(200, [render_sdk.template_json(world, t) for t in _templates(world, actor_of(request))])


async def list_organization_templates(request: Request) -> Response:
    world, actor = world_of(request), actor_of(request)
    with world.lock:
        org = organization(world, actor, request.path_params["organization"])
        return json_response(200, [render_sdk.template_json(world, t) for t in _templates(world, actor, org)])


async def get_organization_template(request: Request) -> Response:
    """``GET /api/v2/organizations/{organization}/templates/{templatename}`` (name compared case-insensitively)."""
    world, actor = world_of(request), actor_of(request)
    with world.lock:
        org = organization(world, actor, request.path_params["organization"])
        name = request.path_params["templatename"].lower()
        template = next((t for t in _templates(world, actor, org) if t.name.lower() == name), None)
        if template is None:
            raise NotFound()
        return json_response(200, render_sdk.template_json(world, template))


async def get_template(request: Request) -> Response:
    world, actor = world_of(request), actor_of(request)
    template_id = uuid_param(request, "template")
    with world.lock:
        template = next((t for t in _templates(world, actor) if t.id == template_id), None)
        if template is None:
            raise NotFound()
        return json_response(200, render_sdk.template_json(world, template))


def template_version(request: Request) -> TemplateVersion:
    """``httpmw.ExtractTemplateVersionParam``: 400 for a non-UUID, 404 for an unknown or unreadable version."""
    world, actor = world_of(request), actor_of(request)
    version_id = uuid_param(request, "templateversion")
    with world.lock:
        version = world.template_versions.get(version_id)
        if version is None:
            raise NotFound()
        template = world.templates[version.template_id]
        if not _member(actor, world.organizations[template.organization_id]):
            raise NotFound()
        return version


async def get_template_version(request: Request) -> Response:
    world = world_of(request)
    version = template_version(request)
    with world.lock:
        return json_response(200, render_sdk.template_version_json(world, version))


async def get_template_version_presets(request: Request) -> Response:
    """A JSON array, ``[]`` for a version without presets."""
    version = template_version(request)
    return json_response(200, [render_sdk.preset_json(p) for p in version.presets])


async def get_template_version_parameters(request: Request) -> Response:
    version = template_version(request)
    return json_response(200, [render_sdk.parameter_json(p) for p in version.parameters])


# ---- workspaces and builds -------------------------------------------------------------------------------------


async def get_workspace_by_owner_and_name(request: Request) -> Response:
    """``GET /api/v2/users/{user}/workspace/{workspacename}``: the live workspace of that name (case-insensitive);
    with ``include_deleted=true`` a deleted one too."""
    world, actor = world_of(request), actor_of(request)
    include_deleted = request.query_params.get("include_deleted") == "true"
    with world.lock:
        owner = world.resolve_user(actor, request.path_params["user"])
        name = request.path_params["workspacename"].lower()
        now = world.now()
        candidates = [w for w in world.workspaces.values() if w.owner_id == owner.id and w.name.lower() == name]
        live = [w for w in candidates if not is_deleted(w, now)]
        chosen = live or (candidates if include_deleted else [])
        if not chosen:
            raise NotFound()
        workspace = max(chosen, key=lambda w: w.created_at)
        return json_response(200, render.workspace_json(world, workspace, now))


async def get_workspace_build(request: Request) -> Response:
    world, actor = world_of(request), actor_of(request)
    build_id = uuid_param(request, "workspacebuild")
    with world.lock:
        for workspace in world.workspaces.values():
            for build in workspace.builds:
                if build.id == build_id and (actor.is_owner or actor.id == workspace.owner_id):
                    return json_response(200, render.build_json(world, workspace, build, world.now()))
        raise NotFound()


#: The surrounding routes (method, path, handler), added to ``app.OTHER_ROUTES``.
SDK_ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/api/v2/users", list_users),
    ("GET", "/api/v2/users/{user}/workspace/{workspacename}", get_workspace_by_owner_and_name),
    ("GET", "/api/v2/organizations", list_organizations),
    ("GET", "/api/v2/organizations/{organization}", get_organization),
    ("GET", "/api/v2/organizations/{organization}/templates", list_organization_templates),
    ("GET", "/api/v2/organizations/{organization}/templates/{templatename}", get_organization_template),
    ("GET", "/api/v2/templates", list_templates),
    ("GET", "/api/v2/templates/{template}", get_template),
    ("GET", "/api/v2/templateversions/{templateversion}", get_template_version),
    ("GET", "/api/v2/templateversions/{templateversion}/presets", get_template_version_presets),
    ("GET", "/api/v2/templateversions/{templateversion}/rich-parameters", get_template_version_parameters),
    ("GET", "/api/v2/workspacebuilds/{workspacebuild}", get_workspace_build),
]
