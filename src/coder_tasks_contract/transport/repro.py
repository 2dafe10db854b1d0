"""A request/response pair kept for failure reports, with every session token taken out, and its curl command.

The write guard hands each response of a test to :func:`capture`; the traffic recorder keeps the last few per test
(``Traffic.recent``) and ``reports/files.py`` renders them when the test fails. Redaction happens here, at capture
time, so nothing that holds a token is ever stored:

- a suite user's token becomes ``${CODER_SESSION_TOKEN}`` (user A) or ``${CODER_SECOND_SESSION_TOKEN}`` (user B),
  wherever it appears (header, cookie, query, body): the curl command then works in a shell set up for the run;
- the key id of a suite token (the part before ``-``, AUTH-5) inside a made-up token becomes
  ``${CODER_SESSION_TOKEN%%-*}``, so "known key id, wrong secret" cases stay reproducible without showing it;
- anything else shaped like a Coder API key (10 + 22 alphanumerics, AUTH-5) becomes ``<redacted>``: the suite does
  not know whose it is, so it is not shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

#: Environment variables the curl command reads the suite users' tokens from, by user position (A, B).
TOKEN_VARIABLES = ("CODER_SESSION_TOKEN", "CODER_SECOND_SESSION_TOKEN")
REDACTED = "<redacted>"
REQUEST_BODY_LIMIT = 4096
RESPONSE_BODY_LIMIT = 1024

# Coder API keys are "<10-char id>-<22-char secret>" (AUTH-5); a value of this shape the suite cannot name is hidden.
_API_KEY_SHAPE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{10}-[A-Za-z0-9]{22}(?![A-Za-z0-9])")
_PLACEHOLDER = re.compile(r"\$\{(?:" + "|".join(TOKEN_VARIABLES) + r")(?:%%-\*)?\}")
# Headers every HTTP client adds by itself: they say nothing about the failure and only lengthen the command.
_NOISE_HEADERS = frozenset({"host", "content-length", "accept-encoding", "connection", "user-agent", "accept"})
_RESPONSE_HEADERS = ("content-type", "www-authenticate", "retry-after", "location")


class _Token(Protocol):
    def reveal(self) -> str: ...


class _User(Protocol):
    @property
    def token(self) -> _Token: ...


@dataclass(frozen=True)
class Sample:
    """One request of a test and the answer to it, redacted (see the module docstring)."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: str
    body_truncated: bool
    status: int
    response_headers: tuple[tuple[str, str], ...]
    response_body: str
    response_truncated: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "headers": [list(pair) for pair in self.headers],
            "body": self.body,
            "body_truncated": self.body_truncated,
            "status": self.status,
            "response_headers": [list(pair) for pair in self.response_headers],
            "response_body": self.response_body,
            "response_truncated": self.response_truncated,
        }


def _placeholder(position: int, *, key_id_only: bool = False) -> str:
    if position >= len(TOKEN_VARIABLES):
        return REDACTED  # the suite has two users; a third token would have no variable to come from
    return "${" + TOKEN_VARIABLES[position] + ("%%-*}" if key_id_only else "}")


class Redactor:
    """Replaces the suite users' tokens (and anything token-shaped) in text; see the module docstring."""

    def __init__(self, tokens: Sequence[str]) -> None:
        # Whole tokens first, then key ids: a key id is a prefix of its token.
        self._replacements: list[tuple[str, str]] = []
        for position, token in enumerate(tokens):
            if token:
                self._replacements.append((token, _placeholder(position)))
        for position, token in enumerate(tokens):
            key_id = token.split("-", 1)[0] if "-" in token else ""
            if len(key_id) >= 6:  # a shorter id would also match ordinary words
                self._replacements.append((key_id, _placeholder(position, key_id_only=True)))

    @classmethod
    def for_users(cls, users: Iterable[_User]) -> Redactor:
        return cls([user.token.reveal() for user in users])

    def __call__(self, text: str) -> str:
        for secret, placeholder in self._replacements:
            text = text.replace(secret, placeholder)
        return _API_KEY_SHAPE.sub(REDACTED, text)

    def __repr__(self) -> str:
        return f"<Redactor of {len(self._replacements)} values>"


def _excerpt(raw: bytes, limit: int) -> tuple[str, bool]:
    text = raw[:limit].decode("utf-8", errors="replace")
    return text, len(raw) > limit


def capture(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    status: int,
    response_header: Any,
    response_body: bytes,
    redact: Redactor,
) -> Sample:
    """A redacted :class:`Sample` of one exchange; ``response_header(name)`` reads a response header or None."""
    request_text, request_cut = _excerpt(body, REQUEST_BODY_LIMIT)
    response_text, response_cut = _excerpt(response_body, RESPONSE_BODY_LIMIT)
    kept = tuple((name, redact(value)) for name, value in headers.items() if name.lower() not in _NOISE_HEADERS)
    answered: list[tuple[str, str]] = []
    for name in _RESPONSE_HEADERS:
        value = response_header(name)
        if value:
            answered.append((name, redact(str(value))))
    return Sample(
        method=method.upper(),
        url=redact(url),
        headers=kept,
        body=redact(request_text),
        body_truncated=request_cut,
        status=status,
        response_headers=tuple(answered),
        response_body=redact(response_text),
        response_truncated=response_cut,
    )


# -- rendering ----------------------------------------------------------------------------------------------------
def shell_quote(text: str) -> str:
    """``text`` as one shell word; ``${CODER_...}`` placeholders stay expandable, nothing else does."""
    if not _PLACEHOLDER.search(text):
        return "'" + text.replace("'", "'\\''") + "'"
    out: list[str] = []
    last = 0
    for found in _PLACEHOLDER.finditer(text):
        out.append(_double_quoted(text[last : found.start()]))
        out.append(found.group(0))
        last = found.end()
    out.append(_double_quoted(text[last:]))
    return '"' + "".join(out) + '"'


def _double_quoted(literal: str) -> str:
    for char in ("\\", '"', "$", "`"):
        literal = literal.replace(char, "\\" + char)
    return literal


def _header_name(name: str) -> str:
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def to_curl(sample: Sample) -> str:
    """The request as a curl command (tokens read from the environment, see :data:`TOKEN_VARIABLES`)."""
    words = ["curl", "-sS", "-i"]
    if sample.method == "HEAD":
        words.append("--head")
    elif sample.method != "GET" or sample.body:
        words += ["-X", sample.method]
    words.append(shell_quote(sample.url))
    lines = [" ".join(words)]
    for name, value in sample.headers:
        lines.append(f"-H {shell_quote(f'{_header_name(name)}: {value}')}")
    if sample.body:
        lines.append(f"--data-raw {shell_quote(sample.body)}")
    command = " \\\n  ".join(lines)
    if sample.body_truncated:
        command += f"\n# (request body cut at {REQUEST_BODY_LIMIT} bytes: the command sends only that part)"
    return command


def describe_response(sample: Sample) -> str:
    """Status line, the headers that matter for the contract, and a body excerpt."""
    lines = [f"HTTP {sample.status}"]
    lines += [f"{_header_name(name)}: {value}" for name, value in sample.response_headers]
    if sample.response_body:
        cut = f" ... (cut at {RESPONSE_BODY_LIMIT} bytes)" if sample.response_truncated else ""
        lines.append("")
        lines.append(sample.response_body.rstrip() + cut)
    return "\n".join(lines)


def one_line(sample: Sample) -> str:
    """``METHOD url -> status``, for the requests before the last one."""
    return f"{sample.method} {sample.url} -> {sample.status}"
