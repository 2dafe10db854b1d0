"""Authentication on every operation: the 401 bodies, every token transport, their precedence, and CSRF (AUTH-1 to
AUTH-15, CSRF-1 to CSRF-3).

Real tokens are held as ``Secret`` and revealed only inside ``_send``, which returns the response alone: no test
frame, assertion message or exception text can carry a token (URLs are never compared: a query token is in them).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import pytest

from coder_tasks_contract.spec.levels import Level
from coder_tasks_contract.spec.vocabulary import PAUSE_OPERATIONS
from coder_tasks_contract.target.model import Target, User
from coder_tasks_contract.target.secret import Secret
from coder_tasks_contract.transport.paths import TASKS, task_path
from coder_tasks_contract.transport.task_pool import SharedTask
from coder_tasks_contract.transport.task_registry import TaskRegistry

from .support import (
    CSRF_MISMATCH_PREFIX,
    CSRF_MISSING,
    NO_TOKEN_DETAIL,
    OPERATIONS,
    SIGNED_OUT,
    WRITE_OPERATIONS,
    assert_error,
    assert_not_found,
    assert_plain_text,
    assert_status,
    json_body,
    only_at,
    operation_request,
)

FORMAT = "Invalid API key format: "
_ALNUM = string.ascii_lowercase + string.digits


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


class CredentialsFailed(Exception):
    """Sending failed; the original error is withheld because its request carried a token."""


def _send(
    client: httpx.Client,
    method: str,
    path: str,
    credentials: Sequence[tuple[str, Secret]],
    **kwargs: Any,
) -> httpx.Response:
    """Send one request with each token placed where its transport says (AUTH-1): ``cookie``, ``query``
    (coder_session_token), ``access_token`` (query), ``header:<Name>``, ``authorization:<prefix>``."""
    error = None
    try:
        return _send_revealed(client, method, path, credentials, **kwargs)
    except Exception as exc:  # the message may quote the URL, and with it a query token
        text = str(exc)
        for _, token in credentials:
            text = text.replace(token.reveal(), "****") if token.reveal() else text
        error = f"{type(exc).__name__}: {text}"
    # Raised outside the except block, so no traceback frame or chained exception holds a revealed token.
    raise CredentialsFailed(error)


def _send_revealed(
    client: httpx.Client, method: str, path: str, credentials: Sequence[tuple[str, Secret]], **kwargs: Any
) -> httpx.Response:
    headers: dict[str, str] = dict(kwargs.pop("headers", {}))
    params: dict[str, str] = dict(kwargs.pop("params", {}))
    for transport, token in credentials:
        if transport == "cookie":
            # A Cookie header, not the client's cookie jar: nothing outlives this one request.
            headers["Cookie"] = f"coder_session_token={token.reveal()}"
        elif transport == "query":
            params["coder_session_token"] = token.reveal()
        elif transport == "access_token":
            params["access_token"] = token.reveal()
        elif transport.startswith("header:"):
            headers[transport.removeprefix("header:")] = token.reveal()
        elif transport.startswith("authorization:"):
            # An empty token leaves "Bearer " with a trailing space, which HTTP does not allow in a field value.
            headers["Authorization"] = (transport.removeprefix("authorization:") + token.reveal()).rstrip()
        else:
            raise ValueError(f"unknown transport {transport!r}")
    return client.request(method, path, headers=headers, params=params or None, **kwargs)


def _wrong_secret(user: User) -> Secret:
    """User A's real key id (the part before '-') with a made-up secret of the right length (AUTH-8)."""
    return Secret(user.token.reveal().split("-", 1)[0] + "-" + _random(22))


def _assert_signed_out(response: httpx.Response, detail: str) -> None:
    """AUTH-6, AUTH-10: 401, the signed-out message with ``detail``, and a ``WWW-Authenticate: Bearer ...`` header."""
    assert_error(response, 401, SIGNED_OUT, detail)
    challenge = response.headers.get("www-authenticate", "")
    assert challenge.startswith("Bearer"), f"WWW-Authenticate: {challenge!r}"
    assert 'error="invalid_token"' in challenge, f"WWW-Authenticate: {challenge!r}"


def _operation_params(status: int) -> list[Any]:
    """One pytest.param per operation of every level (pause and resume: newest, PAUSE-1), marked with the operation and
    ``status`` (and ``writes`` for writes); tests skip the operations their level lacks (``_served``)."""
    params = []
    for operation in (*OPERATIONS, *PAUSE_OPERATIONS):
        marks = [pytest.mark.operation(operation, status)]
        if operation in WRITE_OPERATIONS or operation in PAUSE_OPERATIONS:
            marks.append(pytest.mark.writes)
        params.append(pytest.param(operation, id=operation, marks=marks))
    return params


# --- 401 without a usable token ----------------------------------------------------------------------------------


def _served(level: Level, operation: str) -> None:
    """Skip an operation the level does not serve (pause and resume before the newest level)."""
    only_at(level, operation in level.operations, "pause and resume arrived after v2.31 (#21889, #21948; PAUSE-1)")


