"""Faults in authentication (AUTH): a token not required, the wrong status for a bad one, a transport ignored, the
order of the sources changed, the challenge header missing, CSRF not enforced (or enforced on reads).

Not realisable here: a server matching the ``Coder-Session-Token`` header name case-sensitively. uvicorn hands the
app lower-cased header names (HTTP/1.1 header names are case-insensitive, AUTH-3), so no ASGI app can tell
``coder-session-token`` from ``Coder-Session-Token``; the prefix of ``Authorization: Bearer``, which the server does
see as sent, stands in for it (:func:`bearer_prefix_case_sensitive`).
"""

from __future__ import annotations

from dataclasses import replace

from starlette.responses import Response
from starlette.types import ASGIApp

from coder_tasks_contract.faults.asgi import Incoming, Reply, RequestRewrite, is_task_route, serve
from coder_tasks_contract.faults.base import fault
from coder_tasks_contract.server.api.middleware import text_error
from coder_tasks_contract.server.domain.auth import CSRF_TEXT, SESSION_COOKIE, AuthFailure
from coder_tasks_contract.server.domain.entities import User
from coder_tasks_contract.server.domain.world import World

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _has_credentials(request: Incoming) -> bool:
    query_keys = {key for key, _ in request.query_pairs()}
    return bool(
        request.cookie(SESSION_COOKIE) is not None
        or {"coder_session_token", "access_token"} & query_keys
        or request.header("coder-session-token") is not None
        or request.header("authorization") is not None
    )


@fault("auth", "tests/test_auth.py::test_no_token_answers_401_signed_out", ci=True)
def missing_token_accepted(world: World) -> ASGIApp:
    """A task request with no token anywhere is served as the first ordinary member (AUTH-6: no token anywhere
    answers 401 with the signed-out message and ``Cookie "coder_session_token" or query parameter must be
    provided.``)."""
    member = next(user for user in world.users.values() if not user.is_owner)
    token = world.issue_token(member)

    def rewrite(request: Incoming) -> Incoming | None:
        if is_task_route(request.path) and not _has_credentials(request):
            return request.with_header("coder-session-token", token)
        return None

    return serve(world, request=rewrite)


@fault("auth", "tests/test_auth.py::test_no_token_answers_401_signed_out", ci=True)
def bad_token_answers_403(world: World) -> ASGIApp:
    """Authentication failures on the task routes answer 403, not 401 (AUTH-6, AUTH-7, AUTH-8: no token, an unknown
    key id and a wrong secret answer 401; only a wrong-audience OAuth2 token is 403, AUTH-12)."""

    def rewrite(reply: Reply) -> Reply | None:
        return replace(reply, status=403) if reply.status == 401 and is_task_route(reply.request.path) else None

    return serve(world, response=rewrite)


@fault("auth", "tests/test_auth.py::test_no_token_answers_401_signed_out")
def www_authenticate_missing(world: World) -> ASGIApp:
    """401 answers on the task routes carry no ``WWW-Authenticate`` header (AUTH-10: every 401 and 403 from the API
    key check sets ``WWW-Authenticate: Bearer realm="coder", error="invalid_token", ...``)."""

    def rewrite(reply: Reply) -> Reply | None:
        if reply.status in (401, 403) and is_task_route(reply.request.path):
            return reply.with_header("www-authenticate", None)
        return None

    return serve(world, response=rewrite)


def _drop(transport: str) -> RequestRewrite:
    """A request rewrite that removes one token transport from task requests."""

    def rewrite(request: Incoming) -> Incoming | None:
        if not is_task_route(request.path):
            return None
        if transport == "authorization":
            return request.without_header("authorization")
        return request.without_query(transport)

    return rewrite


@fault("auth", "tests/test_auth.py::test_every_transport_authenticates_a_read[bearer]")
def bearer_transport_ignored(world: World) -> ASGIApp:
    """``Authorization: Bearer <token>`` is not read (AUTH-1, the fourth transport)."""
    return serve(world, request=_drop("authorization"))


@fault("auth", "tests/test_auth.py::test_every_transport_authenticates_a_read[query-access_token]")
def access_token_query_ignored(world: World) -> ASGIApp:
    """The ``access_token`` query parameter is not read (AUTH-1, the fifth transport)."""
    return serve(world, request=_drop("access_token"))


