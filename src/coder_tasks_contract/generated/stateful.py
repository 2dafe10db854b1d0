"""Stateful testing over the spec's explicit links: a lifecycle walk, and schemathesis' own state machine.

Both read the links from the document (``components/links`` on createTask's 201), never from a hard-coded graph;
link inference is off in the schemathesis configuration (``loader.build_config``). What the links cannot say
is the task state each target operation needs (INPUT-4: PATCH /input only on a paused task; AGENT-1: send and logs
only on an active one; DELETE-2: DELETE only once no build runs; newest, PAUSE-1: pause on an active task, resume on a
paused one); that comes from ``aiming`` and is reached with ``lifecycle`` (workspace stop/start builds, polled),
never with blind sleeps.

- :class:`LinkWalk` follows every link in lifecycle order on one task it creates: the reads, then pause (the
  pauseTask link where the level has it, else a workspace stop build), then the operations a paused task allows,
  then resume (where the level has it), then delete, then every link again, each of which must answer 404.
- :func:`workflow_class` subclasses ``schema.as_state_machine()`` so each step first brings its task into the
  state the step's operation needs, and so nothing generated can address a task the run did not create.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.result import Ok
from schemathesis.core.transforms import UNRESOLVABLE
from schemathesis.core.transport import Response
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.generation import GenerationMode
from schemathesis.generation.case import Case
from schemathesis.generation.stateful.state_machine import APIStateMachine, StepInput, StepOutput
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.schemas import OpenApiSchema
from schemathesis.specs.openapi.stateful import collect_transitions
from schemathesis.specs.openapi.stateful.links import OpenApiLink

from coder_tasks_contract.generated import aiming, compat, loader
from coder_tasks_contract.generated.agentbusy import agent_busy, unless_agent_busy, wait_agent_idle
from coder_tasks_contract.generated.buildbudget import BuildBudget
from coder_tasks_contract.generated.checks import CheckFunction, Sender, add_note, ignored_auth_once
from coder_tasks_contract.generated.steptrail import StepTrail
from coder_tasks_contract.spec import levels
from coder_tasks_contract.transport import polling

# schemathesis declares GenerationMode a StrEnum, which mypy's Python 3.10 target reads as plain str members.
_POSITIVE: Any = GenerationMode.POSITIVE

# When in a task's life an operation can succeed (aiming's roles, DELETE-2, INPUT-4, AGENT-1).
_STAGE_OF_ROLES: dict[tuple[str, ...], str] = {
    (aiming.ACTIVE,): "active",
    (aiming.PAUSED,): "paused",
    (aiming.VICTIM,): "delete",
}
# Pause and resume share aiming's TOGGLE task; here each has its own stage: pause takes an active task, resume a
# paused one (newest, PAUSE-1), and each leaves the task in the state the next stage starts from.
_STAGE_OF_OPERATION: dict[str, str] = {loader.PAUSE: "pause", loader.RESUME: "resume"}
#: The stages in the order a task's life reaches them (the order of :meth:`LinkWalk.run`).
STAGES = ("active", "pause", "paused", "resume", "delete")
# The state a task must be in for an operation of the stage.
_STATE_FOR_STAGE: dict[str, str] = {"pause": "active", "resume": "paused"}


def stage(operation_id: str) -> str:
    """When in a task's life an operation (base operationId) can succeed: ``any`` or one of :data:`STAGES`."""
    if operation_id in _STAGE_OF_OPERATION:
        return _STAGE_OF_OPERATION[operation_id]
    return _STAGE_OF_ROLES.get(aiming._ROLES_FOR.get(operation_id, ()), "any")


def links_from(schema: OpenApiSchema, operation_id: str, status: str) -> list[OpenApiLink]:
    """The document's links from one operation's response, in document order."""
    source = schema.find_operation_by_id(operation_id)
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    transitions = collect_transitions(operations)
    outgoing = transitions.operations.get(source.label)
    return [link for link in (outgoing.outgoing if outgoing else []) if link.status_code == status]


