"""The lifecycle walk over the spec's explicit links: one task this run creates, followed through every link.

The links come from the document (``components/links`` on createTask's 201), never from a hard-coded graph. What
they cannot say, the state each target operation needs, comes from ``stages``. :class:`LinkWalk` follows every
link in lifecycle order: the reads, then pause (the pauseTask link where the level has it, else a workspace stop
build), then the operations a paused task allows, then resume (where the level has it), then delete, then every link
again, each of which must answer 404.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.core.transforms import UNRESOLVABLE
from schemathesis.core.transport import Response
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.generation.case import Case
from schemathesis.generation.stateful.state_machine import StepOutput
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.schemas import OpenApiSchema
from schemathesis.specs.openapi.stateful import collect_transitions
from schemathesis.specs.openapi.stateful.links import OpenApiLink

from coder_tasks_contract.generated import aiming, compat, loader
from coder_tasks_contract.generated.agentbusy import agent_busy, unless_agent_busy, wait_agent_idle
from coder_tasks_contract.generated.checks import CheckFunction, Sender
from coder_tasks_contract.generated.stages import STAGES, STATE_FOR_STAGE, TaskStates, stage
from coder_tasks_contract.generated.steptrail import StepTrail
from coder_tasks_contract.spec import levels
from coder_tasks_contract.transport import polling


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
        case = self.draw(operation.as_strategy(generation_mode=compat.POSITIVE))
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
        case = self.draw(link.target.as_strategy(generation_mode=compat.POSITIVE, path_parameters=params))
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
            if wanted in STATE_FOR_STAGE and wanted not in by_stage:
                continue  # no pauseTask/resumeTask before newest: the paused stage stops the workspace itself
            task = self.states.bring(task, wanted)
            self.trail.brought(task, wanted)
            # The reads ("any") run at the active, paused and delete stages; pause and resume add nothing to them.
            reads = by_stage.get("any", []) if wanted not in STATE_FOR_STAGE else []
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
