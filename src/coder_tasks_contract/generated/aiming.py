"""Aims generated cases at the target: real users and this run's tasks in the path, the target's template version and
a run-prefixed name in create bodies; and records what each aimed case must be answered with.

schemathesis draws path parameters from the spec's schemas, so left alone it would address random users and tasks.
Here every ``{user}`` becomes user A as ``me``, username or id (USER-1), and every ``{task}`` one of:

- a live task this run created (by id or by name), chosen among the tasks whose state the operation needs:
  an active task for send and logs (AGENT-1), a paused one for PATCH ``/input`` (INPUT-4), a task created by a generated
  createTask case (build settled first, DELETE-1) for DELETE, and at the newest level a task of their own for pause
  and resume (PAUSE-1), so that no generated resume un-pauses the task the ``/input`` cases need;
- a value that cannot match a real task: a fresh phantom uuid from the registry, or the id of a task this run
  already deleted. Both must answer 404 (TASKREF-3, TASKREF-4).

No generated write can therefore reach a task the run did not create; the write guard enforces the same rule
underneath. Choices are a pure function of the generated values, so a derandomized run sends the same requests.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import reject
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.case import Case
from schemathesis.generation.meta import CONTENT_TYPE_PROBES, CoverageScenario, coverage_scenario
from schemathesis.schemas import APIOperation

from coder_tasks_contract.generated import loader
from coder_tasks_contract.generated.compat import is_negative_at
from coder_tasks_contract.spec.vocabulary import SAFE_METHODS, WRITE_OPERATIONS, canonical_operation_id, parses_as_uuid
from coder_tasks_contract.transport.task_registry import TaskRegistry, is_valid_name

# Statuses of a live task a state-dependent operation needs (INPUT-4, AGENT-1); TOGGLE: the task pause and resume
# cases take turns on (newest, PAUSE-1), so that they change no task other cases rely on.
ACTIVE, PAUSED, VICTIM, TOGGLE = "active", "paused", "victim", "toggle"
# Which live tasks an operation may address so that a valid request can succeed (keys: base operationIds).
_ROLES_FOR: dict[str, tuple[str, ...]] = {
    loader.GET: (ACTIVE, PAUSED, VICTIM),
    loader.LOGS: (ACTIVE,),
    loader.SEND: (ACTIVE,),
    loader.UPDATE_INPUT: (PAUSED,),
    loader.DELETE: (VICTIM,),
    loader.PAUSE: (TOGGLE,),
    loader.RESUME: (TOGGLE,),
}


@dataclass
class TaskRef:
    """A task this run created, as the aiming needs it."""

    id: str
    name: str
    role: str
    data: dict[str, Any] = field(repr=False, default_factory=dict)
    deleted: bool = False

    @classmethod
    def from_json(cls, task: dict[str, Any], role: str) -> TaskRef:
        return cls(id=str(task["id"]), name=str(task["name"]), role=role, data=dict(task))


@dataclass(frozen=True)
class Aimed:
    """What aiming did to one case: the operation, the task addressed, and whether it can exist."""

    operation_id: str
    task: TaskRef | None = None
    # True: the {task} is a phantom uuid or a task this run deleted, so the answer must be 404 (TASKREF-3, TASKREF-4).
    absent: bool = False
    # Undeclared-method and content-type probes: only server errors and the method check apply to them.
    probe: bool = False


def operation_id(case: Case[Any]) -> str:
    """The case's operation by its base operationId, whichever mount it is at (``getTaskV2`` -> ``getTask``)."""
    return canonical(case.operation)


def canonical(operation: APIOperation[Any, Any, Any, Any]) -> str:
    """An operation's base operationId, whichever mount it is at."""
    return canonical_operation_id(str(operation.definition.raw.get("operationId", "")))


def is_probe(case: Case[Any]) -> bool:
    """An undeclared-method or content-type probe of the coverage phase (its status says little about the data)."""
    scenario = coverage_scenario(case)
    return scenario == CoverageScenario.UNSPECIFIED_HTTP_METHOD or scenario in CONTENT_TYPE_PROBES


