"""Fixtures of the targeted tests: a few tasks shared for the whole run, so that the run starts few workspaces.

Each shared task comes from the run's task pool (``task_pool.py``), created once per session (all of them at once,
before the first test) and only read or left in its state by the tests that use it:
- ``active_task``: an active task (reads, send, logs, path resolution, error cases that change nothing).
- ``paused_task``: a task whose workspace was stopped (PATCH /input, send/logs on a non-active task).
- ``deleted_task``: a task deleted right after its first build (DELETE 202, then 404 everywhere).
- ``display_named_task``: an active task created with a display name; user B's target in test_isolation.py.
Tests that must change a task in a way others would notice take ``task_pool.active()`` (brought back to active
first), or create their own with ``make_task`` and say why.

``api_schema`` is the OpenAPI document of the target's contract level loaded into schemathesis, for the generated
tests (test_conformance.py, test_stateful.py).

A test that takes ``prefix`` runs once per mount of the target's contract level (``/api/experimental/tasks``, and
``/api/v2/tasks`` from v2.29 on, ROUTE-1): the alias is a contract too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import httpx
import pytest
import requests

from coder_tasks_contract.plugin.fixtures import collection_level
from coder_tasks_contract.spec import vocabulary
from coder_tasks_contract.spec.levels import Level
from coder_tasks_contract.target.model import Target
from coder_tasks_contract.transport.paths import TASK_PREFIXES
from coder_tasks_contract.transport.task_pool import (
    ACTIVE,
    DELETED,
    PAUSED,
    VICTIM,
    DeletedTask,
    SharedTask,
    TaskPool,
)

if TYPE_CHECKING:  # schemathesis is imported only by the runs that use the generated tests
    from schemathesis.specs.openapi.schemas import OpenApiSchema


@pytest.hookimpl(trylast=True)  # after the parametrize markers, so the mount's id comes last
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``prefix``: one case per mount of the level known at collection (every known mount if none is known yet;
    the fixture then skips the ones the level does not serve). See ``pytest_collection_modifyitems`` for the
    cases' ``operation`` markers."""
    if "prefix" not in metafunc.fixturenames:
        return
    level = collection_level(metafunc.config)
    params = [
        pytest.param(prefix, id=vocabulary.MOUNT_IDS[prefix])
        for prefix in (level.prefixes if level is not None else TASK_PREFIXES)
    ]
    metafunc.parametrize("prefix", params, indirect=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """On a mount other than /api/experimental/tasks a case's ``operation`` markers (the function's and those of
    its other parameters alike) are repeated with that mount's operationIds (``getTask`` -> ``getTaskV2``): the
    case exercises the copy of the operation there (ROUTE-1)."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        mount = callspec.params.get("prefix") if callspec is not None else None
        if not isinstance(mount, str) or not vocabulary.MOUNT_SUFFIXES.get(mount):
            continue
        for marker in list(item.iter_markers("operation")):
            operation, *statuses = marker.args
            item.add_marker(pytest.mark.operation(vocabulary.operation_id(operation, mount), *statuses))


@pytest.fixture
def prefix(request: pytest.FixtureRequest, level: Level) -> str:
    """The task mount this case addresses (see ``pytest_generate_tests``)."""
    mount: str = request.param
    if mount not in level.prefixes:
        pytest.skip(f"{mount} is not served at level {level.name} (ROUTE-1: /api/v2/tasks since v2.29)")
    return mount


@pytest.fixture(scope="module")
def api_schema(
    request: pytest.FixtureRequest, target: Target, level: Level, make_session: Callable[..., requests.Session]
) -> OpenApiSchema:
    """The document of the target's level (``levels.build_spec``: the base plus the level's overlays) loaded for
    the target, with the level's check settings; schemathesis' credential-less probes go through the guard too."""
    from coder_tasks_contract.generated import loader

    return loader.load_for(
        request.config,
        level=level,
        base_url=target.base_url,
        request_timeout=target.request_timeout,
        probe_session=make_session(None),
    )


# The pooled tasks each fixture takes (``task_pool.py``): every one the selected tests need is created at once before
# the first test runs, so their builds overlap (``_prefetch_tasks``); a fixture missing here is created on first use.
POOLED: dict[str, tuple[str, ...]] = {
    "active_task": (ACTIVE,),
    "paused_task": (PAUSED,),
    "deleted_task": (DELETED,),
    "victim": (VICTIM,),
    "display_named_task": (VICTIM,),
}


@pytest.fixture(scope="session", autouse=True)
def _prefetch_tasks(request: pytest.FixtureRequest) -> None:
    """Create the pooled tasks the selected tests need before the first one runs (as xdist, ``-k`` or ``--lf``
    selected them: only those), so their builds run side by side instead of one after another."""
    needs = [state for item in request.session.items for state in _needs(item)]
    if not needs:
        return
    try:
        pool: TaskPool = request.getfixturevalue("task_pool")
    except pytest.skip.Exception:
        return  # read-only, or no template: the tests that take a task skip on their own
    pool.prefetch(needs)
    request.config.stash[_POOL] = pool


_POOL = pytest.StashKey[TaskPool]()


@pytest.fixture(autouse=True)
def _finish_pooled_builds(request: pytest.FixtureRequest) -> None:
    """Between tests, send the pooled tasks' delete and stop as soon as their first builds are over (on a deployment
    those builds then run while the next tests do: ``TaskPool.settle_if_built``)."""
    pool = request.config.stash.get(_POOL, None)
    if pool is not None:
        pool.settle_if_built()


def _needs(item: pytest.Item) -> list[str]:
    """The pooled states ``item`` takes: through its fixtures, or named by a ``pooled`` marker (schemathesis' generated
    tests request their fixtures only when they run, ``schemathesis.pytest.from_fixture``)."""
    states = [state for name in getattr(item, "fixturenames", ()) for state in POOLED.get(name, ())]
    return states + [state for marker in item.iter_markers("pooled") for state in marker.args]


@pytest.fixture(scope="session")
def active_task(task_pool: TaskPool) -> SharedTask:
    """User A's active task, shared by every test that reads it or leaves it active."""
    return task_pool.shared(ACTIVE)