def link_path_parameters(link: OpenApiLink, output: StepOutput) -> dict[str, Any]:
    """The path parameters a link supplies from a response (the ones it cannot resolve are left out)."""
    extracted = link.extract(output).parameters.get("path_parameters", {})
    return {
        name: param.value.ok()
        for name, param in extracted.items()
        if isinstance(param.value, Ok) and param.value.ok() not in (None, UNRESOLVABLE)
    }


def success_status(operation: APIOperation[Any, Any, Any, Any]) -> int:
    """The one 2xx status the spec documents for an operation."""
    codes = [int(code) for code in operation.responses.status_codes if code.isdigit() and code.startswith("2")]
    if len(codes) != 1:
        raise ValueError(f"{operation.label}: expected one documented 2xx status, found {codes}")
    return codes[0]


def exact_status(expected: int, why: str) -> CheckFunction:
    """A check: the answer is exactly ``expected`` (used where the walk has put the task in the right state)."""

    def expected_status(ctx: Any, response: Response, case: Case[Any]) -> bool | None:
        if response.status_code != expected:
            raise AssertionError(
                f"{case.method} {case.formatted_path} answered {response.status_code}, expected {expected}: {why}"
            )
        return None

    return expected_status


@dataclass
class TaskStates:
    """Moves tasks this run created into the state an operation needs, through ``lifecycle``."""

    client: httpx.Client
    timeout: float

    def bring(self, task: dict[str, Any], wanted: str) -> dict[str, Any]:
        """Return the task once it is ready for the operations of stage ``wanted``: ``active`` (and ``pause``),
        ``paused`` (and ``resume``), ``delete`` (build settled)."""
        wanted = _STATE_FOR_STAGE.get(wanted, wanted)
        current = polling.wait_build_settled(self.client, task, self.timeout)
        if wanted == "active":
            if current.get("status") == "paused":
                return polling.resume_task(self.client, current, self.timeout)
            return polling.wait_for_status(self.client, current, {"active"}, self.timeout)
        if wanted == "paused" and current.get("status") != "paused":
            return polling.pause_task(self.client, current, self.timeout)
        return current


