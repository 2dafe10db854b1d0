"""Loads the OpenAPI document into schemathesis and configures it for the target: checks, phases, generation,
output sanitization, and a transport that keeps schemathesis' own re-sends behind the write guard.

The check table :data:`CHECKS` is the single source of which schemathesis checks run, where, and why; the
configuration handed to schemathesis and ``docs/checks.md`` (``checks_doc.py``) are both built from it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.config._output import DEFAULT_KEYS_TO_SANITIZE
from schemathesis.core.transport import Response
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.schemas import OpenApiSchema
from schemathesis.transport.requests import REQUESTS_TRANSPORT, RequestsTransport

from coder_tasks_contract import levels, options, profiles
from coder_tasks_contract.levels import Level

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SPEC = PROJECT_ROOT / "spec" / "coder-tasks.yaml"

# Names in the spec's operationId set (HOUSE_STYLE: stable, readable operationIds). These are the ids at
# /api/experimental/tasks; the same operation at /api/v2/tasks carries the suffix V2 (levels.operation_id).
LIST, CREATE, GET, DELETE, UPDATE_INPUT, SEND, LOGS = (
    "listTasks",
    "createTask",
    "getTask",
    "deleteTask",
    "updateTaskInput",
    "sendTaskInput",
    "getTaskLogs",
)
PAUSE, RESUME = levels.PAUSE_OPERATIONS  # newest only (§8)
OPERATION_IDS = (LIST, CREATE, GET, DELETE, UPDATE_INPUT, SEND, LOGS)

#: Statuses per base operationId at a level; every mount's operationId gets the same (``checks_config``).
StatusTable = Callable[[Level], Mapping[str, tuple[str, ...]]]

# The defaults match `token` and `session` as substrings already; Coder's three token carriers are listed by name
# anyway so the intent survives a change of schemathesis' defaults (setting the list replaces the defaults, so
# they are kept). §7.1: cookie `coder_session_token`, header `Coder-Session-Token`, query `access_token`.
SANITIZED_KEYS = (*DEFAULT_KEYS_TO_SANITIZE, "coder-session-token", "coder_session_token", "access_token")


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
    """sendTaskInput may answer the level's busy-app status when that is a 5xx (502 before #23424, §3.6)."""
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
    """positive_data_acceptance per operation at ``level``: send adds the level's busy-app status (§3.6)."""
    busy = {SEND: (str(level.send_app_not_ready.status),)}
    return {op: _ACCEPTED[op] + busy.get(op, ()) for op in level.operations}


