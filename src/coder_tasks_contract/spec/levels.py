"""Contract levels: what differs between the Coder versions the suite can judge, in one table, and which level a
server version belongs to.

Each :class:`Level` states, for every condition whose answer changed after commit 82f525baf3 (LEVEL-2, LEVEL-3),
what a server of that level answers. Tests, the reference server and the spec builder all read these records;
none of them compares version strings. The OpenAPI document of a level is the hand-written base plus the overlays
in ``spec/levels/`` (:func:`build_spec`); ``selftests/test_levels.py`` keeps the two in agreement.

Levels (oldest first):

- ``82f``: commit 82f525baf3 (2025-11-25), the documented one: ``/api/experimental/tasks`` only.
- ``2.29``: release v2.29.0: the same handlers also at ``/api/v2/tasks``; ``display_name``; generated names lose
  their ``task-`` prefix.
- ``newest``: commit a12b05183 (2026-06-19): pause/resume, log snapshots, 409 instead of 400/502 for tasks that
  are not ready, 404 for an unknown ``{user}``, ``failed`` instead of ``failure``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from coder_tasks_contract.spec.vocabulary import (
    APP_NOT_READY,
    BASE_OPERATIONS,
    MUST_BE_ACTIVE,
    NOT_ACTIVE,
    NOT_FOUND_MESSAGE,
    PAUSE_OPERATIONS,
    UNKNOWN_USER,
    operation_id,
)
from coder_tasks_contract.transport.paths import TASKS, TASKS_V2

Version = tuple[int, int, int]


@dataclass(frozen=True)
class Refusal:
    """An error answer: status, exact ``message`` and ``detail`` (None: no detail; ``detail_stated=False``: no
    clause gives it, so it is not compared). ``{status}`` and ``{user}`` in the detail are filled by :meth:`of`."""

    status: int
    message: str
    detail: str | None = None
    detail_stated: bool = True

    def of(self, **values: str) -> Refusal:
        """This refusal with the placeholders of its detail filled in."""
        if self.detail is None:
            return self
        return replace(self, detail=self.detail.format(**values))


# AGENT-1 at 82f525baf3: every status but active is refused alike.
_MUST_BE_ACTIVE = Refusal(
    400, MUST_BE_ACTIVE, 'Task status is "{status}", it must be "active" to interact with the task.'
)
_OLD_NOT_ACTIVE = MappingProxyType({status: _MUST_BE_ACTIVE for status in NOT_ACTIVE})
# AGENT-2 (newest, #21887): the states a task passes through on its way to active are 409 with their own words.
_RESUMING = "The task is resuming. Wait for the task to become active before sending messages."
_NEWEST_SEND_NOT_ACTIVE = MappingProxyType(
    {
        "pending": Refusal(409, "Task is pending.", _RESUMING),
        "initializing": Refusal(409, "Task is initializing.", _RESUMING),
        "paused": Refusal(409, "Task is paused.", "Resume the task to send messages."),
        # AGENT-2: the message changed slightly with #21887; no clause gives the detail, so it is not compared.
        "unknown": Refusal(400, "Task must be active.", detail_stated=False),
        "error": Refusal(400, "Task must be active.", detail_stated=False),
    }
)
# LOGS-3 (newest, #21771): paused, pending and initializing answer the stored snapshot instead (not listed).
_CANNOT_FETCH_LOGS = Refusal(409, "Cannot fetch logs for task in current state.", detail_stated=False)
_NEWEST_LOGS_NOT_ACTIVE = MappingProxyType({"unknown": _CANNOT_FETCH_LOGS, "error": _CANNOT_FETCH_LOGS})

_UNKNOWN_USER_400 = Refusal(400, UNKNOWN_USER, 'queried user="{user}"')
_UNKNOWN_USER_404 = Refusal(404, NOT_FOUND_MESSAGE)

_OLD_STATES = frozenset({"working", "idle", "complete", "failed", "failure"})
_NEWEST_STATES = frozenset({"working", "idle", "complete", "failed"})


@dataclass(frozen=True)
class Level:
    """One contract level: the answers of every condition that changed after 82f525baf3 (LEVEL-3), and the server
    versions it judges (``since`` inclusive, ``until`` exclusive, None: open-ended)."""

    name: str
    title: str
    commit: str  # the commit whose behaviour the level describes (its clauses' sources)
    since: Version
    until: Version | None
    #: Task mounts; the first is the one the suite addresses by default (it exists at every level).
    prefixes: tuple[str, ...]
    #: The mount Coder's own docs describe at this level (ROUTE-1: docs moved to /api/v2/tasks with v2.29).
    documented_prefix: str
    flavour: str
    #: What the reference server reports as its version (buildinfo and X-Coder-Build-Version).
    build_version: str
    #: ``display_name`` on Task (always present) and CreateTaskRequest (trimmed, <= 64 bytes) (NAME-4, #20856).
    display_name: bool
    #: How names the server generates begin (NAME-3, #20856); a test never relies on it (an LLM may name tasks).
    generated_name_prefix: str
    #: ``POST .../{task}/pause`` and ``/resume`` -> 202 {"workspace_build": ...} (PAUSE-1, #21889/#21948/#22544).
    pause_resume: bool
    #: Task statuses whose logs answer the stored snapshot (``snapshot: true``) instead of a refusal (#21771).
    log_snapshots: frozenset[str]
    #: An unknown ``{user}`` (USER-2; 404 since #22069).
    unknown_user: Refusal
    #: send on a task that is not active, by status (AGENT-2; #21887).
    send_not_active: Mapping[str, Refusal]
    #: logs on a task that is not active, by status, for the statuses that do not answer a snapshot.
    logs_not_active: Mapping[str, Refusal]
    #: send while the AgentAPI is not ``stable`` (SEND-4; 409 since #23424, was 502).
    send_app_not_ready: Refusal
    #: ``current_state.state`` values the server may emit (STATE-3: ``failure`` at 82f, ``failed`` since #22203).
    task_states: frozenset[str]
    #: An internal error while authenticating, e.g. loading the user's roles (AUTH-13; 500 since #23352). Not
    #: reachable with the suite's tokens; here so the table is complete.
    auth_internal_error_status: int
    #: What is known to differ from this level inside its version range (shown with the detection reason).
    caveats: tuple[str, ...] = field(default=())

    @property
    def operations(self) -> tuple[str, ...]:
        """The operationIds this level serves at each of its mounts (base ids, i.e. of /api/experimental/tasks)."""
        return BASE_OPERATIONS + (PAUSE_OPERATIONS if self.pause_resume else ())

    def operation_ids(self) -> tuple[str, ...]:
        """Every operationId of the level's document: each operation at each mount."""
        return tuple(operation_id(op, prefix) for prefix in self.prefixes for op in self.operations)

    def send_refusal(self, status: str) -> Refusal:
        """How send refuses a task in ``status`` (not ``active``), detail filled in."""
        return self.send_not_active[status].of(status=status)

    def logs_refusal(self, status: str) -> Refusal | None:
        """How logs refuses a task in ``status`` (not ``active``); None: it answers the stored snapshot instead."""
        if status in self.log_snapshots:
            return None
        return self.logs_not_active[status].of(status=status)

    def unknown_user_refusal(self, user: str) -> Refusal:
        return self.unknown_user.of(user=user)

    def describe_range(self) -> str:
        upper = f" < v{_show(self.until)}" if self.until else ""
        return f"v{_show(self.since)} <= version{upper}"


