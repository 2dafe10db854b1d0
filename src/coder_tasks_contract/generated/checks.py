"""This suite's own schemathesis checks, and the one place a generated case is sent and validated.

Every generated request (conformance and stateful) goes out through :meth:`Sender.send`: on the guarded session of
the user it speaks for, with that session's auth passed explicitly, so that schemathesis' ``ignored_auth`` knows the
credentials are real (it calls credentials it cannot trace "generated" and fails every 2xx otherwise).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import requests
from schemathesis.checks import CheckContext
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.generation.case import Case
from schemathesis.generation.meta import CoverageScenario, coverage_scenario
from schemathesis.specs.openapi.checks import ignored_auth as _builtin_ignored_auth

from coder_tasks_contract.generated.aiming import Aim, Aimed

CheckFunction = Callable[[CheckContext, Response, Case[Any]], "bool | None"]

# 401/403: authentication runs before routing (ROUTE-11); 429: the limiter runs before everything.
_BEFORE_ROUTING = frozenset({401, 403, 429})


def unsupported_method_status(aimed: Aimed | None) -> CheckFunction:
    """A check: an undeclared method is answered 405 (chi, ROUTE-4), without requiring an ``Allow`` header (chi v5.2
    sends one per served method, older releases none; the chi version of each level is not pinned down).

    404 is accepted when the path names no live task of the run: Coder resolves ``{user}`` and ``{task}`` in
    middleware of the route group, before chi dispatches on the method (ROUTE-11, inferred).
    """

    def unsupported_method_status(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
        if coverage_scenario(case) != CoverageScenario.UNSPECIFIED_HTTP_METHOD:
            return None
        method = str(response.request.method).upper()
        if method == "OPTIONS":
            return None  # CORS preflight handling is the deployment's (proxy, CORS settings), not the task API's
        if response.status_code == 405 or response.status_code in _BEFORE_ROUTING:
            return None
        if response.status_code == 404 and (aimed is None or aimed.absent):
            return None
        raise AssertionError(
            f"Unsupported method {method} answered {response.status_code}, expected 405 Method Not Allowed "
            "(Coder's router, ROUTE-4; an Allow header is not required)"
        )

    return unsupported_method_status


def aimed_target(aimed: Aimed) -> CheckFunction:
    """A check bound to one aimed case: a task that cannot exist answers 404; a live one of ours never does."""

    def aimed_target(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
        if aimed.probe or response.status_code in _BEFORE_ROUTING:
            return None
        if aimed.absent and response.status_code != 404:
            what = "a task this run deleted" if aimed.task is not None else "a phantom id (no task has it)"
            raise AssertionError(
                f"{case.method} {case.formatted_path} addresses {what} and answered {response.status_code}; "
                "a task that does not exist, or was deleted, must answer 404 (TASKREF-3)"
            )
        if aimed.task is not None and not aimed.absent and response.status_code == 404:
            raise AssertionError(
                f"{case.method} {case.formatted_path} addresses a live task this run created and answered 404; "
                "the owner's own task must be found by id and by name (TASKREF-2)"
            )
        return None

    return aimed_target


def ignored_auth_once(enforced: set[str]) -> CheckFunction:
    """schemathesis' ``ignored_auth``, probing each operation once per session as ``schemathesis run`` does.

    In pytest mode schemathesis passes no shared memo, so the built-in check re-probes after every 2xx: one request
    without credentials and one per declared credential carrier (four or five here) each time.
    """

    def ignored_auth(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
        ctx.auth_enforced_operations = enforced
        return _builtin_ignored_auth(ctx, response, case)

    return ignored_auth


def add_note(exc: BaseException, note: str) -> None:
    """PEP 678 note (Python 3.11+), with the same effect on 3.10's exceptiongroup backport."""
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    else:  # pragma: no cover - Python 3.10
        exc.__notes__ = [*getattr(exc, "__notes__", []), note]  # type: ignore[attr-defined]


@dataclass
class Sender:
    """Sends generated cases for one user through the guard and validates the answers."""

    session: requests.Session
    # Printed with every failure: how to get the same cases again.
    reproduce: str
    enforced: set[str] = field(default_factory=set)
    aim: Aim | None = None
    requests_sent: int = 0

    @property
    def transport_kwargs(self) -> dict[str, Any]:
        # `auth` marks the credentials as explicit for ignored_auth; the session's own auth hook adds the same
        # header, so it is sent once either way.
        return {"session": self.session, "auth": self.session.auth}

    def call(self, case: Case[Any], **kwargs: Any) -> Response:
        """Send ``case`` as this sender's user (through the guard); count it."""
        response = case.call(**{**self.transport_kwargs, **kwargs})
        self.requests_sent += 1
        return response

    def send(
        self,
        case: Case[Any],
        *,
        aimed: Aimed | None = None,
        recorder: ScenarioRecorder | None = None,
        extra_checks: Iterable[CheckFunction] = (),
    ) -> Response:
        """Send ``case`` and run every enabled check plus ours; a failure carries the seed and how to rerun."""
        __tracebackhide__ = True
        response = self.call(case)
        if aimed is not None and self.aim is not None:
            self.aim.record(aimed, case.method, response.status_code, _json(response))
        checks: list[CheckFunction] = [
            unsupported_method_status(aimed),
            ignored_auth_once(self.enforced),
            *extra_checks,
        ]
        if aimed is not None:
            checks.append(aimed_target(aimed))
        try:
            case.validate_response(
                response, additional_checks=checks, transport_kwargs=self.transport_kwargs, recorder=recorder
            )
        except FailureGroup as exc:
            add_note(exc, self.reproduce)
            raise
        return response


def _json(response: Response) -> Any:
    try:
        return json.loads(response.content or b"null")
    except (ValueError, UnicodeDecodeError):
        return None
