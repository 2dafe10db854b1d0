"""The fake Coder's HTTP API: routes declared as data, plain handler functions, one mapping from domain errors
to Coder's error responses. Authentication, CSRF and the rate limit happen before routing (``middleware``)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, request_response
from starlette.types import Receive, Scope, Send

from coder_tasks_contract.server.api import render
from coder_tasks_contract.server.api.coder_api import SDK_ROUTES
from coder_tasks_contract.server.api.middleware import JSON_TYPE, CoderMiddleware, error_response, json_response
from coder_tasks_contract.server.api.params import actor_of, uuid_param, world_of
from coder_tasks_contract.server.api.router import Handler, TaskRoutes, method_not_allowed, route_not_found, task_mount
from coder_tasks_contract.server.domain.errors import (
    BadRequest,
    CoderError,
    Conflict,
    Forbidden,
    Gone,
    InternalError,
    NotFound,
    UpstreamFailure,
)
from coder_tasks_contract.server.domain.query import QueryError
from coder_tasks_contract.server.domain.world import World
from coder_tasks_contract.server.golang.gofmt import go_parse_query, go_quote, query_values
from coder_tasks_contract.server.golang.gojson import DecodeError, Struct, decode
from coder_tasks_contract.spec.levels import Level

STATUS_BY_ERROR: dict[type[CoderError], int] = {
    BadRequest: 400,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    InternalError: 500,
    UpstreamFailure: 502,
}

CREATE_TASK = Struct(
    "CreateTaskRequest",
    {"template_version_id": "uuid", "template_version_preset_id": "uuid", "input": "string", "name": "string"},
)
# From v2.29 (#20856) the request has display_name; before, the decoder ignores it like any unknown field (ERR-5).
CREATE_TASK_WITH_DISPLAY_NAME = Struct(
    "CreateTaskRequest",
    {
        "template_version_id": "uuid",
        "template_version_preset_id": "uuid",
        "input": "string",
        "name": "string",
        "display_name": "string",
    },
)
UPDATE_INPUT = Struct("UpdateTaskInputRequest", {"input": "string"})
SEND_INPUT = Struct("TaskSendRequest", {"input": "string"})
CREATE_BUILD = Struct(
    "CreateWorkspaceBuildRequest",
    {
        "template_version_id": "uuid",
        "transition": "string",
        "dry_run": "bool",
        "orphan": "bool",
        "log_level": "string",
        "reason": "string",
        "template_version_preset_id": "uuid",
    },
    go_types={
        "transition": "codersdk.WorkspaceTransition",
        "log_level": "codersdk.ProvisionerLogLevel",
        "reason": "codersdk.CreateWorkspaceBuildReason",
    },
)


# ---- helpers ---------------------------------------------------------------------------------------------------


async def _read(request: Request, struct: Struct) -> dict[str, Any]:
    """``httpapi.Read``: Coder's 400 with the Go decoder's error as detail."""
    try:
        return decode(await request.body(), struct)
    except DecodeError as exc:
        raise BadRequest("Request body must be valid JSON.", str(exc)) from None


def _task_from_path(request: Request) -> Any:
    world, actor = world_of(request), actor_of(request)
    owner = world.resolve_user(actor, request.path_params["user"])
    return world.resolve_task(actor, owner, request.path_params["task"])


# ---- /api/experimental/tasks -----------------------------------------------------------------------------------


async def list_tasks(request: Request) -> Response:
    world, actor = world_of(request), actor_of(request)
    q = query_values(go_parse_query(request.scope.get("query_string", b"")), "q")
    with world.lock:
        try:
            task_filter = world.parse_query(actor, q[0] if q else "")
        except QueryError as exc:
            raise BadRequest("Invalid task search query.", validations=exc.validations) from None
        tasks = world.list_tasks(actor, task_filter)
        now = world.now()
        return json_response(200, {"tasks": [render.task_json(world, t, now) for t in tasks], "count": len(tasks)})


async def create_task(request: Request) -> Response:
    world, actor = world_of(request), actor_of(request)
    owner = world.resolve_user(actor, request.path_params["user"])
    with_display_name = world.level.display_name
    body = await _read(request, CREATE_TASK_WITH_DISPLAY_NAME if with_display_name else CREATE_TASK)
    with world.lock:
        task = world.create_task(
            actor,
            owner,
            template_version_id=body.get("template_version_id"),
            prompt=body.get("input", ""),
            name=body.get("name", ""),
            display_name=body.get("display_name", "") if with_display_name else None,
        )
        return json_response(201, render.task_json(world, task, world.now()))


async def get_task(request: Request) -> Response:
    world = world_of(request)
    with world.lock:
        task = _task_from_path(request)
        return json_response(200, render.task_json(world, task, world.now()))


async def delete_task(request: Request) -> Response:
    world = world_of(request)
    with world.lock:
        world.delete_task(actor_of(request), _task_from_path(request))
    return Response(status_code=202)


async def update_task_input(request: Request) -> Response:
    world = world_of(request)
    _task_from_path(request)
    body = await _read(request, UPDATE_INPUT)
    with world.lock:
        world.update_input(actor_of(request), _task_from_path(request), body.get("input", ""))
    # Written through Coder's JSON writer: the content type is set, but Go allows no body on a 204 (ROUTE-10).
    return Response(status_code=204, headers={"Content-Type": JSON_TYPE})


async def send_task_input(request: Request) -> Response:
    world = world_of(request)
    _task_from_path(request)
    body = await _read(request, SEND_INPUT)
    with world.lock:
        world.send(actor_of(request), _task_from_path(request), body.get("input", ""))
    return Response(status_code=204)


async def get_task_logs(request: Request) -> Response:
    world = world_of(request)
    with world.lock:
        task = _task_from_path(request)
        snapshot = world.log_snapshot(task)
        if snapshot is not None:
            return json_response(200, render.snapshot_json(*snapshot))
        messages = world.logs(actor_of(request), task)
        return json_response(200, {"logs": [render.log_entry_json(m) for m in messages]})


async def pause_task(request: Request) -> Response:
    world = world_of(request)
    with world.lock:
        workspace, build = world.pause_task(actor_of(request), _task_from_path(request))
        return json_response(202, {"workspace_build": render.build_json(world, workspace, build, world.now())})


async def resume_task(request: Request) -> Response:
    world = world_of(request)
    with world.lock:
        workspace, build = world.resume_task(actor_of(request), _task_from_path(request))
        return json_response(202, {"workspace_build": render.build_json(world, workspace, build, world.now())})


# ---- /api/v2 (what the suite needs around tasks) ---------------------------------------------------------------


async def buildinfo(request: Request) -> Response:
    return json_response(200, render.buildinfo_json(world_of(request)))


async def get_user(request: Request) -> Response:
    world = world_of(request)
    with world.lock:
        user = world.resolve_user(actor_of(request), request.path_params["user"])
        return json_response(200, render.user_json(world, user))


async def get_workspace(request: Request) -> Response:
    world = world_of(request)
    workspace_id = uuid_param(request, "workspace")
    with world.lock:
        workspace = world.workspace(actor_of(request), workspace_id)
        now = world.now()
        if world.is_workspace_deleted(workspace) and request.query_params.get("include_deleted") != "true":
            raise Gone(
                f"Workspace {go_quote(workspace.name)} was deleted, you can view this workspace by specifying "
                "'include_deleted=true' and trying again."
            )
        return json_response(200, render.workspace_json(world, workspace, now))


async def create_workspace_build(request: Request) -> Response:
    world = world_of(request)
    workspace_id = uuid_param(request, "workspace")
    workspace = world.workspace(actor_of(request), workspace_id)
    body = await _read(request, CREATE_BUILD)
    transition = body.get("transition", "")
    if transition not in ("start", "stop", "delete"):
        raise BadRequest(
            "Validation failed.",
            validations=[("transition", f'Validation failed for tag "oneof" with value: "{transition}"')],
        )
    with world.lock:
        build = world.create_build(actor_of(request), workspace, transition)
        return json_response(201, render.build_json(world, workspace, build, world.now()))


# ---- wiring ----------------------------------------------------------------------------------------------------


def task_routes(level: Level) -> TaskRoutes:
    """The task routes of one mount (ROUTE-1); pause and resume from the newest level only (#21889, #21948, #22544)."""
    task: dict[str, dict[str, Handler]] = {
        "/": {"GET": get_task, "DELETE": delete_task},
        "/input": {"PATCH": update_task_input},
        "/send": {"POST": send_task_input},
        "/logs": {"GET": get_task_logs},
    }
    if level.pause_resume:
        task |= {"/pause": {"POST": pause_task}, "/resume": {"POST": resume_task}}
    return TaskRoutes(collection={"GET": list_tasks}, user={"POST": create_task}, task=task)


OTHER_ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/api/v2/buildinfo", buildinfo),
    ("GET", "/api/v2/users/{user}", get_user),
    ("GET", "/api/v2/workspaces/{workspace}", get_workspace),
    ("POST", "/api/v2/workspaces/{workspace}/builds", create_workspace_build),
    *SDK_ROUTES,  # what a task client calls around the task routes (coder_api.py)
]