def _roles(case: Case[Any], op: str) -> tuple[str, ...]:
    """The live tasks a case may address: those whose state its operation needs, and never a shared task for a
    write the spec does not declare (an undeclared DELETE or PUT should be refused, but if a server obeyed it,
    it must not destroy the tasks other cases rely on)."""
    if coverage_scenario(case) == CoverageScenario.UNSPECIFIED_HTTP_METHOD:
        return (ACTIVE, PAUSED, VICTIM) if case.method.upper() in SAFE_METHODS else (VICTIM,)
    return _ROLES_FOR.get(op, (ACTIVE, PAUSED, VICTIM))


def _only_negative_in_path(case: Case[Any]) -> bool:
    """Whether the case is negative and its path parameters are the only invalid part."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return False
    return is_negative_at(meta, ParameterLocation.PATH) and not any(
        component.mode.is_negative
        for location, component in meta.components.items()
        if location != ParameterLocation.PATH
    )


def _valid_path_value(case: Case[Any], name: str, value: object) -> bool:
    parameter = case.operation.path_parameters.get(name)
    if parameter is None:
        return True
    try:
        return bool(parameter.get_validator().is_valid(value))
    except Exception:  # a schema the validator cannot compile: treat the value as valid and aim it
        return True


#: Coder's limit on a task's display name, in bytes of UTF-8 after trimming (coderd/aitasks.go, tasksCreate:
#: ``len(strings.TrimSpace(req.DisplayName)) > 64`` answers 400 "Display name must be 64 characters or less.").
DISPLAY_NAME_MAX_BYTES = 64


def fit_display_name(value: str) -> str:
    """``value`` cut (whole characters) to :data:`DISPLAY_NAME_MAX_BYTES` bytes of UTF-8, untouched if it fits.

    The schema's ``maxLength: 64`` counts characters, Coder counts bytes: a positive case of 64 characters or fewer
    in multi-byte text (Hypothesis draws astral-plane letters) is refused with 400 by Coder and the reference server
    alike, so positive_data_acceptance would fail a healthy server on some seeds. Cutting before trimming keeps
    the trimmed value within the limit too. A lone surrogate counts 3 bytes, as the U+FFFD Go decodes it to.
    """
    size = 0
    for index, char in enumerate(value):
        size += len(char.encode("utf-8", "surrogatepass"))
        if size > DISPLAY_NAME_MAX_BYTES:
            return value[:index]
    return value


# Go's encoding/json matches an object key to a struct field case-insensitively (bytes.EqualFold: Unicode simple
# folding), so besides ASCII case only these two letters fold onto an ASCII field name's letters (ERR-5).
_GO_FOLD = str.maketrans({"\u017f": "s", "\u212a": "k"})


def go_fold(key: str) -> str:
    """The key as Go's JSON decoder compares it with a field name."""
    return key.translate(_GO_FOLD).lower()


def _declared_fields(case: Case[Any]) -> frozenset[str]:
    """The properties the operation's JSON request body declares (the Go struct's fields), from the document."""
    document = case.operation.schema.raw_schema
    body = (case.operation.definition.raw.get("requestBody") or {}).get("content", {}).get("application/json", {})
    schema = body.get("schema") or {}
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        schema = document.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[1], {})
    return frozenset(schema.get("properties") or ())


def drop_go_aliases(case: Case[Any]) -> None:
    """In a positive JSON body, drop an extra property that Go would decode into a declared field anyway (``NAME``
    next to ``name``): schemathesis calls it additional, Coder reads it as the field, so a value of another type
    would make a valid request invalid (ERR-3, ERR-5)."""
    body = case.body
    if not isinstance(body, dict) or not (case.meta is None or case.meta.generation.mode.is_positive):
        return
    fields = _declared_fields(case)
    folded = {go_fold(field) for field in fields}
    aliases = [key for key in body if key not in fields and go_fold(key) in folded]
    if aliases:
        case.body = {key: value for key, value in body.items() if key not in aliases}


