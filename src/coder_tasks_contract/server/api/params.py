"""What every handler reads from a request the middleware has passed: the world, the caller, a UUID path segment."""

from __future__ import annotations

from starlette.requests import Request

from coder_tasks_contract.server.api.middleware import USER_SCOPE_KEY
from coder_tasks_contract.server.domain.entities import User
from coder_tasks_contract.server.domain.errors import BadRequest
from coder_tasks_contract.server.domain.world import World
from coder_tasks_contract.server.golang.gofmt import UUIDError, go_quote, parse_uuid


def world_of(request: Request) -> World:
    world: World = request.app.state.world
    return world


def actor_of(request: Request) -> User:
    """The authenticated caller (the API key middleware put it there)."""
    user: User = request.scope[USER_SCOPE_KEY]
    return user


def uuid_param(request: Request, name: str) -> str:
    """``httpmw.ParseUUIDParam``: 400 ``Invalid UUID "x".`` for a path segment that is not a UUID."""
    raw = request.path_params[name]
    try:
        return parse_uuid(raw)
    except UUIDError as exc:
        raise BadRequest(f"Invalid UUID {go_quote(raw)}.", str(exc)) from None
