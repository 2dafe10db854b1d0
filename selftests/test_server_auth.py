"""The reference server's authentication pieces (AUTH-1 to AUTH-10, CSRF-1 to CSRF-3): token transports and precedence,
format checks, the WWW-Authenticate value, CSRF; and the Go formats the error texts depend on."""

from __future__ import annotations

import pytest

from coder_tasks_contract.server.domain.auth import (
    CSRF_MISMATCH_TEXT,
    CSRF_TEXT,
    AuthFailure,
    RequestCredentials,
    cookie_value,
    csrf_refusal,
    extract_token,
    split_token,
    www_authenticate,
)
from coder_tasks_contract.server.golang.gofmt import (
    UUIDError,
    go_json,
    go_parse_query,
    go_quote,
    parse_uuid,
    routing_path,
)

GOOD = "abcdefghij-" + "k" * 22


def creds(**kwargs: str | None) -> RequestCredentials:
    fields: dict[str, str | None] = dict.fromkeys(
        ("cookie", "query_token", "header_token", "authorization", "access_token"), None
    )
    fields.update(kwargs)
    return RequestCredentials(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param({"cookie": "c", "query_token": "q", "header_token": "h"}, "c", id="cookie-first"),
        pytest.param({"cookie": "", "query_token": "q", "header_token": "h"}, "q", id="empty-cookie-skipped"),
        pytest.param({"query_token": "q", "header_token": "h"}, "q", id="query-before-header"),
        pytest.param({"header_token": "h", "authorization": "Bearer b"}, "h", id="header-before-bearer"),
        pytest.param({"authorization": "bEaReR   b  ", "access_token": "a"}, "b", id="bearer-any-case-trimmed"),
        pytest.param({"authorization": "Basic x", "access_token": "a"}, "a", id="non-bearer-ignored"),
        pytest.param({"access_token": "a"}, "a", id="access-token-last"),
        pytest.param({}, None, id="none"),
    ],
)
def test_token_precedence(kwargs: dict[str, str], expected: str | None) -> None:
    """AUTH-1: cookie, query coder_session_token, header, Authorization Bearer, query access_token."""
    assert extract_token(creds(**kwargs)) == expected


@pytest.mark.parametrize(
    ("token", "detail"),
    [
        ("abc", "incorrect amount of API key parts, expected 2 got 1"),
        ("a-b-c", "incorrect amount of API key parts, expected 2 got 3"),
        ("abc-" + "k" * 22, "invalid API key ID length, expected 10 got 3"),
        ("abcdefghij-short", "invalid API key secret length, expected 22 got 5"),
    ],
)
def test_token_format(token: str, detail: str) -> None:
    """AUTH-5: any other shape fails with Coder's format detail."""
    with pytest.raises(AuthFailure) as failure:
        split_token(token)
    assert failure.value.detail == "Invalid API key format: " + detail


def test_well_formed_token_splits() -> None:
    """AUTH-5: lengths are counted in bytes, as in Go: "é" is two bytes, so 9 characters make a 10-byte id."""
    assert split_token(GOOD) == ("abcdefghij", "k" * 22)
    assert split_token("abcdefghé-" + "k" * 22) == ("abcdefghé", "k" * 22)
    with pytest.raises(AuthFailure, match="expected 10 got 11"):
        split_token("abcdefghié-" + "k" * 22)


def test_www_authenticate_value() -> None:
    """AUTH-10: the header names the realm, the error and the resource metadata URL."""
    assert www_authenticate("http://h:1") == (
        'Bearer realm="coder", error="invalid_token", error_description="The access token is invalid", '
        'resource_metadata="http://h:1/.well-known/oauth-protected-resource"'
    )
    assert 'error_description="The access token has expired"' in www_authenticate("http://h:1", expired=True)


