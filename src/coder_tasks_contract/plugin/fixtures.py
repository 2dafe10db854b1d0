"""Fixtures of the contract suite, each built from the one before it: target -> guard -> clients -> task factory.

As in pytest-httpserver, overriding one in a user's own conftest changes everything built on it: a conftest's
``target`` is what ``guard``, ``client_a``, ``make_client``, ``make_session`` and ``make_task`` address and
authenticate with. Every client they hand out is guarded (``guard.py``); tasks come from one factory
(``task_pool.TaskFactory``), shared by state through ``task_pool``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import requests

from coder_tasks_contract.generated import loader
from coder_tasks_contract.plugin.runstate import run_state
from coder_tasks_contract.spec import levels, task_shape
from coder_tasks_contract.spec.levels import Level
from coder_tasks_contract.spec.vocabulary import SKIP_NO_SECOND_USER, SKIP_NO_TEMPLATE, SKIP_READ_ONLY
from coder_tasks_contract.target import preflight
from coder_tasks_contract.target.model import Target, User
from coder_tasks_contract.transport import polling
from coder_tasks_contract.transport.clients import build_client, build_session
from coder_tasks_contract.transport.guard import Guard
from coder_tasks_contract.transport.task_pool import TaskFactory, TaskPool
from coder_tasks_contract.transport.task_registry import TaskRegistry
from coder_tasks_contract.transport.traffic import Traffic

MakeClient = Callable[..., httpx.Client]
MakeSession = Callable[..., requests.Session]


def resolve_target(config: pytest.Config) -> Target:
    """The target, resolving it now if the session start did not; an unusable target ends the run (exit 10)."""
    state = run_state(config)
    try:
        return state.ensure_target()
    except preflight.PreflightError as exc:
        state.fatal(str(exc))


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    """The deployment under test (or the embedded reference server), checked by preflight; from now on every
    lifecycle poll is judged by the ``Task`` schema of its level."""
    resolved = resolve_target(request.config)
    spec = loader.spec_path(request.config)
    polling.judge_polls_by(task_shape.for_level(resolved.coder_version, spec if spec.is_file() else None))
    return resolved


@pytest.fixture(scope="session")
def level(target: Target) -> Level:
    """The contract level the target is judged by (``levels.py``): what it must answer where versions differ."""
    return levels.get(target.coder_version)


def collection_level(config: pytest.Config) -> Level | None:
    """The level known while tests are collected (to parametrize over its mounts): the resolved target's, else
    --coder-version's; None when neither is known yet (e.g. ``--collect-only``, which resolves no target)."""
    state = run_state(config)
    if state.target is not None:
        return levels.get(state.target.coder_version)
    if state.settings.coder_version:
        return levels.get(state.settings.coder_version)
    return None


@pytest.fixture(scope="session")
def run_id(request: pytest.FixtureRequest) -> str:
    """Short id of this run; every task it creates is named ``ctc-<run_id>-<n>``."""
    return run_state(request.config).run_id


@pytest.fixture(scope="session")
def registry(request: pytest.FixtureRequest) -> TaskRegistry:
    """The tasks this run created; the write guard allows writes only to these (and to phantom ids)."""
    return run_state(request.config).registry


@pytest.fixture(scope="session")
def traffic(request: pytest.FixtureRequest) -> Traffic:
    """Every response of the run as (method, route template, status, test node id), for the coverage ledger."""
    return run_state(request.config).traffic


@pytest.fixture(autouse=True)
def _current_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Attribute the requests made during this test to its node id in ``traffic``."""
    recorder = run_state(request.config).traffic
    recorder.current_nodeid = request.node.nodeid
    recorder.current_node = request.node
    yield
    recorder.current_nodeid = None
    recorder.current_node = None


@pytest.fixture(scope="session")
def guard(request: pytest.FixtureRequest, target: Target) -> Guard:
    """The guard every client of ``target`` sends through: only our tasks are written, within the budget and the
    pace, nothing but GET in --read-only mode. A ``target`` a conftest overrides gets a guard of its own."""
    return run_state(request.config).guard_for(target)


@pytest.fixture(scope="session")
def make_client(request: pytest.FixtureRequest, target: Target, guard: Guard) -> MakeClient:
    """Factory of guarded httpx clients of ``target``: ``make_client(user=None, **httpx_kwargs)``; no credentials
    without user. Closed at the end of the run."""
    track = run_state(request.config).track

    def make(user: User | None = None, **httpx_kwargs: Any) -> httpx.Client:
        httpx_kwargs.setdefault("timeout", target.request_timeout)
        client: httpx.Client = track(build_client(guard, target.base_url, user=user, **httpx_kwargs))
        return client

    return make


@pytest.fixture(scope="session")
def make_session(request: pytest.FixtureRequest, target: Target, guard: Guard) -> MakeSession:
    """Factory of guarded requests sessions of ``target`` (for schemathesis ``case.call(session=...)``)."""
    track = run_state(request.config).track

    def make(user: User | None = None) -> requests.Session:
        session: requests.Session = track(build_session(guard, user=user, timeout=target.request_timeout))
        return session

    return make


@pytest.fixture(scope="session")
def client_a(target: Target, make_client: MakeClient) -> httpx.Client:
    """Guarded httpx client authenticated as ``target``'s user A."""
    return make_client(target.user_a)


@pytest.fixture(scope="session")
def client_b(target: Target, make_client: MakeClient) -> httpx.Client:
    """Guarded httpx client authenticated as ``target``'s user B; skips without --second-session-token."""
    if target.user_b is None:
        pytest.skip(SKIP_NO_SECOND_USER)
    return make_client(target.user_b)


@pytest.fixture(scope="session")
def task_factory(target: Target, registry: TaskRegistry, client_a: httpx.Client) -> TaskFactory:
    """The one way the suite creates a task (as user A unless given another client), registered for the cleanup.
    Skips without --template-version-id and in --read-only mode."""
    if target.read_only:
        pytest.skip(SKIP_READ_ONLY)
    if not target.template_version_id:
        pytest.skip(SKIP_NO_TEMPLATE)
    return TaskFactory(
        template_version_id=target.template_version_id,
        registry=registry,
        client=client_a,
        lifecycle_timeout=target.lifecycle_timeout,
    )


@pytest.fixture
def make_task(task_factory: TaskFactory) -> TaskFactory:
    """Factory that creates a task (as the client's user, default A), registers it and waits for it.

    ``make_task(*, name=None, input=..., wait="active" | "settled" | None, client=None) -> dict``. Skips without
    --template-version-id and in --read-only mode; tasks are deleted at the end of the session.
    """
    return task_factory


@pytest.fixture(scope="session")
def task_pool(task_factory: TaskFactory, level: Level) -> TaskPool:
    """Tasks shared by state (active, paused, deleted, ...) among the tests that leave them as they found them
    (``task_pool.py``); created through ``task_factory``, so they skip where it skips."""
    return TaskPool(task_factory, level)
