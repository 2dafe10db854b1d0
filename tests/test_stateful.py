"""Stateful tests over the document's explicit links (createTask 201 → get, delete, input, send, logs; at the newest
level pause and resume too, PAUSE-1).

Two tests, both driven by ``components/links`` of the target level's document (spec/coder-tasks.yaml with the
level's overlays, ``levels.build_spec``; link inference is off):

- ``test_task_lifecycle_through_links`` walks one task's whole life in the order its states allow: create, get by id
  and by name, logs, send, pause (the pauseTask link at newest, else a workspace stop build), update input, resume
  (newest), delete, then every link again, each answering 404. A schemathesis state machine picks its transitions
  at random and knows nothing of task states, so it cannot promise this sequence; the walk follows the same links
  deterministically and sends generated, validated cases at every step (``linkwalk.LinkWalk``).
- ``test_links_state_machine`` runs schemathesis' own state machine over the same links, each step first bringing
  its task into the state the operation needs; its recorder gives ``use_after_free`` and
  ``ensure_resource_availability`` the history they check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import hypothesis
import pytest
import requests
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis.specs.openapi.schemas import OpenApiSchema

from coder_tasks_contract.generated import aiming, linkwalk, loader, stages, stateful
from coder_tasks_contract.generated.checks import Sender
from coder_tasks_contract.generated.steptrail import StepTrail
from coder_tasks_contract.plugin import profiles
from coder_tasks_contract.reports.files import safe_url
from coder_tasks_contract.spec import levels, vocabulary
from coder_tasks_contract.spec.vocabulary import READ_ONLY, SKIP_NO_TEMPLATE
from coder_tasks_contract.target.model import Target
from coder_tasks_contract.transport.task_registry import TaskRegistry
from coder_tasks_contract.transport.traffic import Traffic

SKIP_READ_ONLY = f"{READ_ONLY}: the stateful tests create, change and delete a task"


@pytest.fixture(scope="module")
def sender(
    request: pytest.FixtureRequest,
    target: Target,
    make_session: Callable[..., requests.Session],
    traffic: Traffic,
) -> Iterator[Sender]:
    """User A's guarded sender for the stateful tests; reports how many requests they sent."""
    if target.read_only:
        pytest.skip(SKIP_READ_ONLY)
    if not target.template_version_id:
        pytest.skip(SKIP_NO_TEMPLATE)
    sender = Sender(session=make_session(target.user_a), reproduce=loader.run_seed(request.config).reproduce())
    before = len(traffic)
    yield sender
    loader.report_line(
        request.config,
        f"tests/test_stateful.py: {sender.requests_sent} generated requests, "
        f"{len(traffic) - before} in all (with lifecycle builds and polls, and check probes)",
    )


@pytest.fixture(scope="module")
def states(target: Target, client_a: httpx.Client) -> stages.TaskStates:
    """Moves this run's tasks between active, paused and settled with workspace builds (polled, DELETE-2, INPUT-4)."""
    return stages.TaskStates(client_a, target.lifecycle_timeout)


def _aim(target: Target, registry: TaskRegistry) -> aiming.Aim:
    return aiming.Aim(
        username=target.user_a.username,
        user_id=target.user_a.id,
        registry=registry,
        template_version_id=target.template_version_id,
        create_budget=profiles.budget().generated_creates,
    )


def _settings(**overrides: Any) -> hypothesis.settings:
    # The loaded profile decides determinism and budgets; no shrinking: every replay starts real workspaces, and the
    # failure already carries the failing request as curl.
    return hypothesis.settings(
        hypothesis.settings.default,
        phases=(Phase.explicit, Phase.generate),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        **overrides,
    )


def _replay(request: pytest.FixtureRequest, target: Target) -> str:
    """The command that runs this test's scenarios again: same level, profile and seed (and deployment)."""
    seed = loader.run_seed(request.config)
    words = [f"HYPOTHESIS_PROFILE={seed.profile}", "pytest", f"'{request.node.nodeid}'"]
    words += ["--coder-version", target.coder_version]
    if seed.seed is not None:
        words.append(f"--hypothesis-seed={seed.seed}")
    if not target.embedded:
        words += ["--base-url", safe_url(target.base_url), "--template-version-id", str(target.template_version_id)]
        words.append("(tokens from $CODER_SESSION_TOKEN)")
    return " ".join(words)