@fault("auth", "tests/test_auth.py::test_every_transport_authenticates_a_read[query-coder_session_token]")
def session_token_query_ignored(world: World) -> ASGIApp:
    """The ``coder_session_token`` query parameter is not read (AUTH-1, the second transport)."""
    return serve(world, request=_drop("coder_session_token"))


@fault("auth", "tests/test_auth.py::test_every_transport_authenticates_a_read[bearer-lower-case]")
def bearer_prefix_case_sensitive(world: World) -> ASGIApp:
    """Only the exact prefix ``Bearer `` is read; ``bearer ``/``BEARER `` are ignored (AUTH-3: the prefix
    is case-insensitive)."""

    def rewrite(request: Incoming) -> Incoming | None:
        value = request.header("authorization")
        if is_task_route(request.path) and value is not None and not value.startswith("Bearer "):
            return request.without_header("authorization")
        return None

    return serve(world, request=rewrite)


@fault(
    "auth",
    "tests/test_auth.py::test_an_invalid_token_in_an_earlier_source_wins_over_a_valid_later_one[cookie-over-header]",
    ci=True,
)
def header_beats_cookie(world: World) -> ASGIApp:
    """With both a ``coder_session_token`` cookie and a ``Coder-Session-Token`` header, the header is used (AUTH-1,
    AUTH-4: the cookie comes first, so an invalid cookie plus a valid header gives 401)."""

    def rewrite(request: Incoming) -> Incoming | None:
        if is_task_route(request.path) and request.cookie(SESSION_COOKIE) and request.header("coder-session-token"):
            return request.without_header("cookie")
        return None

    return serve(world, request=rewrite)


@fault("auth", "tests/test_auth.py::test_an_empty_earlier_source_is_skipped[header-over-bearer]")
def empty_header_not_skipped(world: World) -> ASGIApp:
    """A present but empty ``Coder-Session-Token`` header is taken as the token (and fails its format check)
    instead of being skipped (AUTH-2: the first source that is present *and non-empty* is used)."""

    def rewrite(request: Incoming) -> Incoming | None:
        if is_task_route(request.path) and request.header("coder-session-token") == "":
            # A blank (not empty) value: the reference server then reads it, and refuses it as Go would refuse "".
            return request.with_header("coder-session-token", " ")
        return None

    return serve(world, request=rewrite)


@fault("auth", "tests/test_auth.py::test_cookie_only_write_fails_the_csrf_check", ci=True)
def csrf_not_enforced(world: World) -> ASGIApp:
    """Cookie-authenticated POST, PATCH and DELETE pass without a matching header (CSRF-1: they answer 400
    text/plain "Something is wrong with your CSRF token...")."""

    def rewrite(request: Incoming) -> Incoming | None:
        cookie = request.cookie(SESSION_COOKIE)
        if is_task_route(request.path) and request.method in UNSAFE and cookie:
            # Without the check the cookie simply authenticates (it is the first source, AUTH-1).
            return request.with_header("coder-session-token", cookie)
        return None

    return serve(world, request=rewrite)


@fault("auth", "tests/test_auth.py::test_every_transport_authenticates_a_read[cookie]")
def csrf_on_reads(world: World) -> ASGIApp:
    """Cookie-authenticated GETs are refused with the CSRF text (CSRF-2: the check applies only to POST, PATCH and
    DELETE; a cookie authenticates a read)."""

    def rewrite(request: Incoming) -> Incoming | Response | None:
        cookie_only = request.header("coder-session-token") is None and request.header("authorization") is None
        if is_task_route(request.path) and request.method == "GET" and request.cookie(SESSION_COOKIE) and cookie_only:
            return text_error(400, CSRF_TEXT)
        return None

    return serve(world, request=rewrite)


class _SecretNotChecked(World):
    def authenticate(self, token: str) -> User:
        try:
            return super().authenticate(token)
        except AuthFailure as failure:
            if failure.detail != "API key secret is invalid.":
                raise
            key = self.api_keys[token.split("-", 1)[0]]
            return self.users[key.user_id]


@fault("auth", "tests/test_auth.py::test_bad_token_answers_401_with_its_detail[listTasks-wrong-secret]")
def wrong_secret_accepted(world: World) -> ASGIApp:
    """A token with a real key id and the wrong secret authenticates as the key's user (AUTH-8: wrong secret answers
    401 ``API key secret is invalid.``)."""
    return serve(world, rules=_SecretNotChecked)