def _show(version: Version) -> str:
    return ".".join(str(part) for part in version)


LEVEL_82F = Level(
    name="82f",
    title="commit 82f525baf3 (2025-11-25), the documented level: /api/experimental/tasks only",
    commit="82f525baf36a2341bc92c2f6b6a27cc565d28a08",
    since=(2, 28, 0),
    until=(2, 29, 0),
    prefixes=(TASKS,),
    documented_prefix=TASKS,
    flavour="experimental",
    build_version="v2.28.1-devel+82f525b",
    display_name=False,
    generated_name_prefix="task-",
    pause_resume=False,
    log_snapshots=frozenset(),
    unknown_user=_UNKNOWN_USER_400,
    send_not_active=_OLD_NOT_ACTIVE,
    logs_not_active=_OLD_NOT_ACTIVE,
    send_app_not_ready=Refusal(502, APP_NOT_READY, "Status: running"),
    task_states=_OLD_STATES,
    auth_internal_error_status=401,
    caveats=(
        "v2.28.x release builds predate PATCH .../input (#20811 landed on main after v2.28.0 was cut, LEVEL-1): "
        "updateTaskInput answers 404/405 there",
    ),
)

LEVEL_229 = replace(
    LEVEL_82F,
    name="2.29",
    title="release v2.29.0: the same handlers also at /api/v2/tasks, display_name, names without task-",
    commit="b255827a52",  # #20921, the promotion to /api/v2 (LEVEL-2); v2.29.0 was cut from main on 2025-12-02
    since=(2, 29, 0),
    until=(2, 32, 0),
    prefixes=(TASKS, TASKS_V2),
    documented_prefix=TASKS_V2,
    flavour="v2 + experimental alias",
    build_version="v2.29.0",
    display_name=True,
    generated_name_prefix="",
    caveats=(
        "v2.31.1 and later v2.31.x answer logs of paused, pending and initializing tasks with a snapshot "
        "(#21771 is first seen in v2.31.1, LOGS-3); judge them with --coder-version newest if that is all you need",
    ),
)

LEVEL_NEWEST = replace(
    LEVEL_229,
    name="newest",
    title="commit a12b05183 (2026-06-19): pause/resume, log snapshots, 409s, 404 for unknown users, failed",
    commit="a12b0518344dee37cf747b9a95770fbddbcecee8",
    since=(2, 32, 0),
    until=None,
    build_version="v2.34.1-devel+a12b051",
    pause_resume=True,
    log_snapshots=frozenset({"pending", "initializing", "paused"}),
    unknown_user=_UNKNOWN_USER_404,
    send_not_active=_NEWEST_SEND_NOT_ACTIVE,
    logs_not_active=_NEWEST_LOGS_NOT_ACTIVE,
    send_app_not_ready=Refusal(409, APP_NOT_READY, "Status: running", detail_stated=False),
    task_states=_NEWEST_STATES,
    auth_internal_error_status=500,
    caveats=(
        "v2.32.x was cut at v2.32.0-rc.0 (2026-03-03): failure -> failed (#22203), 409 for a busy app (#23424) "
        "and 500 for internal auth errors (#23352) came later, so a v2.32.x may still emit failure and answer 502",
    ),
)

