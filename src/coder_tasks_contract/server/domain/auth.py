"""Authentication as Coder does it (AUTH-1 to AUTH-15, CSRF-1 to CSRF-3): where the token is read from, its format, the
401 bodies with their ``WWW-Authenticate`` header, and the CSRF rule for cookie-authenticated writes.

Works on plain values (header lists, raw query pairs, the Cookie header) so it does not depend on Starlette.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SESSION_COOKIE = "coder_session_token"
SESSION_HEADER = "Coder-Session-Token"
SESSION_QUERY = "coder_session_token"
ACCESS_TOKEN_QUERY = "access_token"
SIGNED_OUT = "You are signed out or your session has expired. Please sign in again to continue."
NO_TOKEN_DETAIL = f'Cookie "{SESSION_COOKIE}" or query parameter must be provided.'
# nosurf checks every method but these (CSRF-1); the comparison is exact, as Go keeps the method as sent.
CSRF_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_TEXT = (
    "Something is wrong with your CSRF token. Please refresh the page. If this error persists, try clearing your "
    "cookies."
)
CSRF_MISMATCH_TEXT = (
    f'CSRF error encountered. Authentication via "{SESSION_COOKIE}" cookie and "{SESSION_HEADER}" header detected, '
    "but the values do not match. To resolve this issue ensure the values used in both match, or only use one of "
    "the authentication methods. You can also try clearing your cookies if this error persists."
)


class AuthFailure(Exception):
    """Authentication failed: 401 with ``SIGNED_OUT`` as message and ``detail``."""

    def __init__(self, detail: str, *, expired: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.expired = expired


@dataclass(frozen=True)
class RequestCredentials:
    """The parts of a request that can carry a token (first value wins everywhere, as in Go)."""

    cookie: str | None  # first ``coder_session_token`` cookie with a valid value, or None
    query_token: str | None  # first ``coder_session_token`` query value
    header_token: str | None  # first ``Coder-Session-Token`` header
    authorization: str | None  # first ``Authorization`` header
    access_token: str | None  # first ``access_token`` query value


def _valid_cookie_value_byte(ch: str) -> bool:
    code = ord(ch)
    return 0x20 <= code < 0x7F and ch not in '";\\'


def cookie_value(cookie_headers: Sequence[str], name: str) -> str | None:
    """``r.Cookie(name)``: the first cookie called ``name`` across the Cookie headers, with surrounding quotes
    removed; cookies with invalid value bytes are skipped, as Go's parser drops them."""
    for header in cookie_headers:
        for part in header.split(";"):
            key, sep, value = part.strip().partition("=")
            if not sep or key != name:
                continue
            if len(value) > 1 and value[0] == '"' and value[-1] == '"':
                value = value[1:-1]
            if all(_valid_cookie_value_byte(ch) for ch in value):
                return value
    return None


def first(values: Sequence[str]) -> str | None:
    """Go's ``Get``: the first value, or None."""
    return values[0] if values else None


def extract_token(creds: RequestCredentials) -> str | None:
    """The token Coder authenticates with: first non-empty of cookie, query ``coder_session_token``,
    ``Coder-Session-Token`` header, ``Authorization: Bearer``, query ``access_token`` (AUTH-1)."""
    for candidate in (creds.cookie, creds.query_token, creds.header_token):
        if candidate:
            return candidate
    if creds.authorization and creds.authorization[:7].lower() == "bearer ":
        bearer = creds.authorization[7:].strip()
        if bearer:
            return bearer
    if creds.access_token:
        return creds.access_token
    return None


def split_token(token: str) -> tuple[str, str]:
    """``SplitAPIToken``: ``(key id, secret)`` of a ``<10 chars>-<22 chars>`` token, else ``AuthFailure`` with
    Coder's format detail (AUTH-5). Lengths are in bytes, as in Go."""
    parts = token.split("-")
    if len(parts) != 2:
        raise AuthFailure(f"Invalid API key format: incorrect amount of API key parts, expected 2 got {len(parts)}")
    key_id, secret = parts
    key_len = len(key_id.encode("utf-8", "surrogatepass"))
    if key_len != 10:
        raise AuthFailure(f"Invalid API key format: invalid API key ID length, expected 10 got {key_len}")
    secret_len = len(secret.encode("utf-8", "surrogatepass"))
    if secret_len != 22:
        raise AuthFailure(f"Invalid API key format: invalid API key secret length, expected 22 got {secret_len}")
    return key_id, secret


def www_authenticate(access_url: str, *, expired: bool = False) -> str:
    """The ``WWW-Authenticate`` value Coder sets on every 401/403 from the API key check (AUTH-10)."""
    description = "The access token has expired" if expired else "The access token is invalid"
    return (
        f'Bearer realm="coder", error="invalid_token", error_description="{description}", '
        f'resource_metadata="{access_url}/.well-known/oauth-protected-resource"'
    )


def csrf_refusal(method: str, creds: RequestCredentials) -> str | None:
    """The plain-text 400 body when the CSRF check refuses the request, else None (CSRF-1).

    Every method but GET, HEAD, OPTIONS and TRACE is checked when a session cookie is sent. Exempt: a
    ``Coder-Session-Token`` header or ``coder_session_token`` query value equal to the cookie, or an
    ``Authorization: Bearer`` header. This fake issues no CSRF tokens, so an ``X-CSRF-TOKEN`` header is never valid.
    """
    if method in CSRF_SAFE_METHODS or creds.cookie is None:
        return None
    if (creds.header_token or "") == creds.cookie or (creds.query_token or "") == creds.cookie:
        return None
    if creds.authorization and creds.authorization[:7].lower() == "bearer ":
        return None
    if creds.header_token and creds.header_token != creds.cookie:
        return CSRF_MISMATCH_TEXT
    return CSRF_TEXT