def test_cookie_parsing_takes_the_first_valid_cookie() -> None:
    """AUTH-14: Go's r.Cookie returns the first cookie of that name; quotes are stripped; bad values skipped."""
    assert cookie_value(["a=1; coder_session_token=x", "coder_session_token=y"], "coder_session_token") == "x"
    assert cookie_value(['coder_session_token="q"'], "coder_session_token") == "q"
    assert cookie_value(["coder_session_token=a\\b; coder_session_token=ok"], "coder_session_token") == "ok"
    assert cookie_value(["other=1"], "coder_session_token") is None


@pytest.mark.parametrize(
    ("method", "kwargs", "expected"),
    [
        pytest.param("GET", {"cookie": "c"}, None, id="safe-method"),
        pytest.param("POST", {}, None, id="no-cookie"),
        pytest.param("POST", {"cookie": "c"}, CSRF_TEXT, id="cookie-only"),
        pytest.param("DELETE", {"cookie": "c", "header_token": "c"}, None, id="matching-header"),
        pytest.param("PATCH", {"cookie": "c", "query_token": "c"}, None, id="matching-query"),
        pytest.param("POST", {"cookie": "c", "authorization": "Bearer z"}, None, id="bearer"),
        pytest.param("POST", {"cookie": "c", "header_token": "d"}, CSRF_MISMATCH_TEXT, id="mismatch"),
    ],
)
def test_csrf(method: str, kwargs: dict[str, str], expected: str | None) -> None:
    """CSRF-1, CSRF-2: only cookie-authenticated unsafe requests without a matching token are refused."""
    assert csrf_refusal(method, creds(**kwargs)) == expected


# ---- Go formats -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
        ("6BA7B810-9DAD-11D1-80B4-00C04FD430C8", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
        ("6ba7b8109dad11d180b400c04fd430c8", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
        ("urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
        ("x6ba7b810-9dad-11d1-80b4-00c04fd430c8y", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
    ],
)
def test_uuid_forms_google_uuid_accepts(text: str, expected: str) -> None:
    """google/uuid.Parse accepts these forms (the 38-char form does not check its braces)."""
    assert parse_uuid(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "invalid UUID length: 3"),
        ("", "invalid UUID length: 0"),
        ("6ba7b810x9dad-11d1-80b4-00c04fd430c8", "invalid UUID format"),
        ("6ba7b810-9dad-11d1-80b4-00c04fd430cg", "invalid UUID format"),
        ("urn:uuix:6ba7b810-9dad-11d1-80b4-00c04fd430c8", 'invalid urn prefix: "urn:uuix:"'),
    ],
)
def test_uuid_errors(text: str, message: str) -> None:
    """The texts Coder shows as the bad-JSON detail (ERR-3, inferred from google/uuid)."""
    with pytest.raises(UUIDError) as caught:
        parse_uuid(text)
    assert str(caught.value) == message


def test_go_quote() -> None:
    """strconv.Quote: escapes quotes, backslashes and control characters; keeps printable Unicode."""
    assert go_quote('a"b\\c\n\x01é\u00a0') == '"a\\"b\\\\c\\n\\x01é\\u00a0"'


def test_go_json_escapes_html_and_ends_with_newline() -> None:
    """Coder's httpapi.Write: json.Encoder with HTML escaping, compact, trailing newline."""
    assert go_json({"m": "<a&b>", "n": None}) == b'{"m":"\\u003ca\\u0026b\\u003e","n":null}\n'


def test_go_query_parsing_drops_bad_pairs() -> None:
    """url.ParseQuery: '+' is a space; bad escapes and ';' pairs are dropped."""
    assert go_parse_query(b"q=a+b&x=%zz&y=1;2&q=%41") == [("q", "a b"), ("q", "A")]


def test_routing_path_uses_raw_path_for_non_canonical_escapes() -> None:
    """chi routes on URL.RawPath when the request's escaping is not Go's canonical one."""
    assert routing_path("/t/a b", b"/t/a%20b") == "/t/a b"
    assert routing_path("/t/a/b", b"/t/a%2Fb") == "/t/a%2Fb"
