"""Fixtures of the contract suite: the target, its users' clients, the registry, traffic, and ``make_task``.

All of them are overridable in a user's own conftest. Every client they hand out is guarded (``guard.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import requests

from coder_tasks_contract.generated import loader
from coder_tasks_contract.plugin.runstate import SKIP_NO_SECOND_USER, SKIP_NO_TEMPLATE, SKIP_READ_ONLY, run_state
from coder_tasks_contract.spec import levels, task_shape
from coder_tasks_contract.spec.levels import Level
from coder_tasks_contract.target import preflight
from coder_tasks_contract.target.model import Target, User
from coder_tasks_contract.transport import paths, polling
from coder_tasks_contract.transport.task_registry import TaskRegistry
from coder_tasks_contract.transport.traffic import Traffic

DEFAULT_INPUT = "Contract test task created by coder-tasks-contract; it is deleted when the run ends."

MakeTask = Callable[..., dict[str, Any]]


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
def client_a(request: pytest.FixtureRequest, target: Target) -> httpx.Client:
    """Guarded httpx client authenticated as user A."""
    return run_state(request.config).user_client(target.user_a)


@pytest.fixture(scope="session")
def client_b(request: pytest.FixtureRequest, target: Target) -> httpx.Client:
    """Guarded httpx client authenticated as user B; skips without --second-session-token."""
    if target.user_b is None:
        pytest.skip(SKIP_NO_SECOND_USER)
    return run_state(request.config).user_client(target.user_b)


@pytest.fixture(scope="session")
def make_client(request: pytest.FixtureRequest, target: Target) -> Callable[..., httpx.Client]:
    """Factory of guarded httpx clients: ``make_client(user=None, **httpx_kwargs)``; no credentials without user."""
    state = run_state(request.config)

    def make(user: User | None = None, **httpx_kwargs: Any) -> httpx.Client:
        return state.client(user, **httpx_kwargs)

    return make


@pytest.fixture(scope="session")
def make_session(request: pytest.FixtureRequest, target: Target) -> Callable[[User | None], requests.Session]:
    """Factory of guarded requests sessions (for schemathesis ``case.call(session=...)``)."""
    state = run_state(request.config)

    def make(user: User | None = None) -> requests.Session:
        return state.session(user)

    return make


@pytest.fixture
def make_task(
    request: pytest.FixtureRequest, target: Target, registry: TaskRegistry, client_a: httpx.Client
) -> MakeTask:
    """Factory that creates a task (as the client's user, default A), registers it and waits for it.

    ``make_task(*, name=None, input=..., wait="active" | "settled" | None, client=None) -> dict``. Skips without
    --template-version-id and in --read-only mode; tasks are deleted at the end of the session.
    """
    if target.read_only:
        pytest.skip(SKIP_READ_ONLY)
    if not target.template_version_id:
        pytest.skip(SKIP_NO_TEMPLATE)
    template_version_id = target.template_version_id

    def make(
        *,
        name: str | None = None,
        input: str = DEFAULT_INPUT,
        wait: str | None = "active",
        client: httpx.Client | None = None,
    ) -> dict[str, Any]:
        if wait not in ("active", "settled", None):
            raise ValueError(f"make_task(wait=...) takes 'active', 'settled' or None, not {wait!r}")
        use = client or client_a
        body = {"template_version_id": template_version_id, "input": input, "name": name or registry.next_name()}
        response = use.post(paths.task_path("me"), json=body)
        if response.status_code != 201:
            # An unusable --template-version-id has already ended the run in the guard (exit 10).
            raise AssertionError(
                f"creating task {body['name']!r} answered {response.status_code}: {response.text[:300]}"
            )
        task: dict[str, Any] = response.json()
        registry.add(task)
        if wait == "active":
            task = polling.wait_for_status(use, task, {"active"}, target.lifecycle_timeout)
        elif wait == "settled":
            task = polling.wait_build_settled(use, task, target.lifecycle_timeout)
        registry.refresh(task)
        return task

    return make