CHECKS: tuple[CheckPolicy, ...] = (
    CheckPolicy(
        "not_a_server_error",
        "scoped",
        "On everywhere. Before newest, sendTaskInput also accepts 502: Coder answers 502 'Task app is not ready to "
        "accept input.' while the agent is busy (§3.6), which is the agent's state, not a server fault; newest "
        "answers 409 instead (#23424), so 502 is a fault there.",
        expected=("2xx", "3xx", "4xx"),
        per_operation=_server_errors_allowed,
    ),
    CheckPolicy("status_code_conformance", "on", "Every status must be documented in the spec (§3: all of them are)."),
    CheckPolicy(
        "content_type_conformance",
        "on",
        "JSON bodies carry application/json (§1); the bodiless 202/204 answers declare no content, so no type.",
    ),
    CheckPolicy(
        "response_headers_conformance", "on", "Headers the spec declares (e.g. WWW-Authenticate on 401) must be there."
    ),
    CheckPolicy("response_schema_conformance", "on", "Bodies must match the §5 schemas the spec encodes."),
    CheckPolicy(
        "negative_data_rejection",
        "on",
        "Invalid requests must be refused with Coder's statuses: 400 (bad JSON, bad name, bad q, §1.1/§3.2/§6), "
        "401 (credentials, §7.3), 404 (the {task} resolver runs before the body is read, §1), 429 (rate limit).",
        expected=("400", "401", "404", "429"),
    ),
    CheckPolicy(
        "positive_data_acceptance",
        "scoped",
        "Valid requests must be accepted. Per operation, the statuses the schema cannot rule out: a generated "
        "{task} that is a phantom id or a task the run deleted answers 404 (our aimed_target check makes that "
        "exact per case); sendTaskInput answers the level's busy-app status while the agent is still busy with "
        "the previous input (502, 409 at newest, §3.6). At newest, pauseTask and resumeTask cases share a task "
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
        "the guarded session rather than generated (generated tokens would outrank it, §7.1).",
    ),
    CheckPolicy(
        "unsupported_method",
        "off",
        "Replaced by our unsupported_method_status: Coder's chi router answers an undeclared method with 405 and "
        "no Allow header (§1, inferred), which the built-in check fails on (it requires Allow, RFC 9110).",
    ),
    CheckPolicy(
        "allow_header_conformance",
        "on",
        "Runs on OPTIONS answers that carry Allow; Coder sends none (§1, inferred), so it only bites if one appears.",
    ),
    CheckPolicy(
        "use_after_free",
        "on",
        "Coder's DELETE answers 202 but soft-deletes at once (deleted_at set before the answer; GET then 404, "
        "§3.4), so a 2xx read after a 2xx DELETE is a real fault. Needs a scenario: it runs in the stateful tests.",
    ),
    CheckPolicy(
        "ensure_resource_availability",
        "on",
        "A task just created must be readable through every link (§3.3). Runs in the stateful tests.",
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
        "property (§7.5: B gets 404 for A's task) is asserted by test_conformance.py::"
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
        "An undeclared method on a task route answers 405 (chi, §1, inferred), or 401/403 before routing, 429 "
        "when throttled, and 404 when the path names no live task (the {user}/{task} resolvers are middleware "
        "that run before chi dispatches on the method); the Allow header is not required.",
        configured=False,
    ),
    CheckPolicy(
        "aimed_target",
        "ours",
        "A {task} that cannot exist (a phantom uuid) or that this run deleted answers 404 (§2.2); a live task of "
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
        "as well, and a generated cookie outranks the real header (§7.1), so every request would be a 401.",
    ),
    (
        "generation.allow-x00 = false",
        "Coder stores prompts and names in PostgreSQL text columns, which cannot hold U+0000: a NUL answers 500 "
        "(pq: invalid byte sequence for encoding UTF8). Outside the behaviour note, so generated strings leave "
        "NUL out and every finding stays about the contract.",
    ),
    ("phases = examples, coverage, fuzzing", "All three for test_conformance; max-examples (fuzzing) per profile."),
    (
        "phases.stateful.inference.algorithms = []",
        "Only the document's explicit links: inferred links once sent DELETE to tasks the run had not created "
        "(SCHEMATHESIS_NOTES pitfall 2).",
    ),
    (
        "aiming (aiming.py)",
        "Before sending, every {user} becomes user A (me, username or id) and every {task} a task of this run or "
        "an id that cannot exist; create bodies get the target's template version and a run-prefixed name. A "
        "read keeps a generated path value its schema rejects (a negative case); a write whose only invalid part "
        "was its path is not sent (aiming would make it a repeat of a valid case). Valid creates beyond the "
        "profile's budget are not sent.",
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
    same handlers answer at /api/experimental/tasks and /api/v2/tasks, §8)."""
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
                per_operation.setdefault(levels.operation_id(base_id, prefix), {})[policy.name] = {
                    "enabled": enabled,
                    "expected-statuses": list(statuses),
                }
    operations = [{"include-operation-id": op, "checks": checks} for op, checks in per_operation.items()]
    return global_checks, operations


def build_config(
    *, base_url: str, request_timeout: float, seed: int | None = None, level: Level | str = levels.DEFAULT
) -> SchemathesisConfig:
    """The whole schemathesis configuration at ``level``, built in code (no ``schemathesis.toml`` is discovered or
    needed)."""
    global_checks, operations = checks_config(level)
    data: dict[str, Any] = {
        "base-url": base_url.rstrip("/"),
        "request-timeout": request_timeout,
        "output": {"sanitization": {"enabled": True, "keys-to-sanitize": list(SANITIZED_KEYS)}},
        "generation": {
            # Positive and negative cases for every operation.
            "mode": "all",
            # Credentials come from the guarded session; generated ones would be sent too and, as a cookie,
            # outrank the real header (§7.1), turning every request into a 401.
            "with-security-parameters": False,
            # Coder keeps prompts and names in PostgreSQL text columns, which cannot hold U+0000: a NUL answers 500
            # ("pq: invalid byte sequence for encoding UTF8: 0x00"). That is outside the behaviour note, so the
            # generated strings leave NUL out and every other finding stays about the contract (docs/checks.md).
            "allow-x00": False,
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            # Only the document's explicit links: inferred links once sent DELETEs to tasks the run had not
            # created (SCHEMATHESIS_NOTES pitfall 2); the guard would refuse them, the links must not exist.
            "stateful": {"enabled": True, "inference": {"algorithms": []}},
        },
        "checks": global_checks,
        "operations": operations,
    }
    if seed is not None:
        data["seed"] = seed
    return SchemathesisConfig.from_dict(data)


class _GuardedProbeTransport(RequestsTransport):
    """schemathesis' requests transport, but a request sent without a session goes through ``fallback``.

    ``ignored_auth`` (and ``object_level_authorization``) re-send a case through ``send_probe``, which drops
    ``session`` and ``auth`` from the call's keyword arguments (schemathesis/specs/openapi/_auth_retry.py,
    ``build_retry_transport_kwargs``): they would go out on a fresh, unguarded ``requests.Session``. The fallback
    is the guarded session without credentials, so those probes are guarded, paced and recorded like the rest.
    """

    def __init__(self, fallback: requests.Session) -> None:
        super().__init__()
        # Serializers are registered on schemathesis' module-level transport; share them, do not copy a snapshot.
        self._serializers = REQUESTS_TRANSPORT._serializers
        self._fallback = fallback

    def send(self, case: Case[Any], *, session: requests.Session | None = None, **kwargs: Any) -> Response:
        return super().send(case, session=session if session is not None else self._fallback, **kwargs)


def load(
    spec: Path,
    *,
    level: Level | str,
    base_url: str,
    request_timeout: float,
    probe_session: requests.Session,
    seed: int | None = None,
) -> OpenApiSchema:
    """Load the document of ``level`` (``spec`` with the level's overlays, ``levels.build_spec``) for ``base_url``;
    requests sent without a session (check probes) use ``probe_session``."""
    if not spec.is_file():
        raise FileNotFoundError(f"OpenAPI document not found: {spec} (pass --spec PATH)")
    config = build_config(base_url=base_url, request_timeout=request_timeout, seed=seed, level=level)
    schema = schemathesis.openapi.from_dict(levels.build_spec(level, base=spec), config=config)
    transport = _GuardedProbeTransport(probe_session)
    # `BaseSchema.transport` is a property returning schemathesis' module-level transport; a subclass per load
    # overrides it. `clone()` (used by the pytest integration for every test) keeps `self.__class__`.
    guarded = type(
        "GuardedOpenApiSchema",
        (type(schema),),
        {"transport": property(lambda self: transport), "__module__": __name__},
    )
    schema.__class__ = guarded
    return schema


def spec_path(config: pytest.Config) -> Path:
    """The document to test: --spec / CODER_TASKS_SPEC, else ``spec/coder-tasks.yaml`` of the project."""
    chosen = options.resolve(config, "coder_spec")
    if chosen:
        path = Path(chosen)
        return path if path.is_absolute() else config.invocation_params.dir / path
    rooted = config.rootpath / "spec" / "coder-tasks.yaml"
    return rooted if rooted.is_file() else DEFAULT_SPEC


@dataclass(frozen=True)
class RunSeed:
    """How the generated cases of this run can be had again: the profile, and the seed unless derandomized."""

    profile: str
    seed: int | None

    def reproduce(self) -> str:
        if self.seed is None:
            return (
                f"Generated cases are derandomized (Hypothesis profile {self.profile!r}): "
                f"rerun with HYPOTHESIS_PROFILE={self.profile} to get the same ones."
            )
        return (
            f"Hypothesis seed {self.seed} (profile {self.profile!r}): rerun with "
            f"HYPOTHESIS_PROFILE={self.profile} pytest ... --hypothesis-seed={self.seed} to get the same cases."
        )


_SEED_KEY = pytest.StashKey[RunSeed]()


def run_seed(config: pytest.Config) -> RunSeed:
    """The seed of this run's generated tests, chosen once per session (shared by conformance and stateful)."""
    if _SEED_KEY not in config.stash:
        profiles.ensure_registered()
        profile = profiles.current_name()
        seed: int | None = None
        if not profiles.is_deterministic():
            given = config.getoption("hypothesis_seed", None)
            seed = int(given) if given is not None else random.SystemRandom().getrandbits(32)
        config.stash[_SEED_KEY] = RunSeed(profile, seed)
    return config.stash[_SEED_KEY]


def load_for(
    config: pytest.Config,
    *,
    level: Level | str,
    base_url: str,
    request_timeout: float,
    probe_session: requests.Session,
) -> OpenApiSchema:
    """:func:`load` with the spec, seed and profile of this pytest run, for the target's contract ``level``."""
    return load(
        spec_path(config),
        level=level,
        base_url=base_url,
        request_timeout=request_timeout,
        probe_session=probe_session,
        seed=run_seed(config).seed,
    )


def report_line(config: pytest.Config, text: str) -> None:
    """Print one line to the terminal from a fixture's teardown (pytest captures output there otherwise)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    if capture is None:
        reporter.write_line(text)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(text)
