"""How ``{user}`` and ``{task}`` are resolved, and what unknown users, tasks and routes answer (ROUTE,
USER and TASKREF clauses).

Limit of what a member token can show: TASKREF-1 says a task UUID is looked up without checking it against the
``{user}`` segment, so ``/tasks/<someone else>/<uuid>`` resolves for a caller who may read that task (a site
Owner). For an ordinary member every ``{user}`` that resolves is the member themself (another member's name is a
404 from the ``{user}`` resolver, USER-3), so this suite, which holds member tokens only, cannot observe the
quirk; it checks the part that is observable: a UUID resolves under every spelling of the caller's own ``{user}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from coder_tasks_contract.spec.levels import Level
from coder_tasks_contract.target.model import Target
from coder_tasks_contract.transport.paths import TASK_PREFIXES, TASKS, task_path
from coder_tasks_contract.transport.task_pool import SharedTask
from coder_tasks_contract.transport.task_registry import TaskRegistry

from .support import (
    OPERATIONS,
    ROUTE_NOT_FOUND,
    WRITE_OPERATIONS,
    assert_not_found,
    assert_refusal,
    assert_status,
    json_body,
    only_at,
    operation_request,
)

USER_SPELLINGS = [
    pytest.param(lambda user: "me", id="me"),
    pytest.param(lambda user: user.username, id="username"),
    pytest.param(lambda user: user.username.upper(), id="username-upper-case"),
    pytest.param(lambda user: user.id, id="user-uuid"),
]
TASK_SPELLINGS = [
    pytest.param(lambda task: task.id, id="task-uuid"),
    pytest.param(lambda task: task.name, id="task-name"),
    pytest.param(lambda task: task.name.upper(), id="task-name-upper-case"),
]


@pytest.mark.operation("getTask", 200)
@pytest.mark.parametrize("task_spelling", TASK_SPELLINGS)
@pytest.mark.parametrize("user_spelling", USER_SPELLINGS)
def test_every_spelling_of_user_and_task_addresses_the_same_task(
    client_a: httpx.Client,
    target: Target,
    active_task: SharedTask,
    user_spelling: Callable[[Any], str],
    task_spelling: Callable[[SharedTask], str],
) -> None:
    """USER-1: ``{user}`` is ``me``, the username (case-insensitive) or the user's UUID; TASKREF-2: ``{task}`` is the
    task's UUID or its name (case-insensitive). Every combination answers 200 with the same task. (The TASKREF-1
    quirk, a UUID resolving under another user's segment, needs an Owner token: see the module docstring.)"""
    response = client_a.get(task_path(user_spelling(target.user_a), task_spelling(active_task)))
    assert_status(response, 200)
    assert json_body(response)["id"] == active_task.id


@pytest.mark.operation("getTaskLogs", 200)
def test_logs_resolve_by_upper_case_username_and_name(
    client_a: httpx.Client, target: Target, active_task: SharedTask
) -> None:
    """USER-1, TASKREF-2: the sub-resources use the same resolvers: logs by upper-case username and upper-case task name
    answer 200."""
    response = client_a.get(task_path(target.user_a.username.upper(), active_task.name.upper(), "/logs"))
    assert_status(response, 200)
    assert isinstance(json_body(response)["logs"], list)


def _user_params(status: int) -> list[Any]:
    """Operations with a ``{user}`` segment, except create: the write guard sends creates only for suite users,
    and an unknown user is not one."""
    params = []
    for operation in OPERATIONS:
        if operation in {"listTasks", "createTask"}:
            continue
        marks = [pytest.mark.operation(operation, status)]
        if operation in WRITE_OPERATIONS:
            marks.append(pytest.mark.writes)
        params.append(pytest.param(operation, id=operation, marks=marks))
    return params


UNKNOWN_USERS = [
    pytest.param(lambda run_id, registry: f"ctc-nobody-{run_id}", id="unknown-username"),
    pytest.param(lambda run_id, registry: registry.phantom_id(), id="unknown-uuid"),
]


