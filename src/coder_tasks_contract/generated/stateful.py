"""schemathesis' state machine over the spec's explicit links, made safe and state-aware for a real deployment.

The links come from the document (``components/links`` on createTask's 201); link inference is off in the
schemathesis configuration (``loader.build_config``). Before each step the task it addresses is brought into the
state the operation needs (``stages``), and nothing generated can address a task the run did not create. The
deterministic walk over the same links is ``linkwalk``.
"""

from __future__ import annotations

from typing import Any

from hypothesis.stateful import precondition, rule
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.result import Ok
from schemathesis.core.transport import Response
from schemathesis.generation.case import Case
from schemathesis.generation.stateful.state_machine import APIStateMachine, StepInput, StepOutput
from schemathesis.specs.openapi.schemas import OpenApiSchema

from coder_tasks_contract.generated import aiming, compat, loader
from coder_tasks_contract.generated.buildbudget import BuildBudget
from coder_tasks_contract.generated.checks import CheckFunction, Sender, add_note, ignored_auth_once
from coder_tasks_contract.generated.stages import TaskStates, stage
from coder_tasks_contract.generated.steptrail import StepTrail


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
    ensure_resource_availability read keeps every response (without it they silently stop checking). A failure
    carries the scenario's :class:`StepTrail` and ``replay``, the command that runs the scenario again. A scenario
    starts at most ``builds`` workspace builds beyond its create (``buildbudget``; None: no limit). No scenario starts
    with the createTask operations ``skip_creates`` names (the mount the link walk follows).
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
        @rule(case=list_operation.as_strategy(generation_mode=compat.POSITIVE))
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
