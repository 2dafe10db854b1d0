"""Every command-line option, its environment fallback and its default, declared in one table.

Resolution order for each option: command line > environment variable > ini key > default. The environment names
follow the coder CLI (``CODER_URL``, ``CODER_SESSION_TOKEN``), so a shell set up for ``coder`` works unchanged. Every
option but the tokens also has an ini key named like its ``dest`` (``coder_read_only = true`` under
``[tool.pytest.ini_options]``): a token belongs in the environment, never in a committed file.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from coder_tasks_contract.plugin import ordering
from coder_tasks_contract.spec import levels
from coder_tasks_contract.target.secret import Secret


@dataclass(frozen=True)
class Option:
    """One option of the ``coder`` group: its flag, env fallback, default and how a raw string is parsed."""

    flag: str
    env: str
    help: str
    metavar: str = "VALUE"
    default: Any = None
    parse: Callable[[str], Any] = str
    choices: tuple[str, ...] | None = None
    secret: bool = False
    #: For a switch: the value the bare flag stands for (the flag then takes no argument).
    const: str | None = None

    @property
    def dest(self) -> str:
        return "coder_" + self.flag.lstrip("-").replace("-", "_")


def _positive_float(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be a whole number greater than 0")
    return value


def _flag(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("must be one of 1/0, true/false, yes/no, on/off")


def _base_url(raw: str) -> str:
    value = raw.strip()
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host, e.g. https://coder.example.com")
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise ValueError("must be the deployment root (scheme://host[:port]), without a path, query or fragment")
    try:
        _ = parts.port
    except ValueError:
        raise ValueError("has an invalid port") from None
    return f"{parts.scheme}://{parts.netloc}"


def _uuid(raw: str) -> str:
    try:
        return str(uuid.UUID(raw.strip()))
    except ValueError:
        raise ValueError("must be a UUID, e.g. 0b6d1e2c-5f3a-4c1e-9a57-2d8e4f6a7b90") from None


def _secret(raw: str) -> Secret:
    value = raw.strip()
    if not value:
        raise ValueError("is empty")
    if any(ch.isspace() for ch in value):
        raise ValueError("contains whitespace; pass the token alone")
    return Secret(value)


_LABEL_RE = re.compile(r"^[A-Za-z0-9]{1,12}$")


def _run_label(raw: str) -> str:
    # The label ends up inside task names (ctc-<label>-<n>), which must pass Coder's NameValid in 32 chars.
    if not _LABEL_RE.match(raw):
        raise ValueError("must be 1-12 ASCII letters or digits (it becomes part of task names ctc-<label>-<n>)")
    return raw.lower()


def _coverage_level(raw: str) -> int:
    # A Test Coverage Level of Martin-Lopez et al.: TCL0 (nothing) to TCL7 (every criterion, operation flows too).
    match = re.fullmatch(r"(?:tcl)?([0-7])", raw.strip().lower())
    if match is None:
        raise ValueError("must be a Test Coverage Level TCL0 to TCL7 (or its number 0-7)")
    return int(match.group(1))


def _word(raw: str) -> str:
    return raw.strip().lower()


def _coder_version(raw: str) -> str:
    # A level name, or a Coder version judged as its level would be (levels.parse_choice says what to pass).
    return levels.parse_choice(raw)


OPTIONS: tuple[Option, ...] = (
    Option(
        "--base-url",
        "CODER_URL",
        "Coder deployment root, scheme://host[:port]. Absent: the embedded reference server is started and used.",
        metavar="URL",
        parse=_base_url,
    ),
    Option(
        "--session-token",
        "CODER_SESSION_TOKEN",
        'Session token of an ordinary member of the deployment ("user A").',
        metavar="TOKEN",
        parse=_secret,
        secret=True,
    ),
    Option(
        "--second-session-token",
        "CODER_SECOND_SESSION_TOKEN",
        'Session token of another ordinary member of the same organization ("user B"); enables isolation tests.',
        metavar="TOKEN",
        parse=_secret,
        secret=True,
    ),
    Option(
        "--template-version-id",
        "CODER_TEMPLATE_VERSION_ID",
        "Template version whose template has a coder_ai_task resource; enables tests that create tasks.",
        metavar="UUID",
        parse=_uuid,
    ),
    Option(
        "--non-task-template-version-id",
        "CODER_NON_TASK_TEMPLATE_VERSION_ID",
        "Template version whose template has no coder_ai_task resource; enables the 400 test for it.",
        metavar="UUID",
        parse=_uuid,
    ),
    Option(
        "--spec",
        "CODER_TASKS_SPEC",
        "OpenAPI document to test against (default: spec/coder-tasks.yaml in the project).",
        metavar="PATH",
    ),
    Option(
        "--read-only",
        "CODER_TASKS_READ_ONLY",
        "Send only GET requests: no task is created, changed or deleted (default: off; the environment variable "
        "takes 1/0, true/false, yes/no, on/off).",
        metavar="BOOL",
        const="true",
        default=False,
        parse=_flag,
    ),
    Option(
        "--max-tasks",
        "CODER_TASKS_MAX_TASKS",
        "Most tasks one run may create; each starts a real workspace on a deployment (default: 60).",
        metavar="N",
        default=60,
        parse=_positive_int,
    ),
    Option(
        "--request-timeout",
        "CODER_TASKS_REQUEST_TIMEOUT",
        "Seconds to wait for one HTTP response (default: 30).",
        metavar="SECONDS",
        default=30.0,
        parse=_positive_float,
    ),
    Option(
        "--lifecycle-timeout",
        "CODER_TASKS_LIFECYCLE_TIMEOUT",
        "Seconds to wait for a task to become active, paused or idle (default: 600 on a deployment, 30 embedded).",
        metavar="SECONDS",
        parse=_positive_float,
    ),
    Option(
        "--rate-limit",
        "CODER_TASKS_RATE_LIMIT",
        "Most requests per minute to one endpoint; Coder allows 512 by default (default: 400 on a deployment, "
        "unlimited embedded).",
        metavar="PER_MINUTE",
        parse=_positive_int,
    ),
    Option(
        "--run-label",
        "CODER_TASKS_RUN_LABEL",
        "Short label put into the names of the tasks this run creates, after the ctc- prefix (default: random).",
        metavar="LABEL",
        parse=_run_label,
    ),
    Option(
        "--reports-dir",
        "CODER_TASKS_REPORTS_DIR",
        "Folder for junit.xml, report.html and the coverage ledger (default: reports/).",
        metavar="DIR",
        default="reports",
    ),
    Option(
        "--strict-inferred",
        "CODER_TASKS_STRICT_INFERRED",
        "Fail on a test whose cited contract clauses all rest on inferred evidence only (default: off: such a failure "
        "is reported as a contract warning and does not fail the run; see docs/contract/).",
        metavar="BOOL",
        const="true",
        default=False,
        parse=_flag,
    ),
    Option(
        "--coder-version",
        "CODER_TASKS_CODER_VERSION",
        "Contract level to judge the target by, instead of detecting it from GET /api/v2/buildinfo: "
        f"{', '.join(levels.BY_NAME)}, or a Coder version such as v2.30.1. Without --base-url, the embedded reference "
        "server emulates that level.",
        metavar="LEVEL",
        parse=_coder_version,
    ),
    Option(
        "--test-order",
        "CODER_TASKS_TEST_ORDER",
        "overlap (default): the tests that wait on workspace builds run first, so their builds overlap the shared "
        "tasks' (docs/performance.md); collected: pytest's order. The verdicts are the same in either.",
        metavar="ORDER",
        default=ordering.OVERLAP,
        parse=_word,
        choices=ordering.ORDERS,
    ),
    Option(
        "--min-coverage-level",
        "CODER_TASKS_MIN_COVERAGE_LEVEL",
        "Fail the run (exit code 12) when it reaches a lower Test Coverage Level than this, TCL0 to TCL7, of the ten "
        "REST coverage criteria in the ledger (default: no minimum; docs/reports.md).",
        metavar="TCLn",
        parse=_coverage_level,
    ),
)

BY_DEST: dict[str, Option] = {option.dest: option for option in OPTIONS}


def add_options(parser: pytest.Parser) -> None:
    """Declare the ``coder`` option group on pytest's parser."""
    group = parser.getgroup("coder", "Coder Tasks API contract")
    for option in OPTIONS:
        env_note = f" [env: {option.env}]"
        if option.const is not None:
            group.addoption(
                option.flag,
                dest=option.dest,
                action="store_const",
                const=option.const,
                default=None,
                help=option.help + env_note,
            )
            continue
        group.addoption(
            option.flag,
            dest=option.dest,
            metavar=option.metavar,
            default=None,
            choices=option.choices,
            help=option.help + env_note,
        )
    for option in OPTIONS:
        if not option.secret:
            parser.addini(option.dest, f"{option.flag}: {option.help}", default=None)