@pytest.mark.parametrize("operation", _operation_params(401))
def test_no_token_answers_401_signed_out(
    anonymous_client: httpx.Client, registry: TaskRegistry, level: Level, operation: str, prefix: str
) -> None:
    """AUTH-6: a request without any token answers 401 with the signed-out message, the "must be provided" detail
    and a ``WWW-Authenticate: Bearer`` challenge, on every operation (authentication runs before anything else),
    through every mount (ROUTE-1)."""
    _served(level, operation)
    method, path, kwargs = operation_request(operation, "me", registry.phantom_id(), prefix=prefix)
    _assert_signed_out(anonymous_client.request(method, path, **kwargs), NO_TOKEN_DETAIL)


BAD_TOKENS = [
    pytest.param(lambda user: Secret("notatoken"), FORMAT + "incorrect amount of API key parts, expected 2 got 1",
                 id="one-part"),
    pytest.param(lambda user: Secret(f"{_random(10)}-{_random(11)}-{_random(10)}"),
                 FORMAT + "incorrect amount of API key parts, expected 2 got 3", id="three-parts"),
    pytest.param(lambda user: Secret(f"{_random(3)}-{_random(22)}"),
                 FORMAT + "invalid API key ID length, expected 10 got 3", id="short-key-id"),
    pytest.param(lambda user: Secret(f"{_random(10)}-{_random(5)}"),
                 FORMAT + "invalid API key secret length, expected 22 got 5", id="short-secret"),
    # A made-up id of the right shape: no key has it (a 36^10 space; a collision would be a lottery win).
    pytest.param(lambda user: Secret(f"{_random(10)}-{_random(22)}"), "API key is invalid.", id="unknown-key-id"),
    pytest.param(_wrong_secret, "API key secret is invalid.", id="wrong-secret"),
]  # fmt: skip


@pytest.mark.parametrize(("make_token", "detail"), BAD_TOKENS)
@pytest.mark.parametrize("operation", _operation_params(401))
def test_bad_token_answers_401_with_its_detail(
    anonymous_client: httpx.Client,
    target: Target,
    registry: TaskRegistry,
    level: Level,
    operation: str,
    make_token: Callable[[User], Secret],
    detail: str,
) -> None:
    """AUTH-5, AUTH-7, AUTH-8: a token of the wrong shape (each of the three shape errors), with an unknown key id, or
    with the wrong secret for a real key id answers 401 with the signed-out message and that case's detail."""
    _served(level, operation)
    method, path, kwargs = operation_request(operation, "me", registry.phantom_id())
    response = _send(anonymous_client, method, path, [("header:Coder-Session-Token", make_token(target.user_a))],
                     **kwargs)  # fmt: skip
    _assert_signed_out(response, detail)


# --- Every transport works (AUTH-1) ---------------------------------------------------------------------------------

TRANSPORTS = [
    pytest.param("header:Coder-Session-Token", id="header"),
    pytest.param("header:coder-session-token", id="header-lower-case"),
    pytest.param("header:CODER-SESSION-TOKEN", id="header-upper-case"),
    pytest.param("query", id="query-coder_session_token"),
    pytest.param("authorization:Bearer ", id="bearer"),
    pytest.param("authorization:bearer ", id="bearer-lower-case"),
    pytest.param("authorization:BEARER ", id="bearer-upper-case"),
    pytest.param("authorization:Bearer   ", id="bearer-extra-spaces"),
    pytest.param("access_token", id="query-access_token"),
]


@pytest.mark.operation("listTasks", 200)
@pytest.mark.parametrize("transport", [*TRANSPORTS, pytest.param("cookie", id="cookie")])
def test_every_transport_authenticates_a_read(
    anonymous_client: httpx.Client, target: Target, active_task: SharedTask, transport: str
) -> None:
    """AUTH-1: the token is accepted from the cookie, either query parameter, the Coder-Session-Token header in any
    case, and ``Authorization: Bearer`` (prefix in any case, spaces trimmed): the list answers 200 as user A."""
    response = _send(anonymous_client, "GET", TASKS, [(transport, target.user_a.token)])
    assert_status(response, 200)
    tasks = json_body(response)["tasks"]
    assert active_task.id in {task["id"] for task in tasks}, "the list is not user A's"


@pytest.mark.operation("deleteTask", 404)
@pytest.mark.writes
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_transport_authenticates_a_write(
    anonymous_client: httpx.Client, target: Target, registry: TaskRegistry, transport: str
) -> None:
    """AUTH-1, CSRF-2: without a cookie no CSRF rule applies, so each transport authenticates a DELETE, which then
    reaches the task resolver: a task id that matches nothing answers the 404 not-found body, not 401 or 400."""
    response = _send(anonymous_client, "DELETE", task_path("me", registry.phantom_id()),
                     [(transport, target.user_a.token)])  # fmt: skip
    assert_not_found(response)


# --- Precedence: the first present, non-empty source wins (AUTH-4, AUTH-2) ----------------------------------------

