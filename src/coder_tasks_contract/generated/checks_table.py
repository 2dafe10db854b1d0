"""The check table: which schemathesis checks run, where, with which statuses, and why (:data:`CHECKS`), the
generation and phase settings that decide what they see (:data:`SETTINGS_NOTES`), and their rendering into
schemathesis' ``[checks]`` and ``[[operations]]`` configuration (:func:`checks_config`).

It is the single source: ``loader.py`` hands :func:`checks_config` to schemathesis and ``checks_doc.py`` renders
``docs/checks.md`` from the same records. No schemathesis import here, so the docs build without loading it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from coder_tasks_contract.spec import levels
from coder_tasks_contract.spec.levels import Level
from coder_tasks_contract.spec.vocabulary import (
    CREATE,
    DELETE,
    GET,
    LIST,
    LOGS,
    PAUSE,
    RESUME,
    SEND,
    UPDATE_INPUT,
    operation_id,
)

#: Statuses per base operationId at a level; every mount's operationId gets the same (``checks_config``).
StatusTable = Callable[[Level], Mapping[str, tuple[str, ...]]]


@dataclass(frozen=True)
class CheckPolicy:
    """How one schemathesis check is used here: on, off, scoped to some operations, or one of ours; and why."""

    name: str
    state: str  # "on" | "off" | "scoped" | "ours"
    reason: str
    # Statuses the check accepts, for checks that take them: everywhere, then per operation at a level.
    expected: tuple[str, ...] = ()
    per_operation: StatusTable | None = None
    # Whether schemathesis runs it from its configuration (False: it is passed per call as an additional check).
    configured: bool = True

    def statuses(self, level: Level) -> dict[str, tuple[str, ...]]:
        """The per-operation statuses at ``level``, by base operationId, for the operations the level serves."""
        table = self.per_operation(level) if self.per_operation is not None else {}
        return {op: codes for op, codes in table.items() if op in level.operations}


def _server_errors_allowed(level: Level) -> dict[str, tuple[str, ...]]:
    """sendTaskInput may answer the level's busy-app status when that is a 5xx (502 before #23424, SEND-4)."""
    busy = level.send_app_not_ready.status
    return {SEND: ("2xx", "3xx", "4xx", str(busy))} if busy >= 500 else {}


# What a valid request may be answered with, per base operationId, whatever the level (see the reason below).
_ACCEPTED: Mapping[str, tuple[str, ...]] = {
    LIST: ("200",),
    CREATE: ("201",),
    GET: ("200", "404"),
    DELETE: ("202", "404"),
    UPDATE_INPUT: ("204", "404"),
    SEND: ("204", "404"),
    LOGS: ("200", "404"),
    # Generated pause and resume cases share one task of their own: whichever comes second meets a build still
    # running (409, inferred from the build rules) or, for resume, a workspace already running (409, #21948).
    PAUSE: ("202", "404", "409"),
    RESUME: ("202", "404", "409"),
}


def _accepted(level: Level) -> dict[str, tuple[str, ...]]:
    """positive_data_acceptance per operation at ``level``: send adds the level's busy-app status (SEND-4)."""
    busy = {SEND: (str(level.send_app_not_ready.status),)}
    return {op: _ACCEPTED[op] + busy.get(op, ()) for op in level.operations}


