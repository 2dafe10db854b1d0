"""Checks that the target is usable before any test runs; each failure is one line naming what to pass instead.

The calls here are the only non-task endpoints the suite reads: ``GET /api/v2/buildinfo`` (is it Coder, which
version) and ``GET /api/v2/users/me`` (is each token valid, whose is it). Whether --template-version-id names a
template with a ``coder_ai_task`` cannot be asked without another endpoint, so it is checked at the first create
(see :func:`template_problem`).
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from coder_tasks_contract.spec.vocabulary import NOT_AN_AI_TEMPLATE
from coder_tasks_contract.target.model import User
from coder_tasks_contract.target.secret import Secret
from coder_tasks_contract.transport import paths
from coder_tasks_contract.transport.guard import GuardRefused


class PreflightError(Exception):
    """The target cannot be tested; the message is one line saying why and what to pass instead."""


def _one_line(text: object, limit: int = 160) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _is_tls_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        text = str(seen)
        if "SSL" in text or "TLS" in text or "CERTIFICATE" in text.upper():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def describe_transport_error(exc: Exception, base_url: str, what: str, timeout: float) -> str:
    """One line for an exception raised while talking to the target."""
    if isinstance(exc, GuardRefused):
        return _one_line(exc)
    if isinstance(exc, httpx.TimeoutException):
        return (
            f"no answer from {base_url} within {timeout:g}s ({what}): check --base-url and that the deployment is "
            f"up, or raise --request-timeout"
        )
    if _is_tls_error(exc):
        return (
            f"TLS handshake with {base_url} failed ({_one_line(exc)}): check the scheme and port in --base-url "
            f"(http:// vs https://) and that the certificate is trusted (SSL_CERT_FILE)"
        )
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {base_url} ({_one_line(exc) or 'connection refused'}): check --base-url"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return (
            f"{base_url} broke the connection ({what}: {_one_line(exc) or type(exc).__name__}): is --base-url "
            f"a Coder deployment?"
        )
    return f"request to {base_url} failed ({what}): {type(exc).__name__}: {_one_line(exc)}"


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _server_message(response: httpx.Response) -> str:
    body = _json(response)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return _one_line(body["message"], 100)
    content_type: str = response.headers.get("content-type", "no content type")
    return content_type


def check_buildinfo(client: httpx.Client, base_url: str, timeout: float) -> str:
    """The server version from ``GET /api/v2/buildinfo``; PreflightError if it is not a Coder server."""
    what = f"GET {paths.BUILDINFO}"
    try:
        response = client.get(paths.BUILDINFO)
    except (httpx.HTTPError, GuardRefused) as exc:
        raise PreflightError(describe_transport_error(exc, base_url, what, timeout)) from None
    if response.status_code == 429:
        raise PreflightError(f"{base_url} keeps rate limiting the suite ({what} answered 429): retry later")
    if response.status_code >= 500:
        raise PreflightError(
            f"{base_url} is failing: {what} answered {response.status_code} ({_server_message(response)}); "
            f"retry later or check --base-url"
        )
    body = _json(response)
    version = body.get("version") if isinstance(body, dict) else None
    if response.status_code != 200 or not isinstance(version, str) or not version:
        if response.status_code != 200:
            seen = f"answered {response.status_code}"
        elif body is None:
            seen = f"answered {response.headers.get('content-type') or 'something'} that is not JSON"
        else:
            seen = "answered JSON without a version"
        raise PreflightError(
            f"{base_url} is not a Coder server ({what} {seen}): pass the deployment root as --base-url, "
            f"e.g. https://coder.example.com"
        )
    return version


def check_user(client: httpx.Client, base_url: str, flag: str, timeout: float) -> dict[str, Any]:
    """``GET /api/v2/users/me`` with the token of ``flag``; PreflightError if the token is rejected."""
    what = f"GET {paths.USERS_ME} with {flag}"
    try:
        response = client.get(paths.USERS_ME)
    except (httpx.HTTPError, GuardRefused) as exc:
        raise PreflightError(describe_transport_error(exc, base_url, what, timeout)) from None
    if response.status_code in (401, 403):
        raise PreflightError(
            f"{flag} was rejected by {base_url} ({response.status_code}: {_server_message(response)}): pass a valid "
            f"session token of an ordinary member (coder login, then coder tokens create)"
        )
    body = _json(response)
    if response.status_code != 200 or not isinstance(body, dict) or not body.get("id") or not body.get("username"):
        raise PreflightError(
            f"{what} answered {response.status_code} without a user ({_server_message(response)}): "
            f"is --base-url a Coder deployment?"
        )
    return body


def _site_roles(me: dict[str, Any]) -> tuple[str, ...]:
    roles = me.get("roles")
    if not isinstance(roles, list):
        return ()
    return tuple(str(role.get("name")) for role in roles if isinstance(role, dict) and role.get("name"))


def check_users(
    make_client: Any,
    base_url: str,
    token_a: Secret | None,
    token_b: Secret | None,
    timeout: float,
) -> tuple[User, User | None]:
    """Resolve users A and B from their tokens; they must be valid, distinct people, in a common organization."""
    if not token_a:
        raise PreflightError(
            f"no session token for {base_url}: pass --session-token (or set CODER_SESSION_TOKEN) of an ordinary "
            f"member of the deployment"
        )
    if token_b is not None and token_b == token_a:
        raise PreflightError(
            "--second-session-token is the same token as --session-token: pass the token of a second member "
            "of the same organization (or leave it out to skip the isolation tests)"
        )
    me_a = check_user(make_client(token_a), base_url, "--session-token", timeout)
    user_a = User(str(me_a["username"]), str(me_a["id"]), token_a, _site_roles(me_a))
    if token_b is None:
        return user_a, None
    me_b = check_user(make_client(token_b), base_url, "--second-session-token", timeout)
    user_b = User(str(me_b["username"]), str(me_b["id"]), token_b, _site_roles(me_b))
    if user_b.id == user_a.id:
        raise PreflightError(
            f"--second-session-token belongs to the same user ({user_a.username}) as --session-token: pass the "
            f"token of a second member of the same organization"
        )
    orgs_a, orgs_b = me_a.get("organization_ids"), me_b.get("organization_ids")
    if isinstance(orgs_a, list) and isinstance(orgs_b, list) and orgs_a and orgs_b and not set(orgs_a) & set(orgs_b):
        raise PreflightError(
            f"{user_a.username} and {user_b.username} share no organization: pass --second-session-token of a "
            f"member of {user_a.username}'s organization"
        )
    return user_a, user_b


TEMPLATE_NOT_FOUND = "Template version not found"


def template_problem(status: int, message: str, template_version_id: str, base_url: str) -> str | None:
    """One line if a create failed because --template-version-id is unusable (CREATE-3, CREATE-4), else None."""
    if status != 400:
        return None
    if message.startswith(TEMPLATE_NOT_FOUND):
        return (
            f"--template-version-id {template_version_id} is unknown on {base_url} or not readable by the user "
            f"(create answered 400 {_one_line(message, 100)!r}): pass the id of a template version user A can use"
        )
    if message == NOT_AN_AI_TEMPLATE:
        return (
            f"--template-version-id {template_version_id} has no coder_ai_task resource (create answered 400): "
            f"pass a template version of a Tasks template (and this one as --non-task-template-version-id)"
        )
    return None