def _walked_create(level: levels.Level) -> str:
    """The createTask the link walk starts from: the mount Coder documents at the level (/api/v2/tasks from 2.29 on).
    Where the level has two mounts, the state machine starts from the other one's (ROUTE-1)."""
    return vocabulary.operation_id(loader.CREATE, level.documented_prefix)


def _seeded(request: pytest.FixtureRequest, test: Any) -> Any:
    seed = loader.run_seed(request.config).seed
    return hypothesis.seed(seed)(test) if seed is not None else test


@pytest.mark.writes
@pytest.mark.own_tasks
@pytest.mark.operation(loader.CREATE, 201)
@pytest.mark.operation(loader.GET, 200, 404)
@pytest.mark.operation(loader.LOGS, 200, 404)
@pytest.mark.operation(loader.SEND, 204, 404)
@pytest.mark.operation(loader.UPDATE_INPUT, 204, 404)
@pytest.mark.operation(loader.DELETE, 202, 404)
def test_task_lifecycle_through_links(
    request: pytest.FixtureRequest,
    api_schema: OpenApiSchema,
    sender: Sender,
    states: stages.TaskStates,
    target: Target,
    registry: TaskRegistry,
) -> None:
    """create → get (id, name) → logs → send → pause → input → delete → 404 on every link (CREATE-1, GET-1,
    LOGS-1, SEND-1, PAUSE-1, INPUT-1, DELETE-1, TASKREF-4).

    The one transitional answer the walk waits out: an active task's agent may still be busy with its initial
    prompt, and Coder refuses a send until its AgentAPI is ``stable`` (SEND-4; coderd/aitasks.go taskSend: 502
    "Task app is not ready to accept input.", 409 at newest). The walk sends again on exactly that answer
    (``LinkWalk.follow(until_idle=True)``); anything else must be the 204 (issue 19).
    """
    walked: list[list[str]] = []

    @_settings(max_examples=profiles.budget().walks)
    @given(data=st.data())
    def walk(data: st.DataObject) -> None:
        busy = levels.get(target.coder_version).send_app_not_ready
        trail = StepTrail(_replay(request, target))
        # The state machine starts from the other mount's create where there are two (ROUTE-1), so each mount's
        # links are followed in one run.
        create = _walked_create(levels.get(target.coder_version))
        link_walk = linkwalk.LinkWalk(
            api_schema, sender, states, draw=data.draw, busy=busy, trail=trail, create_operation=create
        )
        link_walk.run(_aim(target, registry))
        walked.append(link_walk.steps)

    _seeded(request, walk)()
    # Every completed walk reached every method the links lead to (a walk Hypothesis abandoned is not counted).
    create = _walked_create(levels.get(target.coder_version))
    linked = {link.target.label for link in linkwalk.links_from(api_schema, create, "201")}
    assert walked, "no lifecycle walk ran to its end"
    for steps in walked:
        reached = {step.split(" ", 1)[0] for step in steps}
        assert {"POST", "GET", "DELETE", "PATCH"} <= reached, steps
        assert len(linked) >= 5, f"the document links createTask to only {sorted(linked)}"


@pytest.mark.writes
@pytest.mark.own_tasks
# Hypothesis marks only @given tests itself; this one runs a state machine, and the marker is what tells the failure
# report it is generated, so its reproduce section prints the run's seed instead of "Seed: none".
@pytest.mark.hypothesis
def test_links_state_machine(
    request: pytest.FixtureRequest,
    api_schema: OpenApiSchema,
    sender: Sender,
    states: stages.TaskStates,
    target: Target,
    registry: TaskRegistry,
) -> None:
    """Random sequences of linked operations pass every check, use_after_free included (GET-1, DELETE-1, TASKREF-4)."""
    budget = profiles.budget()
    level = levels.get(target.coder_version)
    workflow = stateful.workflow_class(
        api_schema,
        sender=sender,
        aim=_aim(target, registry),
        states=states,
        replay=_replay(request, target),
        builds=budget.stateful_builds,
        skip_creates=(_walked_create(level),) if len(level.prefixes) > 1 else (),
    )
    _seeded(request, workflow).run(
        settings=_settings(max_examples=budget.stateful_scenarios, stateful_step_count=budget.stateful_steps)
    )