def _request_as_unknown_user(
    client: httpx.Client,
    run_id: str,
    registry: TaskRegistry,
    operation: str,
    make_user: Callable[[str, Any], str],
    prefix: str,
) -> tuple[str, httpx.Response]:
    user = make_user(run_id, registry)
    method, path, kwargs = operation_request(operation, user, registry.phantom_id(), prefix)
    return user, client.request(method, path, **kwargs)


@pytest.mark.parametrize("make_user", UNKNOWN_USERS)
@pytest.mark.parametrize("operation", _user_params(400))
def test_unknown_user_segment_answers_400_with_user_message(
    client_a: httpx.Client,
    run_id: str,
    registry: TaskRegistry,
    level: Level,
    prefix: str,
    operation: str,
    make_user: Callable[[str, Any], str],
) -> None:
    """USER-2: a ``{user}`` that is no username and no user UUID answers 400
    ``"user" must be an existing uuid or username.`` with detail ``queried user="<value>"``, through every mount
    (levels 82f and 2.29; 404 since #22069, see the next test)."""
    only_at(level, level.unknown_user.status == 400, "an unknown user answers 404 since #22069 (USER-2)")
    user, response = _request_as_unknown_user(client_a, run_id, registry, operation, make_user, prefix)
    assert_refusal(response, level.unknown_user_refusal(user))


@pytest.mark.parametrize("make_user", UNKNOWN_USERS)
@pytest.mark.parametrize("operation", _user_params(404))
def test_unknown_user_segment_answers_404_not_found(
    client_a: httpx.Client,
    run_id: str,
    registry: TaskRegistry,
    level: Level,
    prefix: str,
    operation: str,
    make_user: Callable[[str, Any], str],
) -> None:
    """USER-2 (newest, #22069): a ``{user}`` that is no username and no user UUID answers 404 with the exact
    not-found body, through every mount (was 400 before, see the previous test)."""
    only_at(level, level.unknown_user.status == 404, "an unknown user answers 400 before #22069 (USER-2)")
    _, response = _request_as_unknown_user(client_a, run_id, registry, operation, make_user, prefix)
    assert_not_found(response)


def _task_params() -> list[Any]:
    params = []
    for operation in OPERATIONS:
        if operation in {"listTasks", "createTask"}:
            continue
        marks = [pytest.mark.operation(operation, 404)]
        if operation in WRITE_OPERATIONS:
            marks.append(pytest.mark.writes)
        params.append(pytest.param(operation, id=operation, marks=marks))
    return params


@pytest.mark.parametrize("operation", _task_params())
def test_unknown_task_answers_404_not_found(
    client_a: httpx.Client, registry: TaskRegistry, prefix: str, operation: str
) -> None:
    """TASKREF-3: a task UUID that matches no task answers the exact 404 not-found body, on every task route,
    through every mount of the level."""
    method, path, kwargs = operation_request(operation, "me", registry.phantom_id(), prefix)
    assert_not_found(client_a.request(method, path, **kwargs))


@pytest.mark.operation("getTask", 404)
def test_unknown_task_name_answers_404_not_found(client_a: httpx.Client, run_id: str) -> None:
    """TASKREF-2, TASKREF-3: a name that no task of the caller has answers the exact 404 not-found body."""
    assert_not_found(client_a.get(task_path("me", f"ctc-{run_id}-missing")))


@pytest.mark.operation("getTask", 404)
def test_workspace_id_is_not_a_task_id(client_a: httpx.Client, active_task: SharedTask) -> None:
    """TASKREF-5: the task's workspace UUID in the ``{task}`` segment answers 404, not the task."""
    workspace_id = active_task.task["workspace_id"]
    assert workspace_id, "the active task has no workspace id"
    assert_not_found(client_a.get(task_path("me", str(workspace_id))))