@dataclass
class LinkWalk:
    """One task's life through the document's links, every response validated (stateful checks included)."""

    schema: OpenApiSchema
    sender: Sender
    states: TaskStates
    draw: Callable[[st.SearchStrategy[Case[Any]]], Case[Any]]
    #: The level's answer to a send while the agent is busy (``Level.send_app_not_ready``); None: never tolerated.
    busy: levels.Refusal | None = None
    #: Every request of the walk and its answer, added to a failure (with the replay command it was given).
    trail: StepTrail = field(default_factory=StepTrail)
    #: The createTask the walk starts from, i.e. the mount whose links it follows (ROUTE-1).
    create_operation: str = loader.CREATE
    recorder: ScenarioRecorder = field(init=False)
    steps: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.recorder = ScenarioRecorder(label="link walk", config=self.schema.config.output)

    def _send(self, case: Case[Any], *, parent: Case[Any] | None, checks: list[CheckFunction]) -> Response:
        # Cases recorded under their parent get schemathesis' stateful checks (use_after_free,
        # ensure_resource_availability); those compare paths literally, so by-name variants are sent unparented.
        compat.record_case(
            self.recorder, case=case, parent_id=parent.id if parent else None, is_transition_applied=parent is not None
        )
        self.steps.append(f"{case.method} {case.formatted_path}")
        try:
            response = self.sender.send(case, recorder=self.recorder, extra_checks=checks)
        except (Exception, FailureGroup):
            self.trail.failed(case)
            raise
        self.trail.request(case, response)
        self.recorder.record_response(case_id=case.id, response=response)
        return response

    def create(self, aim: aiming.Aim) -> tuple[Case[Any], Response]:
        """A generated, valid createTask case, aimed at the target; it must answer 201 (CREATE-1)."""
        operation = self.schema.find_operation_by_id(self.create_operation)
        case = self.draw(operation.as_strategy(generation_mode=_POSITIVE))
        aim.aim_path(case, loader.CREATE, aim.digest(case), False, keep_invalid=False)
        aiming.aim_body(case)
        aim.aim_create_body(case)
        why = "a valid create with the target's template version and a fresh name (CREATE-1)"
        response = self._send(case, parent=None, checks=[exact_status(success_status(operation), why)])
        return case, response

    def follow(
        self,
        link: OpenApiLink,
        parent: Case[Any],
        output: StepOutput,
        *,
        by_name: bool = False,
        checks: list[CheckFunction],
        until_idle: bool = False,
    ) -> Response:
        """Send a generated valid case for the link's target, with the parameters the link supplies.

        ``until_idle`` (sendTaskInput): an active task's agent may still be working on the previous input, and Coder
        then refuses the send with the level's busy answer (SEND-4; coderd/aitasks.go taskSend checks the
        AgentAPI status is ``stable``). That answer, and only it, is accepted here, and the same case is sent
        again after a growing pause until it is not busy; at the lifecycle deadline the checks apply to it too.
        """
        params = link_path_parameters(link, output)
        if by_name:
            # TASKREF-1, TASKREF-2: a task is addressed by id or by name; the document's links carry the id.
            params["task"] = output.response.json()["name"]
        case = self.draw(link.target.as_strategy(generation_mode=_POSITIVE, path_parameters=params))
        aiming.aim_body(case)
        deadline = time.monotonic() + self.states.timeout
        pause = polling.FIRST_POLL
        while True:
            final = self.busy is None or not until_idle or time.monotonic() >= deadline
            sent = checks if final or self.busy is None else [unless_agent_busy(self.busy, c) for c in checks]
            response = self._send(case, parent=None if by_name else parent, checks=sent)
            if final or self.busy is None or not agent_busy(self.busy, response):
                return response
            time.sleep(pause)
            pause = min(pause * polling.POLL_GROWTH, polling.MAX_POLL)

    def run(self, aim: aiming.Aim) -> None:
        """create → reads (by id and name), logs, send → pause → input → resume → delete → every link answers
        404. Pause and resume are the document's links where the level has them (newest), else workspace builds.
        A failure carries the walk's :class:`StepTrail`."""
        try:
            self._walk(aim)
        except (Exception, FailureGroup) as exc:  # FailureGroup is a BaseExceptionGroup
            self.trail.attach(exc)
            raise

    def _walk(self, aim: aiming.Aim) -> None:
        links = links_from(self.schema, self.create_operation, "201")
        if not links:
            raise AssertionError("the document declares no links from createTask's 201 response")
        create_case, created = self.create(aim)
        task: dict[str, Any] = created.json()
        output = StepOutput(created, create_case)
        by_stage: dict[str, list[OpenApiLink]] = {}
        for link in links:
            by_stage.setdefault(stage(aiming.canonical(link.target)), []).append(link)
        for wanted in STAGES:
            if wanted in _STATE_FOR_STAGE and wanted not in by_stage:
                continue  # no pauseTask/resumeTask before newest: the paused stage stops the workspace itself
            task = self.states.bring(task, wanted)
            self.trail.brought(task, wanted)
            # The reads ("any") run at the active, paused and delete stages; pause and resume add nothing to them.
            reads = by_stage.get("any", []) if wanted not in _STATE_FOR_STAGE else []
            for link in [*reads, *by_stage.get(wanted, [])]:
                operation_id = aiming.canonical(link.target)
                if operation_id == loader.SEND:
                    wait_agent_idle(self.states.client, task, self.states.timeout)
                expected = exact_status(
                    success_status(link.target), f"the task was brought to the state {operation_id} needs"
                )
                self.follow(link, create_case, output, checks=[expected], until_idle=operation_id == loader.SEND)
                if link.target.method.upper() == "GET" and "task" in link_path_parameters(link, output):
                    self.follow(link, create_case, output, by_name=True, checks=[expected])
        # Deleted: every operation the links lead to must answer 404, by id (and reads by name too) (TASKREF-4).
        gone = exact_status(404, "the task was deleted (DELETE-1: soft delete at once; TASKREF-4: never found again)")
        for link in links:
            self.follow(link, create_case, output, checks=[gone])
            if link.target.method.upper() == "GET":
                self.follow(link, create_case, output, by_name=True, checks=[gone])