CHECKS: tuple[CheckPolicy, ...] = (
    CheckPolicy(
        "not_a_server_error",
        "scoped",
        "On everywhere. Before newest, sendTaskInput also accepts 502: Coder answers 502 'Task app is not ready to "
        "accept input.' while the agent is busy (SEND-4), which is the agent's state, not a server fault; newest "
        "answers 409 instead (#23424), so 502 is a fault there.",
        expected=("2xx", "3xx", "4xx"),
        per_operation=_server_errors_allowed,
    ),
    CheckPolicy(
        "status_code_conformance",
        "on",
        "Every status must be documented in the spec (docs/contract/: all of them are).",
    ),
    CheckPolicy(
        "content_type_conformance",
        "on",
        "JSON bodies carry application/json (ROUTE-8); the bodiless 202/204 answers declare no content, so no type.",
    ),
    CheckPolicy(
        "response_headers_conformance", "on", "Headers the spec declares (e.g. WWW-Authenticate on 401) must be there."
    ),
    CheckPolicy(
        "response_schema_conformance", "on", "Bodies must match the schemas the spec encodes (SCHEMA-1 to SCHEMA-9)."
    ),
    CheckPolicy(
        "negative_data_rejection",
        "on",
        "Invalid requests must be refused with Coder's statuses: 400 (bad JSON, name or q: ERR-3, NAME-1, QUERY-8), "
        "401 (credentials, AUTH-6), 404 (the {task} resolver runs before the body is read, ROUTE-2), 429 (rate limit).",
        expected=("400", "401", "404", "429"),
    ),
    CheckPolicy(
        "positive_data_acceptance",
        "scoped",
        "Valid requests must be accepted. Per operation, the statuses the schema cannot rule out: a generated "
        "{task} that is a phantom id or a task the run deleted answers 404 (our aimed_target check makes that "
        "exact per case); sendTaskInput answers the level's busy-app status while the agent is still busy with "
        "the previous input (502, 409 at newest, SEND-4). At newest, pauseTask and resumeTask cases share a task "
        "of their own, so one may meet the other's build still running or a workspace already running (409). "
        "createTask must answer 201: generated bodies get the target's template version and a fresh run name, "
        "so no state (unknown template, duplicate name) can refuse them. The q pattern and the input patterns "
        "of the spec admit only values the server accepts, so listTasks and updateTaskInput have no 400 here. "
        "Each entry holds at every mount of the level (getTask and getTaskV2 alike).",
        expected=("2xx",),
        per_operation=_accepted,
    ),
    CheckPolicy(
        "missing_required_header",
        "on",
        "Applies to required header parameters; the spec declares none besides credentials, which are sent by "
        "the guarded session rather than generated (generated tokens would outrank it, AUTH-4).",
    ),
    CheckPolicy(
        "unsupported_method",
        "off",
        "Replaced by our unsupported_method_status: Coder's chi router answers an undeclared method with 405 "
        "(ROUTE-4). chi v5.2 (Coder's go.mod in 2026) adds an Allow header per served method, older chi releases "
        "none, and the chi version of every level is not pinned down, so Allow is not required (the built-in check "
        "requires it, RFC 9110).",
    ),
    CheckPolicy(
        "allow_header_conformance",
        "on",
        "Runs on answers that carry Allow: when Coder sends one (chi v5.2, ROUTE-4) it must list real methods.",
    ),
    CheckPolicy(
        "use_after_free",
        "on",
        "Coder's DELETE answers 202 but soft-deletes at once (deleted_at set before the answer; GET then 404, "
        "DELETE-1), so a 2xx read after a 2xx DELETE is a real fault. Needs a scenario: it runs in the stateful tests.",
    ),
    CheckPolicy(
        "ensure_resource_availability",
        "on",
        "A task just created must be readable through every link (GET-1). Runs in the stateful tests.",
    ),
    CheckPolicy(
        "ignored_auth",
        "scoped",
        "On, run once per operation per session like `schemathesis run` does (ignored_auth_once), not after every "
        "2xx: each run sends one probe without credentials plus one per declared credential carrier.",
        configured=False,
    ),
    CheckPolicy(
        "object_level_authorization",
        "off",
        "Needs schemathesis' multi-identity WFC auth (tokens in a file, identities tried by escalation). The same "
        "property (RBAC-2: B gets 404 for A's task) is asserted by test_conformance.py::"
        "test_user_b_cannot_read_user_a_tasks, which replays generated reads of A's tasks with B's session.",
    ),
    CheckPolicy(
        "max_response_time",
        "off",
        "Opt-in in schemathesis; response times are not part of the contract and a shared CI host is noisy.",
    ),
    CheckPolicy(
        "unsupported_method_status",
        "ours",
        "An undeclared method on a task route answers 405 (chi, ROUTE-4), or 401/403 before routing, 429 "
        "when throttled, and 404 when the path names no live task (the {user}/{task} resolvers are middleware "
        "that run before chi dispatches on the method); the Allow header is not required.",
        configured=False,
    ),
    CheckPolicy(
        "aimed_target",
        "ours",
        "A {task} that cannot exist (a phantom uuid) or that this run deleted answers 404 (TASKREF-3); a live task of "
        "the run never answers 404 to its owner.",
        configured=False,
    ),
)