@pytest.mark.parametrize(
    "path",
    [
        # DOCS-1: the URL Coder's generated docs print at 82f525baf3 (swagger basePath put in front) does not exist;
        # the /api/v2 group answers Route not found (inferred).
        pytest.param("/api/v2/api/experimental/tasks", id="documented-doubled-prefix"),
        pytest.param("/api/v2/api/experimental/tasks/me", id="documented-doubled-prefix-user"),
        pytest.param("/api/experimental/taskz", id="unknown-collection"),
        pytest.param("/api/experimental/tasks/me/{task}/unknown", id="unknown-task-subresource"),
    ],
)
def test_unknown_route_answers_404_route_not_found(client_a: httpx.Client, active_task: SharedTask, path: str) -> None:
    """ROUTE-3, DOCS-1: a path that is no route, including the docs' doubled prefix ``/api/v2/api/experimental/tasks``,
    answers 404 ``{"message": "Route not found."}``."""
    response = client_a.get(path.replace("{task}", active_task.id))
    assert_status(response, 404)
    assert json_body(response) == ROUTE_NOT_FOUND


@pytest.mark.operation("listTasks", 200)
def test_the_real_mount_point_is_api_experimental(client_a: httpx.Client) -> None:
    """ROUTE-1: the task routes are served at ``/api/experimental/tasks`` (at 82f525baf3 only there; later levels keep
    it as an alias of ``/api/v2/tasks``, still registered at the newest)."""
    response = client_a.get(TASKS)
    assert_status(response, 200)
    assert "tasks" in json_body(response)


@pytest.mark.operation("listTasks", 200)
@pytest.mark.operation("getTask", 200)
def test_each_mount_of_the_level_serves_the_same_tasks(
    client_a: httpx.Client, active_task: SharedTask, prefix: str
) -> None:
    """ROUTE-1: from v2.29 the same handlers answer at ``/api/v2/tasks`` and ``/api/experimental/tasks``: through each
    mount of the level the list holds the run's task and GET by id and by name returns it."""
    response = client_a.get(prefix)
    assert_status(response, 200)
    assert active_task.id in {task["id"] for task in json_body(response)["tasks"]}
    for spelling in (active_task.id, active_task.name):
        response = client_a.get(task_path("me", spelling, prefix=prefix))
        assert_status(response, 200)
        assert json_body(response)["id"] == active_task.id


def test_mounts_and_routes_the_level_lacks_are_not_routed(
    client_a: httpx.Client, active_task: SharedTask, level: Level
) -> None:
    """ROUTE-1, ROUTE-3, LEVEL: what the level does not serve is no route: ``/api/v2/tasks`` before v2.29 (the /api/v2
    group answers 404 ``Route not found.``), and ``POST <mount>/me/<live task>/pause`` and ``/resume`` before the
    newest level (the task resolver passes, then no route matches). A server that serves them is of a later level:
    check --coder-version."""
    probes = [("GET", mount) for mount in TASK_PREFIXES if mount not in level.prefixes]
    if not level.pause_resume:
        probes += [("POST", task_path("me", active_task.id, suffix)) for suffix in ("/pause", "/resume")]
    if not probes:
        pytest.skip(f"level {level.name} serves every mount and route the suite knows")
    for method, path in probes:
        response = client_a.request(method, path)
        assert response.status_code == 404, f"{method} {path} answered {response.status_code}: {response.text[:300]!r}"
        assert json_body(response) == ROUTE_NOT_FOUND, f"{method} {path}"


# ROUTE-2: under a task mount the API key check, the {user} resolver and the {task} resolver are middleware of nested
# chi sub-routers, so they answer before the innermost sub-router matches a route or a method. Each probe below is
# a request no route serves (or with a method its route does not serve), addressed to a phantom task or an unknown
# user: what answers is the resolver, never "Route not found." nor 405.
RESOLVER_FIRST = [
    pytest.param("POST", "/pause", id="pause-on-phantom-task", marks=pytest.mark.writes),
    pytest.param("POST", "/anything", id="unknown-subroute-of-phantom-task", marks=pytest.mark.writes),
    pytest.param("GET", "/input", id="wrong-method-on-phantom-task-input"),
    pytest.param("PUT", "", id="put-on-phantom-task", marks=pytest.mark.writes),
]