def _no_other_rule(machine: Any) -> bool:
    return not compat.another_rule_possible(machine, besides="list_tasks")


def _linked_path_parameters(input: StepInput, aim: aiming.Aim) -> dict[str, Any]:
    """The case's path parameters, with ``{user}`` and ``{task}`` taken from the link that led to the step.

    schemathesis sometimes generates a linked parameter instead (a small true-random chance per step), but a
    generated {task} could name a task the run did not create, and anything changed after generation counts as a
    link-supplied value for ensure_resource_availability, which would then call a generated id's 404 a lost
    resource. Unknown ids are test_conformance's job. Paths are compared literally by the stateful checks, so even
    the owner keeps the link's spelling (me, username or id: USER-1).
    """
    case = input.case
    params = dict(case.path_parameters)
    if input.transition is None:
        return params
    applied = {name for location, name in input.applied_parameters if location == ParameterLocation.PATH}
    linked = input.transition.parameters.get("path_parameters", {})
    for name in ("user", "task"):
        if f"{{{name}}}" not in case.path or name in applied:
            continue
        extracted = linked.get(name)
        value = extracted.value.ok() if extracted is not None and isinstance(extracted.value, Ok) else None
        if isinstance(value, str) and value:
            params[name] = value
        else:
            params[name] = "me" if name == "user" else aim.registry.phantom_id()
    return params