LEVELS: tuple[Level, ...] = (LEVEL_82F, LEVEL_229, LEVEL_NEWEST)
#: The release line of the newest level's commit (LEVEL-1: 2.34 is the ESR whose docs say Tasks is deprecated).
LATEST_KNOWN_RELEASE: Version = (2, 34, 0)
BY_NAME: Mapping[str, Level] = MappingProxyType({level.name: level for level in LEVELS})
DEFAULT = LEVEL_82F


def get(name: str) -> Level:
    """The level called ``name``; ``KeyError`` naming the known levels."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"no contract level {name!r}; known: {', '.join(BY_NAME)}") from None


# ---- which level judges a server version ------------------------------------------------------------------------

_SEMVER = re.compile(
    r"^v?(?P<major>\d+)\.(?P<minor>\d+)(?:\.(?P<patch>\d+))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+(?P<build>[0-9A-Za-z.-]+))?$"
)


class LevelError(ValueError):
    """A version that no level judges, or a --coder-version value that names none; the message says what to do."""


@dataclass(frozen=True)
class Detection:
    """The level a server is judged by and why (shown in the report header)."""

    level: Level
    reason: str


def parse_version(version: str) -> tuple[Version, str, str] | None:
    """``(major, minor, patch)``, pre-release and build metadata of a Coder version string, or None."""
    found = _SEMVER.match(version.strip())
    if not found:
        return None
    numbers = (int(found["major"]), int(found["minor"]), int(found["patch"] or 0))
    return numbers, found["pre"] or "", found["build"] or ""


def detect(version: str) -> Detection:
    """The level judging a server that reports ``version`` (GET /api/v2/buildinfo); ``LevelError`` if none does.

    A build of a level's own commit (``+82f525b``, ``+a12b051``) is that level. Otherwise the release line decides
    (``v2.30.2`` and ``v2.30.2-rc.1`` alike): a ``-devel`` build of main is judged by the release it follows,
    which is only right up to the next change on main, so the reason says so.
    """
    parsed = parse_version(version)
    if parsed is None:
        raise LevelError(
            f"cannot tell which contract level server version {version!r} has (not a vMAJOR.MINOR.PATCH version): "
            f"pass --coder-version {' | '.join(BY_NAME)}"
        )
    numbers, pre, build = parsed
    commit = build.split(".")[-1].lower()
    if len(commit) >= 7 and re.fullmatch(r"[0-9a-f]+", commit):
        for level in LEVELS:
            if level.commit.startswith(commit):
                return Detection(level, f"{version} is a build of commit {level.commit[:10]}")
    release = (numbers[0], numbers[1], 0)
    for level in LEVELS:
        if level.since <= release and (level.until is None or release < level.until):
            reason = f"{version}: {level.describe_range()}"
            if "devel" in pre:
                reason += " (a main-branch build, judged by the release it follows)"
            if level.until is None and release > LATEST_KNOWN_RELEASE:
                reason += f" (newer than v{_show(LATEST_KNOWN_RELEASE)}.x, the newest level's line: judged as newest)"
            return Detection(level, reason)
    raise LevelError(
        f"server version {version} predates v{_show(LEVELS[0].since)}, the oldest level's first release: the suite "
        f"has no contract for it; pass --coder-version {' | '.join(BY_NAME)} to judge it anyway"
    )


def parse_choice(raw: str) -> str:
    """A ``--coder-version`` value: a level name, or a Coder version such as ``v2.30.1`` (judged as :func:`detect`
    would). Returns the level name; ``LevelError`` (a ValueError) says what to pass instead."""
    value = raw.strip()
    if value in BY_NAME:
        return value
    if parse_version(value) is not None:
        try:
            return detect(value).level.name
        except LevelError:
            pass
    raise LevelError(
        f"is not a contract level: pass one of {', '.join(BY_NAME)}, or a Coder version such as v2.30.1 "
        f"(v2.28.x: 82f, v2.29.0-v2.31.x: 2.29, v2.32.0 and later: newest)"
    )


def forced(name: str) -> Detection:
    """The level chosen with --coder-version."""
    return Detection(get(name), "forced by --coder-version")


# ---- the level's OpenAPI document --------------------------------------------------------------------------------


def build_spec(level: Level | str, base: Path | None = None) -> dict[str, Any]:
    """The OpenAPI document of ``level``: the hand-written base (``spec/coder-tasks.yaml``, or ``base``) with the
    overlays of ``spec/levels/`` applied (see ``spec/levels/README.md``)."""
    from coder_tasks_contract.spec import overlays  # the YAML machinery is not needed to read the table

    chosen = get(level) if isinstance(level, str) else level
    return overlays.build(chosen.name, base=base)