@pytest.fixture
def paused_task(task_pool: TaskPool) -> SharedTask:
    """User A's paused task (workspace stopped), shared by the tests that need a task that is not active (asked of
    the pool for each test: a test that started it leaves the next taker to pause it again)."""
    return task_pool.shared(PAUSED)


@pytest.fixture(scope="session")
def deleted_task(task_pool: TaskPool) -> DeletedTask:
    """User A's task deleted once its first build finished (DELETE-2), with the DELETE answer for the 202 test."""
    return task_pool.deleted()


@pytest.fixture(scope="session")
def display_named_task(task_pool: TaskPool) -> SharedTask:
    """User A's active task created with a display name padded by spaces through the mount Coder documents at this
    level (NAME-4); isolation tests share it (``victim``), as nothing changes it."""
    return task_pool.shared(VICTIM)


@pytest.fixture(scope="session")
def anonymous_client(make_client: Callable[..., httpx.Client]) -> Iterator[httpx.Client]:
    """A guarded client that sends no credentials; auth tests add their own per request."""
    client = make_client()
    yield client
    client.close()


_QUERY_TOKEN = re.compile(r"((?:coder_session_token|access_token)=)[^&\s\"']+", re.IGNORECASE)


class _RedactQueryTokens(logging.Filter):
    """Replaces token values in query strings with ``****`` in a log record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _QUERY_TOKEN.sub(r"\1****", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


@pytest.fixture(scope="session", autouse=True)
def _redact_query_tokens_in_logs() -> Iterator[None]:
    """httpx logs every request URL at INFO; test_auth.py puts tokens in query strings (AUTH-1), so with
    ``--log-level=INFO`` they would show in captured logs. Redact them for the whole session."""
    redactor = _RedactQueryTokens()
    logger = logging.getLogger("httpx")
    logger.addFilter(redactor)
    yield
    logger.removeFilter(redactor)