def workflow_class(
    schema: OpenApiSchema,
    *,
    sender: Sender,
    aim: aiming.Aim,
    states: TaskStates,
    replay: str = "",
    builds: int | None = None,
    skip_creates: tuple[str, ...] = (),
) -> type[APIStateMachine]:
    """schemathesis' state machine for ``schema``, made safe and state-aware for a real deployment.

    The base machine picks link transitions at random and, with a small true-random chance, generates a linked
    parameter instead of taking it from the link (``into_step_input``): such a ``{task}`` is replaced by a phantom
    id, so no write can reach a task the run did not create. Before each step the addressed task is brought into
    the state the operation needs. ``after_call`` calls ``super()`` so the recorder that ``use_after_free`` and
    ensure_resource_availability read keeps every response (SCHEMATHESIS_NOTES pitfall 3). A failure carries the
    scenario's :class:`StepTrail` and ``replay``, the command that runs the scenario again. A scenario starts at most
    ``builds`` workspace builds beyond its create (``buildbudget``; None: no limit). No scenario starts with the
    createTask operations ``skip_creates`` names (the mount the link walk follows).
    """
    base = schema.as_state_machine()
    enforced: set[str] = sender.enforced
    list_operation = schema.find_operation_by_id(loader.LIST)
    # Each created task is a real workspace: a scenario creates at most this many (the root rules are the
    # operations that start a chain, here createTask). One is enough: its linked calls (reads, input, send, pause and
    # resume, delete, then the 404s after it) fill the scenario's steps.
    creates_per_scenario = 1
    compat.limit_root_rules(base, lambda machine: machine.creates < creates_per_scenario)
    skipped = {schema.find_operation_by_id(op).label for op in skip_creates}
    compat.limit_root_rules(base, lambda machine: False, labels=skipped)
    compat.limit_link_rules(base, lambda machine, target: machine.builds.allows(stage(aiming.canonical(target))))

    class TaskWorkflow(base):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            self.live: dict[str, dict[str, Any]] = {}
            self.deleted: set[str] = set()
            self.creates = 0
            self.builds = BuildBudget(builds)
            self.trail = StepTrail(replay)

        @precondition(_no_other_rule)
        @rule(case=list_operation.as_strategy(generation_mode=_POSITIVE))
        def list_tasks(self, case: Case[Any]) -> None:
            """Once no linked step and no create is left (the per-source caps and the create limit are reached),
            a list keeps the scenario going instead of Hypothesis stopping it as "no progress can be made"; it
            passes every check, and no task this scenario deleted is in it (LIST-2: only non-deleted tasks)."""
            try:
                compat.record_case(self.recorder, case=case)
                response = self.call(case, **self.get_call_kwargs(case))
                self.after_call(response, case)
                self.validate_response(response, case, **self.get_call_kwargs(case))
                if response.status_code == 200:
                    listed = {str(task.get("id", "")).lower() for task in response.json().get("tasks", [])}
                    resurrected = listed & self.deleted
                    assert not resurrected, (
                        f"GET {case.formatted_path} lists deleted task(s) {sorted(resurrected)} (LIST-2)"
                    )
            except (Exception, FailureGroup) as exc:  # FailureGroup is a BaseExceptionGroup
                self.trail.attach(exc)
                raise

        def step(self, input: StepInput) -> StepOutput:
            __tracebackhide__ = True
            try:
                return self._aimed_step(input)
            except (Exception, FailureGroup) as exc:  # FailureGroup is a BaseExceptionGroup
                self.trail.attach(exc)
                raise

        def _aimed_step(self, input: StepInput) -> StepOutput:
            __tracebackhide__ = True
            case = input.case
            op = aiming.operation_id(case)
            aiming.aim_body(case)
            if op == loader.CREATE and input.transition is None:
                aim.aim_path(case, op, aim.digest(case), False, keep_invalid=False)
                aim.aim_create_body(case)
                self.creates += 1
            # Path parameters always come from the link (see _linked_path_parameters).
            params = _linked_path_parameters(input, aim)
            case.path_parameters = params
            task = self.live.get(str(params.get("task", "")).lower())
            wanted = stage(op)
            task_id = str(task["id"]).lower() if task is not None else ""
            if task is not None and wanted != "any" and case.method.upper() == case.operation.method.upper():
                self.live[task_id] = states.bring(task, wanted)
                self.builds.brought(task_id, wanted)
                self.trail.brought(self.live[task_id], wanted)
            result: StepOutput = super().step(input)
            if task is not None and 200 <= result.response.status_code < 300:
                self.builds.succeeded(task_id, wanted)
            return result

        def get_call_kwargs(self, case: Case[Any]) -> dict[str, Any]:
            return sender.transport_kwargs

        def call(self, case: Case[Any], **kwargs: Any) -> Response:
            return sender.call(case, **kwargs)

        def after_call(self, response: Response, case: Case[Any]) -> None:
            super().after_call(response, case)
            self.trail.request(case, response)
            op = aiming.operation_id(case)
            if op == loader.CREATE and case.method.upper() == "POST" and response.status_code == 201:
                body = response.json()
                self.live[str(body["id"]).lower()] = body
                self.builds.created(str(body["id"]))
            elif case.method.upper() == "DELETE" and 200 <= response.status_code < 300:
                gone = self.live.pop(str(case.path_parameters.get("task", "")).lower(), None)
                if gone is not None:
                    self.deleted.add(str(gone["id"]).lower())
                    self.builds.deleted(str(gone["id"]))

        def validate_response(
            self,
            response: Response,
            case: Case[Any],
            additional_checks: list[CheckFunction] | None = None,
            **kwargs: Any,
        ) -> None:
            __tracebackhide__ = True
            checks = [*(additional_checks or []), ignored_auth_once(enforced)]
            try:
                super().validate_response(response, case, additional_checks=checks, **kwargs)
            except FailureGroup as exc:
                add_note(exc, sender.reproduce)
                raise

    return TaskWorkflow
