"""Property-based conformance: every operation of the target level's document with positive and negative data.

The document is spec/coder-tasks.yaml with the overlays of the target's contract level (``levels.build_spec``):
at 2.29 and newest every operation at /api/v2/tasks as well, at newest pause and resume too (PAUSE-1). schemathesis
generates the cases (examples, coverage and fuzzing phases) and runs every check listed in
docs/checks.md; one subtest per operation, reported as ``test_conformance[METHOD /path]``. Each case is aimed at
the target first (``aiming.py``): ``{user}`` is user A (``me``, username or id), ``{task}`` a task this run created
or an id that cannot exist, and create bodies carry the target's template version and a run-prefixed name. Every
request goes through user A's guarded session, as do the re-sends of schemathesis' checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
import requests
import schemathesis
from hypothesis import reject
from schemathesis.generation.case import Case

from coder_tasks_contract.generated import aiming, loader
from coder_tasks_contract.generated.checks import Sender, add_note
from coder_tasks_contract.plugin import profiles
from coder_tasks_contract.spec.levels import Level
from coder_tasks_contract.spec.vocabulary import NEEDS_TEMPLATE, READ_ONLY, SKIP_NO_SECOND_USER
from coder_tasks_contract.target.model import Target
from coder_tasks_contract.transport import polling, task_pool
from coder_tasks_contract.transport.task_pool import TaskPool
from coder_tasks_contract.transport.task_registry import TaskRegistry
from coder_tasks_contract.transport.traffic import Traffic

# The pooled tasks the ``conformance`` fixture takes, prefetched with the others (tests/conftest.py).
pytestmark = pytest.mark.pooled(task_pool.ACTIVE, task_pool.PAUSED, task_pool.DELETED, task_pool.TOGGLE)

SKIP_READ_ONLY_WRITE = f"{READ_ONLY}: this operation changes tasks, so its generated cases are not sent"
SKIP_NO_TEMPLATE = f"{NEEDS_TEMPLATE} to send generated creates"


@pytest.fixture(scope="module")
def conformance(
    request: pytest.FixtureRequest,
    target: Target,
    registry: TaskRegistry,
    client_a: httpx.Client,
    make_session: Callable[..., requests.Session],
    traffic: Traffic,
    level: Level,
) -> Iterator[Sender]:
    """User A's sender, aimed at tasks of this run: an active one, a paused one (INPUT-4, AGENT-1), a deleted one, and
    where the level has pause and resume (PAUSE-1), one those cases take turns on."""
    aim = aiming.Aim(
        username=target.user_a.username,
        user_id=target.user_a.id,
        registry=registry,
        template_version_id=target.template_version_id,
        create_budget=profiles.budget().generated_creates,
        settle=lambda ref: polling.wait_build_settled(client_a, ref.data, target.lifecycle_timeout) and None,
    )
    if not target.read_only and target.template_version_id:
        # The run's pooled tasks (created together before the first test, task_pool.py): the generated cases only
        # read them or leave them in their state; the toggled one is brought back to active first.
        pool: TaskPool = request.getfixturevalue("task_pool")
        aim.add(dict(pool.shared(task_pool.ACTIVE).task), aiming.ACTIVE)
        if level.pause_resume:
            aim.add(dict(pool.active(task_pool.TOGGLE).task), aiming.TOGGLE)
        aim.add(dict(pool.shared(task_pool.PAUSED).task), aiming.PAUSED)
        # Deleted up front, so every operation's cases address a deleted task from the first one (must be 404).
        deleted = pool.deleted()
        gone = deleted.deletion.status_code
        assert 200 <= gone < 300, f"deleting a task for the generated tests answered {gone}"
        aim.add_deleted(dict(deleted.task))
    sender = Sender(session=make_session(target.user_a), reproduce=loader.run_seed(request.config).reproduce(), aim=aim)
    before = len(traffic)
    yield sender
    loader.report_line(
        request.config,
        f"tests/test_conformance.py: {sender.requests_sent} generated requests as user A, "
        f"{len(traffic) - before} in all (with setup, user B, lifecycle polls and check probes); "
        f"{aim.created} tasks created by generated cases",
    )


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_conformance(case: Case, conformance: Sender, target: Target) -> None:
    """Every generated case passes every check of docs/checks.md (statuses, bodies, headers, auth: ERR-1,
    SCHEMA-1, ROUTE-5, ROUTE-8, AUTH-6 and the clauses each check cites)."""
    assert conformance.aim is not None
    operation = case.operation
    if target.read_only:
        if operation.method.upper() != "GET":
            pytest.skip(SKIP_READ_ONLY_WRITE)
        if case.method.upper() != "GET":
            reject()  # an undeclared-method probe of a read: read-only mode sends nothing but GET
    if aiming.operation_id(case) == loader.CREATE and not target.template_version_id:
        pytest.skip(SKIP_NO_TEMPLATE)
    aimed = conformance.aim.aim(case)
    conformance.send(case, aimed=aimed)


@pytest.fixture(scope="module")
def sender_b(request: pytest.FixtureRequest, target: Target, make_session: Callable[..., requests.Session]) -> Sender:
    """User B's guarded sender (a second ordinary member of the same organization)."""
    if target.user_b is None:
        pytest.skip(SKIP_NO_SECOND_USER)
    return Sender(session=make_session(target.user_b), reproduce=loader.run_seed(request.config).reproduce())


reads = schemathesis.pytest.from_fixture("api_schema").include(method="GET")


@reads.parametrize()
@pytest.mark.needs_second_user
def test_user_b_cannot_read_user_a_tasks(
    case: Case, conformance: Sender, sender_b: Sender, registry: TaskRegistry, target: Target
) -> None:
    """A generated read that shows user A their task shows user B nothing: 404, and no A task in B's list (RBAC-2,
    RBAC-5)."""
    assert conformance.aim is not None
    if case.method.upper() != "GET":
        reject()  # only reads are replayed as another user: a write would change A's task if isolation failed
    aimed = conformance.aim.aim(case)
    as_a = conformance.send(case, aimed=aimed)
    as_b = sender_b.send(case)
    mine = {str(task["id"]).lower() for task in registry.tasks if task.get("owner_id") == target.user_a.id}
    try:
        if aiming.operation_id(case) == loader.LIST:
            if as_b.status_code == 200:
                leaked = mine & {str(task.get("id", "")).lower() for task in as_b.json().get("tasks", [])}
                assert not leaked, (
                    f"user B's GET {case.formatted_path} lists user A's task(s) {sorted(leaked)} (RBAC-5)"
                )
        elif as_a.status_code == 200:
            assert as_b.status_code == 404, (
                f"user B's GET {case.formatted_path} answered {as_b.status_code} for user A's task; "
                "another member's task must be 404 by id and by owner/name (RBAC-2)"
            )
    except AssertionError as exc:
        add_note(exc, f"Reproduce as user B with:\n\n    {case.as_curl_command(headers=as_b.request.headers)}")
        add_note(exc, sender_b.reproduce)
        raise