# Sources in the order the server reads them.
ORDER = ["cookie", "query", "header:Coder-Session-Token", "authorization:Bearer ", "access_token"]
NAMES = ["cookie", "query", "header", "bearer", "access_token"]
PAIRS = [
    pytest.param(ORDER[high], ORDER[low], id=f"{NAMES[high]}-over-{NAMES[low]}")
    for high in range(len(ORDER))
    for low in range(high + 1, len(ORDER))
]


@pytest.mark.operation("listTasks", 401)
@pytest.mark.parametrize(("first", "later"), PAIRS)
def test_an_invalid_token_in_an_earlier_source_wins_over_a_valid_later_one(
    anonymous_client: httpx.Client, target: Target, first: str, later: str
) -> None:
    """AUTH-4: the token is read from the first source present (cookie, query coder_session_token,
    Coder-Session-Token, Authorization Bearer, access_token); a malformed one there answers 401 with its own detail
    although a valid token sits in a later source. (GET, so the cookie meets no CSRF rule.)"""
    response = _send(anonymous_client, "GET", TASKS, [(first, Secret("notatoken")), (later, target.user_a.token)])
    _assert_signed_out(response, FORMAT + "incorrect amount of API key parts, expected 2 got 1")


@pytest.mark.operation("listTasks", 200)
@pytest.mark.parametrize(("first", "later"), PAIRS)
def test_an_empty_earlier_source_is_skipped(
    anonymous_client: httpx.Client, target: Target, first: str, later: str
) -> None:
    """AUTH-2: a source that is present but empty does not count: the valid token in a later source is used (200)."""
    response = _send(anonymous_client, "GET", TASKS, [(first, Secret("")), (later, target.user_a.token)])
    assert_status(response, 200)


# --- CSRF on cookie-authenticated writes (CSRF-1) ------------------------------------------------------------------


def _write_params() -> list[Any]:
    """The writes of every level: the four of 82f525baf3, then pause and resume (newest, PAUSE-1)."""
    writes = [operation for operation in OPERATIONS if operation in WRITE_OPERATIONS] + list(PAUSE_OPERATIONS)
    return [
        pytest.param(operation, id=operation, marks=[pytest.mark.operation(operation, 400), pytest.mark.writes])
        for operation in writes
    ]


def _csrf_request(registry: TaskRegistry, level: Level, operation: str, prefix: str) -> tuple[str, str, dict[str, Any]]:
    """The write under test at mount ``prefix``; skips pause and resume at levels that do not serve them."""
    _served(level, operation)
    return operation_request(operation, "me", registry.phantom_id(), prefix)


@pytest.mark.parametrize("operation", _write_params())
def test_cookie_only_write_fails_the_csrf_check(
    anonymous_client: httpx.Client, target: Target, registry: TaskRegistry, level: Level, operation: str, prefix: str
) -> None:
    """CSRF-1: a POST, PATCH or DELETE authenticated only by the ``coder_session_token`` cookie answers 400
    text/plain "Something is wrong with your CSRF token..." on every write of the level, through every mount (ROUTE-1)
    (writes go to a task id matching nothing, create sends an empty body: even a server without the rule changes
    nothing)."""
    method, path, kwargs = _csrf_request(registry, level, operation, prefix)
    response = _send(anonymous_client, method, path, [("cookie", target.user_a.token)], **kwargs)
    assert_plain_text(response, 400, CSRF_MISSING)


@pytest.mark.parametrize("operation", _write_params())
def test_cookie_and_a_different_header_fail_with_the_mismatch_text(
    anonymous_client: httpx.Client, target: Target, registry: TaskRegistry, level: Level, operation: str, prefix: str
) -> None:
    """CSRF-3: a cookie write whose Coder-Session-Token header holds a different value answers 400 text/plain
    "CSRF error encountered. ... the values do not match. ...", on every write of the level, through every
    mount."""
    method, path, kwargs = _csrf_request(registry, level, operation, prefix)
    other = Secret(f"{_random(10)}-{_random(22)}")
    response = _send(anonymous_client, method, path,
                     [("cookie", target.user_a.token), ("header:Coder-Session-Token", other)], **kwargs)  # fmt: skip
    assert_plain_text(response, 400, CSRF_MISMATCH_PREFIX, prefix=True)


@pytest.mark.operation("deleteTask", 404)
@pytest.mark.writes
@pytest.mark.parametrize(
    "companion",
    [
        pytest.param("header:Coder-Session-Token", id="matching-header"),
        pytest.param("query", id="matching-query"),
        pytest.param("authorization:Bearer ", id="bearer-header"),
    ],
)
def test_cookie_write_with_a_matching_token_passes_the_csrf_check(
    anonymous_client: httpx.Client, target: Target, registry: TaskRegistry, companion: str
) -> None:
    """CSRF-2: the CSRF rule does not apply when the cookie comes with the same token in the Coder-Session-Token
    header or coder_session_token query parameter, or with an Authorization Bearer header: the DELETE reaches the
    task resolver (404 not-found body for a task id matching nothing)."""
    response = _send(anonymous_client, "DELETE", task_path("me", registry.phantom_id()),
                     [("cookie", target.user_a.token), (companion, target.user_a.token)])  # fmt: skip
    assert_not_found(response)