def resolve(config: pytest.Config, dest: str) -> Any:
    """Value of one option: command line, then environment, then default; parsed, or a UsageError."""
    option = BY_DEST[dest]
    raw = config.getoption(dest)
    source = option.flag
    if raw is None:
        raw = os.environ.get(option.env) or None
        source = option.env
    if raw is None and not option.secret:
        raw = config.getini(dest) or None
        source = f"ini {dest}"
    if raw is None:
        return option.default
    try:
        value = option.parse(raw)
        # argparse checks a flag's choices; the environment and ini values are checked here.
        if option.choices is not None and value not in option.choices:
            raise ValueError(f"must be one of: {', '.join(option.choices)}")
        return value
    except ValueError as exc:
        shown = "****" if option.secret else repr(raw)
        raise pytest.UsageError(f"{source}={shown}: {exc}") from None


@dataclass(frozen=True)
class Settings:
    """Every option of the run, resolved and parsed once at configure time (tokens as :class:`Secret`)."""

    base_url: str | None
    session_token: Secret | None
    second_session_token: Secret | None
    template_version_id: str | None
    non_task_template_version_id: str | None
    spec: str | None
    read_only: bool
    max_tasks: int
    request_timeout: float
    lifecycle_timeout: float | None
    rate_limit: int | None
    run_label: str | None
    reports_dir: str
    coder_version: str | None
    strict_inferred: bool = False
    min_coverage_level: int | None = None
    test_order: str = ordering.OVERLAP

    @property
    def embedded(self) -> bool:
        return self.base_url is None


