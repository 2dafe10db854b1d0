"""Every command-line option, its environment fallback and its default, declared in one table.

Resolution order for each option: command line > environment variable > default. The environment names
follow the coder CLI (``CODER_URL``, ``CODER_SESSION_TOKEN``), so a shell set up for ``coder`` works unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest


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


OPTIONS: tuple[Option, ...] = (
    Option(
        "--base-url",
        "CODER_URL",
        "Coder deployment root, scheme://host[:port]. Absent: the embedded reference server is started and used.",
        metavar="URL",
    ),
    Option(
        "--session-token",
        "CODER_SESSION_TOKEN",
        'Session token of an ordinary member of the deployment ("user A").',
        metavar="TOKEN",
        secret=True,
    ),
    Option(
        "--second-session-token",
        "CODER_SECOND_SESSION_TOKEN",
        'Session token of another ordinary member of the same organization ("user B"); enables isolation tests.',
        metavar="TOKEN",
        secret=True,
    ),
    Option(
        "--template-version-id",
        "CODER_TEMPLATE_VERSION_ID",
        "Template version whose template has a coder_ai_task resource; enables tests that create tasks.",
        metavar="UUID",
    ),
    Option(
        "--non-task-template-version-id",
        "CODER_NON_TASK_TEMPLATE_VERSION_ID",
        "Template version whose template has no coder_ai_task resource; enables the 400 test for it.",
        metavar="UUID",
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
        "Send only GET requests: no task is created, changed or deleted (default: off).",
        metavar="BOOL",
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
    ),
    Option(
        "--reports-dir",
        "CODER_TASKS_REPORTS_DIR",
        "Folder for junit.xml, report.html and the coverage ledger (default: reports/).",
        metavar="DIR",
        default="reports",
    ),
    Option(
        "--coder-version",
        "CODER_TASKS_CODER_VERSION",
        "Contract level to judge the target by, instead of detecting it from /api/v2/buildinfo.",
        metavar="LEVEL",
    ),
)

BY_DEST: dict[str, Option] = {option.dest: option for option in OPTIONS}


def add_options(parser: pytest.Parser) -> None:
    """Declare the ``coder`` option group on pytest's parser."""
    group = parser.getgroup("coder", "Coder Tasks API contract")
    for option in OPTIONS:
        env_note = f" [env: {option.env}]"
        group.addoption(
            option.flag,
            dest=option.dest,
            metavar=option.metavar,
            default=None,
            choices=option.choices,
            help=option.help + env_note,
        )


def resolve(config: pytest.Config, dest: str) -> Any:
    """Value of one option: command line, then environment, then default; parsed, or a UsageError."""
    option = BY_DEST[dest]
    raw = config.getoption(dest)
    source = option.flag
    if raw is None:
        raw = os.environ.get(option.env) or None
        source = option.env
    if raw is None:
        return option.default
    try:
        return option.parse(raw)
    except ValueError as exc:
        shown = "****" if option.secret else repr(raw)
        raise pytest.UsageError(f"{source}={shown}: {exc}") from None