@pytest.mark.parametrize(("method", "suffix"), RESOLVER_FIRST)
def test_task_resolver_answers_before_routing(
    client_a: httpx.Client, registry: TaskRegistry, prefix: str, method: str, suffix: str
) -> None:
    """ROUTE-2, TASKREF-3: a request under ``<mount>/me/<phantom task>/`` answers the task resolver's 404 not-found
    body whatever the rest of the path or the method, because the resolver runs before chi matches a route."""
    response = client_a.request(method, task_path("me", registry.phantom_id(), suffix, prefix=prefix))
    assert_not_found(response)


@pytest.mark.parametrize(
    ("method", "with_task", "suffix"),
    [
        pytest.param("POST", True, "/anything", id="unknown-subroute", marks=pytest.mark.writes),
        pytest.param("PUT", True, "", id="put-on-task", marks=pytest.mark.writes),
        pytest.param("GET", False, "", id="get-on-user"),
    ],
)
def test_user_resolver_answers_before_routing(
    client_a: httpx.Client,
    run_id: str,
    registry: TaskRegistry,
    level: Level,
    prefix: str,
    method: str,
    with_task: bool,
    suffix: str,
) -> None:
    """ROUTE-2, USER-2: a request under ``<mount>/<unknown user>/`` answers the level's unknown-user error (400
    before #22069, 404 since) whatever the rest of the path or the method, because the ``{user}`` resolver runs
    before chi matches a route: ``GET <mount>/<unknown user>`` is not a 405."""
    user = f"ctc-nobody-{run_id}"
    path = task_path(user, registry.phantom_id() if with_task else None, suffix, prefix=prefix)
    assert_refusal(client_a.request(method, path), level.unknown_user_refusal(user))


@pytest.mark.parametrize(
    ("method", "where"),
    [
        pytest.param("PUT", "task", id="put-on-live-task", marks=pytest.mark.writes),
        pytest.param("POST", "task", id="post-on-live-task", marks=pytest.mark.writes),
        pytest.param("GET", "task/input", id="get-on-live-task-input"),
        pytest.param("GET", "user", id="get-on-me"),
        pytest.param("DELETE", "collection", id="delete-on-collection", marks=pytest.mark.writes),
    ],
)
def test_wrong_method_after_the_resolvers_answers_405(
    client_a: httpx.Client, active_task: SharedTask, prefix: str, method: str, where: str
) -> None:
    """ROUTE-4: once every resolver on the way has passed (``me``, a live task of the caller), a method the route
    does not serve answers chi's 405 (``GET <mount>/me``: only POST is routed there; ``PUT <mount>/me/<task>``)."""
    path = {
        "task": task_path("me", active_task.id, prefix=prefix),
        "task/input": task_path("me", active_task.id, "/input", prefix=prefix),
        "user": task_path("me", prefix=prefix),
        "collection": prefix,
    }[where]
    response = client_a.request(method, path)
    assert response.status_code == 405, f"{method} {path} answered {response.status_code}: {response.text[:300]!r}"


@pytest.mark.writes
def test_unknown_subroute_of_a_live_task_answers_route_not_found(
    client_a: httpx.Client, active_task: SharedTask, prefix: str
) -> None:
    """ROUTE-3: ``POST <mount>/me/<live task>/anything`` passes both resolvers, then no route matches: 404
    ``{"message": "Route not found."}`` (not the resolver's not-found body)."""
    response = client_a.post(task_path("me", active_task.id, "/anything", prefix=prefix))
    assert_status(response, 404)
    assert json_body(response) == ROUTE_NOT_FOUND