# Options that describe a deployment: meaningless for the embedded server, whose own users and template
# versions are used. Passing one without --base-url is almost certainly a forgotten --base-url.
_DEPLOYMENT_ONLY = (
    "coder_session_token",
    "coder_second_session_token",
    "coder_template_version_id",
    "coder_non_task_template_version_id",
)


def load_settings(config: pytest.Config) -> Settings:
    """Resolve every option (command line > environment > default); a bad value is a one-line UsageError."""
    values = {option.dest: resolve(config, option.dest) for option in OPTIONS}
    if values["coder_base_url"] is None:
        given = [BY_DEST[dest].flag for dest in _DEPLOYMENT_ONLY if values[dest] is not None]
        if given:
            raise pytest.UsageError(
                f"{', '.join(given)} given without --base-url: pass --base-url URL of the deployment they belong to "
                f"(or drop them, and their CODER_* variables, to run against the embedded reference server)"
            )
    return Settings(
        base_url=values["coder_base_url"],
        session_token=values["coder_session_token"],
        second_session_token=values["coder_second_session_token"],
        template_version_id=values["coder_template_version_id"],
        non_task_template_version_id=values["coder_non_task_template_version_id"],
        spec=values["coder_spec"],
        read_only=values["coder_read_only"],
        max_tasks=values["coder_max_tasks"],
        request_timeout=values["coder_request_timeout"],
        lifecycle_timeout=values["coder_lifecycle_timeout"],
        rate_limit=values["coder_rate_limit"],
        run_label=values["coder_run_label"],
        reports_dir=values["coder_reports_dir"],
        coder_version=values["coder_coder_version"],
        strict_inferred=values["coder_strict_inferred"],
        min_coverage_level=values["coder_min_coverage_level"],
        test_order=values["coder_test_order"],
    )