# Generation and phase settings that decide what the checks see, with the reason (rendered into docs/checks.md).
SETTINGS_NOTES: tuple[tuple[str, str], ...] = (
    ("generation.mode = all", "Positive and negative cases for every operation."),
    (
        "generation.with-security-parameters = false",
        "Credentials come from the guarded session of the user a test speaks for. Generated ones would be sent "
        "as well, and a generated cookie outranks the real header (AUTH-4), so every request would be a 401.",
    ),
    (
        "generation.allow-x00 = false",
        "Coder stores prompts and names in PostgreSQL text columns, which cannot hold U+0000: a NUL answers 500 "
        "(pq: invalid byte sequence for encoding UTF8). No clause covers it, so generated strings leave "
        "NUL out and every finding stays about the contract.",
    ),
    ("phases = examples, coverage, fuzzing", "All three for test_conformance; max-examples (fuzzing) per profile."),
    (
        "phases.stateful.inference.algorithms = []",
        "Only the document's explicit links: with a list operation in the document, schemathesis' inferred links "
        "sent DELETE to tasks the run had not created, and made runs flaky (FlakyStrategyDefinition).",
    ),
    (
        "aiming (aiming.py)",
        "Before sending, every {user} becomes user A (me, username or id) and every {task} a task of this run or "
        "an id that cannot exist; create bodies get the target's template version and a run-prefixed name. A "
        "read keeps a generated path value its schema rejects (a negative case); a write whose only invalid part "
        "was its path is not sent (aiming would make it a repeat of a valid case). Valid creates beyond the "
        "profile's budget are not sent. A valid body stays valid for what Coder and the task app do with it "
        "(aim_body, in the conformance test, the link walk and the state machine alike): an extra key Go's "
        "decoder folds onto a field is dropped (ERR-5), and a whitespace-only send, which AgentAPI refuses "
        "(SEND-5), gets a visible character.",
    ),
    (
        "probe transport",
        "ignored_auth re-sends a case without session and auth (schemathesis' send_probe drops both); those "
        "requests go through the guarded credential-less session instead of a fresh, unguarded one.",
    ),
)


def checks_config(level: Level | str = levels.DEFAULT) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ``[checks]`` table and the per-operation ``[[operations]]`` entries for schemathesis at ``level``, from
    :data:`CHECKS`. A per-operation entry is repeated for the operation's id at every mount of the level (the
    same handlers answer at /api/experimental/tasks and /api/v2/tasks, ROUTE-1)."""
    chosen = levels.get(level) if isinstance(level, str) else level
    global_checks: dict[str, Any] = {}
    per_operation: dict[str, dict[str, Any]] = {}
    for policy in CHECKS:
        if policy.state == "ours" or policy.name == "max_response_time":
            continue
        enabled = policy.state != "off" and policy.configured
        entry: dict[str, Any] = {"enabled": enabled}
        if policy.expected:
            entry["expected-statuses"] = list(policy.expected)
        global_checks[policy.name] = entry
        for base_id, statuses in policy.statuses(chosen).items():
            for prefix in chosen.prefixes:
                per_operation.setdefault(operation_id(base_id, prefix), {})[policy.name] = {
                    "enabled": enabled,
                    "expected-statuses": list(statuses),
                }
    operations = [{"include-operation-id": op, "checks": checks} for op, checks in per_operation.items()]
    return global_checks, operations
