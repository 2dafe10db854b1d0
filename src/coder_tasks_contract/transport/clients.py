"""HTTP clients of the suite: httpx clients and requests sessions whose every request passes the write guard.

The guard (``guard.py``) holds the policy; this module only adapts the two HTTP libraries to it: an httpx
transport wrapper and a requests ``HTTPAdapter``. The session token is added by an auth hook at send time, so it
never sits in a client's default headers (which pytest could print with ``--showlocals``).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

import httpx
import requests
from requests.adapters import HTTPAdapter

from coder_tasks_contract.target.model import User
from coder_tasks_contract.target.secret import Secret
from coder_tasks_contract.transport.guard import Guard, Outgoing

TOKEN_HEADER = "Coder-Session-Token"


class _HttpxReceived:
    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status_code

    def header(self, name: str) -> str | None:
        value: str | None = self._response.headers.get(name)
        return value

    def content(self) -> bytes:
        return self._response.content

    def discard(self) -> None:
        self._response.close()


class _RequestsReceived:
    def __init__(self, response: requests.Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status_code

    def header(self, name: str) -> str | None:
        value = self._response.headers.get(name)
        return None if value is None else str(value)

    def content(self) -> bytes:
        return self._response.content or b""

    def discard(self) -> None:
        self._response.close()


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport that sends every request through the guard, then through ``inner``."""

    def __init__(self, guard: Guard, inner: httpx.BaseTransport | None = None) -> None:
        self._guard = guard
        self._inner = inner or httpx.HTTPTransport(retries=0)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        outgoing = Outgoing(
            request.method,
            str(request.url),
            {key.lower(): value for key, value in request.headers.items()},
            body,
        )

        def send() -> tuple[httpx.Response, _HttpxReceived]:
            raw = self._inner.handle_request(request)
            try:
                content = raw.read()
            finally:
                raw.close()
            # A fresh, fully read response: the client re-wraps its stream, so .elapsed etc. keep working.
            response = httpx.Response(
                raw.status_code, headers=raw.headers, content=content, extensions=raw.extensions, request=request
            )
            return response, _HttpxReceived(response)

        return self._guard.exchange(outgoing, send)

    def close(self) -> None:
        self._inner.close()

    def __repr__(self) -> str:
        return "<GuardedTransport>"


class SessionTokenAuth(httpx.Auth):
    """Adds ``Coder-Session-Token`` unless the request already carries one (a test's own header wins)."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if TOKEN_HEADER not in request.headers:
            request.headers[TOKEN_HEADER] = self._token.reveal()
        yield request

    def __repr__(self) -> str:
        return "SessionTokenAuth(Secret('****'))"


class _RequestsTokenAuth(requests.auth.AuthBase):
    def __init__(self, token: Secret) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if TOKEN_HEADER not in request.headers:
            request.headers[TOKEN_HEADER] = self._token.reveal()
        return request

    def __repr__(self) -> str:
        return "SessionTokenAuth(Secret('****'))"


class GuardedAdapter(HTTPAdapter):
    """A requests adapter that sends every request through the guard; mounted for http:// and https://."""

    def __init__(self, guard: Guard, *, timeout: float) -> None:
        super().__init__(max_retries=0)
        self._guard = guard
        self._timeout = timeout

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        body: Any = request.body
        if body is None:
            raw_body = b""
        elif isinstance(body, bytes):
            raw_body = body
        elif isinstance(body, str):
            raw_body = body.encode("utf-8")
        else:  # an iterator or file: read it once so the guard and the wire see the same bytes
            raw_body = b"".join(chunk if isinstance(chunk, bytes) else str(chunk).encode() for chunk in body)
            request.body = raw_body
        outgoing = Outgoing(
            request.method or "GET",
            request.url or "",
            {key.lower(): value for key, value in request.headers.items()},
            raw_body,
        )

        def send() -> tuple[requests.Response, _RequestsReceived]:
            response = super(GuardedAdapter, self).send(
                request,
                stream=False,
                timeout=timeout if timeout is not None else self._timeout,
                verify=verify,
                cert=cert,
                proxies=proxies,
            )
            _ = response.content
            return response, _RequestsReceived(response)

        return self._guard.exchange(outgoing, send)

    def __repr__(self) -> str:
        return "<GuardedAdapter>"


def build_client(
    guard: Guard,
    base_url: str,
    *,
    user: User | None = None,
    timeout: float = 30.0,
    **httpx_kwargs: Any,
) -> httpx.Client:
    """A guarded httpx client for ``base_url``; with ``user``, authenticated by that user's session token."""
    if "mounts" in httpx_kwargs:
        raise TypeError("build_client: 'mounts' would route requests around the write guard")
    inner = httpx_kwargs.pop("transport", None)
    httpx_kwargs.setdefault("follow_redirects", False)
    if user is not None:
        httpx_kwargs.setdefault("auth", SessionTokenAuth(user.token))
    return httpx.Client(
        base_url=base_url,
        timeout=httpx_kwargs.pop("timeout", timeout),
        transport=GuardedTransport(guard, inner),
        **httpx_kwargs,
    )


def build_session(guard: Guard, *, user: User | None = None, timeout: float = 30.0) -> requests.Session:
    """A guarded requests session (for schemathesis ``case.call(session=...)``); the guard also sees redirects."""
    session = requests.Session()
    adapter = GuardedAdapter(guard, timeout=timeout)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    # Environment proxies or a .netrc must not redirect traffic or add credentials behind the guard's back.
    session.trust_env = False
    if user is not None:
        session.auth = _RequestsTokenAuth(user.token)
    return session