def _methods_of(handlers: dict[str, Handler]) -> Handler:
    """One endpoint per path, so a wrong method is answered like chi does (405 with every method the path allows)."""

    async def dispatch(request: Request) -> Response:
        handler = handlers.get(request.method)
        if handler is None:
            return method_not_allowed(request.method, handlers)
        return await handler(request)

    return dispatch


class _AnyMethod:
    """An ASGI endpoint: Starlette then routes every method of the path here (a plain function gets GET only)."""

    def __init__(self, handler: Handler) -> None:
        self._app = request_response(handler)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


def _routes(world: World) -> list[BaseRoute]:
    # Everything under a task mount goes to one endpoint that resolves {user} and {task} before it matches a route
    # (router.py); ``{rest:path}`` also matches the empty rest, i.e. the mount itself.
    mount = task_mount(world, task_routes(world.level))
    routes: list[BaseRoute] = [Route(prefix + "{rest:path}", _AnyMethod(mount)) for prefix in world.level.prefixes]
    by_path: dict[str, dict[str, Handler]] = {}
    for method, path, handler in OTHER_ROUTES:
        by_path.setdefault(path, {})[method] = handler
    return routes + [Route(path, _AnyMethod(_methods_of(handlers))) for path, handlers in by_path.items()]


async def _coder_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CoderError)
    return error_response(STATUS_BY_ERROR[type(exc)], exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's router found nothing: Coder's ``httpapi.RouteNotFound`` (ROUTE-3)."""
    return route_not_found()


def create_app(world: World) -> Starlette:
    """The fake Coder as an ASGI app, serving ``world`` (with the routes of its contract level)."""
    handlers = {CoderError: _coder_error, HTTPException: _http_error}
    app = Starlette(routes=_routes(world), exception_handlers=handlers)
    app.router.redirect_slashes = False
    app.state.world = world
    app.add_middleware(CoderMiddleware, world=world)
    return app