def _aim_send_body(case: Case[Any]) -> None:
    """A positive send whose input is blank once trimmed gets a visible character. Coder relays such an input
    (SEND-3) and the task's app decides: coder/agentapi trims it to nothing and refuses it, which Coder answers
    502 (SEND-5). That is the app's answer, not the request's validity, so a positive case must not depend on it."""
    body = case.body
    positive = case.meta is None or case.meta.generation.mode.is_positive
    if positive and isinstance(body, dict):
        text = body.get("input")
        if isinstance(text, str) and text and not text.strip():
            case.body = {**body, "input": text + "x"}


def aim_body(case: Case[Any]) -> None:
    """Keep a generated positive body valid for what Coder and its task app do with it, whichever test drew it
    (conformance, the link walk, the state machine): no extra key Go would read into a field, no send that only
    the app would refuse."""
    drop_go_aliases(case)
    if operation_id(case) == loader.SEND and case.method.upper() == "POST":
        _aim_send_body(case)


class Aim:
    """Per-test aiming state: the live tasks to address, the ones deleted, and the create budget."""

    def __init__(
        self,
        *,
        username: str,
        user_id: str,
        registry: TaskRegistry,
        template_version_id: str | None,
        create_budget: int,
        settle: Callable[[TaskRef], None] | None = None,
    ) -> None:
        self.users = ("me", username, user_id)
        self.username = username
        self.user_id = user_id
        self.registry = registry
        self.template_version_id = template_version_id
        self.create_budget = create_budget
        self.created = 0
        self.live: list[TaskRef] = []
        self.deleted: list[TaskRef] = []
        # Called before a DELETE of a live task: wait until its build has finished (else 409, DELETE-2).
        self._settle = settle

    def add(self, task: dict[str, Any], role: str) -> TaskRef:
        ref = TaskRef.from_json(task, role)
        self.live.append(ref)
        return ref

    def add_deleted(self, task: dict[str, Any]) -> TaskRef:
        """A task this run created and already deleted: addressed by id, it must answer 404 (TASKREF-4)."""
        ref = TaskRef.from_json(task, VICTIM)
        ref.deleted = True
        self.deleted.append(ref)
        return ref

    # -- aiming one case -----------------------------------------------------------------------------------
    def aim(self, case: Case[Any]) -> Aimed:
        """Rewrite ``case`` in place for the target; ``hypothesis.reject()`` a case that must not be sent."""
        op = operation_id(case)
        probe = is_probe(case)
        read = case.method.upper() == "GET" and not probe
        meta = case.meta
        if not read and meta is not None and not probe and _only_negative_in_path(case):
            # A write's path is always aimed (never at a task the run did not create), which would make this case
            # a repeat of a valid one: its only invalid part was a path parameter.
            reject()
        digest = self.digest(case)
        aimed = Aimed(op, probe=probe)
        if "{user}" in case.path:
            aimed = self.aim_path(case, op, digest, probe, keep_invalid=read)
        aim_body(case)
        if op == loader.CREATE and case.method.upper() == "POST":
            self.aim_create_body(case)
            final = case.meta
            may_create = probe or final is None or final.generation.mode.is_positive
            if may_create and self.created >= self.create_budget:
                # Each task starts a real workspace on a deployment: beyond the profile's budget, valid creates
                # are not sent (invalid ones still are: they must be refused without creating anything).
                reject()
        if aimed.task is not None and not aimed.absent and op == loader.DELETE and self._settle is not None:
            self._settle(aimed.task)
        return aimed

    def digest(self, case: Case[Any]) -> int:
        generated = {
            "operation": case.operation.label,
            "method": case.method,
            "path": case.path_parameters,
            "body": case.body if isinstance(case.body, (dict, list, str, int, float, bool)) else None,
            "query": case.query,
        }
        return zlib.crc32(json.dumps(generated, sort_keys=True, default=repr).encode())

    def aim_path(self, case: Case[Any], op: str, digest: int, probe: bool, *, keep_invalid: bool) -> Aimed:
        params = dict(case.path_parameters)
        # A read may keep a path value its schema rejects (a negative case: it must be refused, 400 or 404, and
        # cannot name a real user or task, whose names and ids match the schema). Everything else is aimed.
        kept = {name for name, value in params.items() if keep_invalid and not _valid_path_value(case, name, value)}
        user = self.users[digest % len(self.users)]
        if "user" not in kept:
            params["user"] = user
        aimed = Aimed(op, probe=probe)
        if "{task}" in case.path and "task" not in kept:
            roles = _roles(case, op)
            candidates = [ref for ref in self.live if ref.role in roles]
            # A kept (invalid) {user} names nobody: the user resolver refuses it before the task is looked up,
            # with the level's unknown-user status (400 before #22069, then 404, USER-2). Such a case says nothing
            # about the task, so it is recorded without one, whether the task is live or deleted.
            known_user = "user" not in kept
            if not candidates or (digest >> 4) % 4 == 0:
                if self.deleted and (digest >> 8) % 2 == 0:
                    ref = self.deleted[(digest >> 9) % len(self.deleted)]
                    params["task"] = ref.id  # by id: a deleted task's name may be reused by anyone (TASKREF-4)
                    aimed = Aimed(op, task=ref if known_user else None, absent=known_user, probe=probe)
                else:
                    params["task"] = self.registry.phantom_id()
                    aimed = Aimed(op, absent=known_user, probe=probe)
            else:
                ref = candidates[(digest >> 8) % len(candidates)]
                by_name = (digest >> 12) % 2 == 0
                params["task"] = ref.name if by_name else ref.id
                if by_name and (op in WRITE_OPERATIONS or probe):
                    # The guard lets a write address a task by name only under an owner it can verify: `me` is
                    # verified by the request's token, which schemathesis' ignored_auth probes leave out, and a
                    # username by the owner_name the server reported; the owner's id is what it recorded at create.
                    params["user"] = self.user_id
                aimed = Aimed(op, task=ref if known_user else None, probe=probe)
        # Assign (not mutate) so schemathesis re-validates whether the case is still positive or negative.
        case.path_parameters = params
        return aimed

    def aim_create_body(self, case: Case[Any]) -> None:
        body = case.body
        if not isinstance(body, dict):
            return  # the body itself is the invalid part: the server must refuse it (400)
        body = dict(body)
        version = body.get("template_version_id")
        if parses_as_uuid(version) and self.template_version_id is not None:
            body["template_version_id"] = self.template_version_id
        name = body.get("name")
        if name is None or (isinstance(name, str) and (name == "" or is_valid_name(name))):
            # A valid, empty or absent name becomes a run name, so every task a case creates carries the run
            # prefix (an operator can find leftovers) and no name can collide with an existing workspace (409).
            body["name"] = self.registry.next_name()
        final_positive = case.meta is None or case.meta.generation.mode.is_positive
        if final_positive:
            # A preset the template version does not have is the deployment's data, not the request's validity.
            body.pop("template_version_preset_id", None)
            display_name = body.get("display_name")
            if isinstance(display_name, str):
                body["display_name"] = fit_display_name(display_name)
        case.body = body

    # -- after the call ------------------------------------------------------------------------------------
    def record(self, aimed: Aimed, method: str, status: int, body: Any) -> None:
        """Keep the aiming state in step with the server: new tasks to delete later, tasks now deleted."""
        method = method.upper()
        if aimed.operation_id == loader.CREATE and method == "POST" and status == 201:
            if isinstance(body, dict) and "id" in body:
                self.created += 1
                self.add(body, VICTIM)
        elif method == "DELETE" and 200 <= status < 300 and aimed.task is not None and not aimed.absent:
            # Whatever the case was (even an undeclared DELETE a server should have refused), the task is gone.
            aimed.task.deleted = True
            if aimed.task in self.live:
                self.live.remove(aimed.task)
                self.deleted.append(aimed.task)
