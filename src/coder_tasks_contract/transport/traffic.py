"""What the suite sent and got back, per test: the raw material of the coverage ledger.

The guard adds one :class:`Exchange` per HTTP response. With pytest-xdist each worker fills its own
:class:`Traffic`; the plugin ships it to the controller (``workeroutput``), which merges it, so a ledger built on
the controller sees the whole run.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

#: How many of a test's most recent exchanges are kept, redacted, for its failure report (``reports/files.py``).
RECENT_PER_TEST = 5


#: Body facts are taken from JSON bodies up to this size; a larger one (a long chat log) counts by its status only.
MAX_FACT_BODY = 1 << 20
#: A string value kept as a fact only if it looks like an enum value (``active``, ``shutting_down``): never names,
#: prompts, IDs or tokens, which the coverage criteria do not need.
_ENUM_LIKE = re.compile(r"[a-z][a-z0-9_]{0,31}")


@dataclass(frozen=True)
class Exchange:
    """One response: request method, route template, status code, and the node id of the test that caused it.

    The rest feeds the coverage criteria (``reports/ledger/criteria.py``): the query parameters sent (values of
    token-carrying ones blanked), the request's and the response's media types, and the response body's facts
    (:func:`body_facts`)."""

    method: str
    route: str
    status: int
    nodeid: str | None
    query: tuple[tuple[str, str], ...] = ()
    request_type: str = ""
    response_type: str = ""
    facts: frozenset[str] = frozenset()

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "route": self.route,
            "status": self.status,
            "nodeid": self.nodeid,
            "query": [list(pair) for pair in self.query],
            "request_type": self.request_type,
            "response_type": self.response_type,
            "facts": sorted(self.facts),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Exchange:
        return cls(
            str(data["method"]),
            str(data["route"]),
            int(data["status"]),
            data.get("nodeid"),
            tuple((str(key), str(value)) for key, value in data.get("query", ())),
            str(data.get("request_type", "")),
            str(data.get("response_type", "")),
            frozenset(str(fact) for fact in data.get("facts", ())),
        )


def media_type(header: str | None) -> str:
    """``application/json`` of ``Application/JSON; charset=utf-8``; "" for no header."""
    return (header or "").split(";", 1)[0].strip().lower()


def query_pairs(url: str) -> tuple[tuple[str, str], ...]:
    """The query parameters of ``url``; a parameter whose name mentions a token keeps its name only (AUTH-1: the
    session token can travel as ``coder_session_token`` or ``access_token``)."""
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    return tuple((key, "" if "token" in key.lower() else value) for key, value in pairs)


def body_facts(content: bytes, content_type: str) -> frozenset[str]:
    """What a JSON body shows, as ``path<TAB>kind`` facts: the kind (``null``, ``object``, ``array``, ``string``,
    ``number``, ``boolean``) of each value, and ``path<TAB>=<JSON value>`` for booleans and enum-like strings.
    Paths join keys with ``.``; ``[]`` stands for every item of an array, so a list of fifty tasks gives the
    facts of one. Not JSON, empty or too large: no facts."""
    if not content or len(content) > MAX_FACT_BODY or "json" not in content_type:
        return frozenset()
    try:
        body = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return frozenset()
    facts: set[str] = set()
    _walk(body, "", facts)
    return frozenset(facts)


def _walk(value: object, path: str, facts: set[str]) -> None:
    if isinstance(value, dict):
        facts.add(f"{path}\tobject")
        for key, item in value.items():
            _walk(item, f"{path}.{key}" if path else str(key), facts)
    elif isinstance(value, list):
        facts.add(f"{path}\tarray")
        for item in value:
            _walk(item, f"{path}[]", facts)
    elif value is None:
        facts.add(f"{path}\tnull")
    elif isinstance(value, bool):
        facts.update((f"{path}\tboolean", f"{path}\t={json.dumps(value)}"))
    elif isinstance(value, str):
        facts.add(f"{path}\tstring")
        if _ENUM_LIKE.fullmatch(value):
            facts.add(f"{path}\t={json.dumps(value)}")
    else:
        facts.add(f"{path}\tnumber")


class Traffic:
    """Thread-safe list of :class:`Exchange` with the node id of the test running right now."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._exchanges: list[Exchange] = []
        #: Node id of the running test; set by the autouse ``_current_test`` fixture, None between tests.
        self.current_nodeid: str | None = None
        #: The running test's node, when the fixture sets it: its ``nodeid`` is read at each response, because
        #: schemathesis renames the node to ``test_conformance[METHOD /path]`` while one operation's subtest runs.
        self.current_node: Any = None
        self._recent: dict[str, deque[object]] = {}

    def _nodeid_now(self) -> str | None:
        node = self.current_node
        if node is not None:
            return str(node.nodeid)
        return self.current_nodeid

    def record(
        self,
        method: str,
        route: str,
        status: int,
        *,
        sample: Callable[[], object] | None = None,
        details: Callable[[], tuple[tuple[tuple[str, str], ...], str, str, frozenset[str]]] | None = None,
    ) -> Exchange:
        """Add one exchange; ``sample`` (called only during a test) makes the redacted copy kept for its report;
        ``details`` gives (query, request type, response type, body facts) for the coverage criteria."""
        query, request_type, response_type, facts = details() if details is not None else ((), "", "", frozenset())
        exchange = Exchange(
            method.upper(), route, status, self._nodeid_now(), query, request_type, response_type, facts
        )
        kept = sample() if sample is not None and exchange.nodeid is not None else None
        with self._lock:
            self._exchanges.append(exchange)
            if kept is not None and exchange.nodeid is not None:
                self._recent.setdefault(exchange.nodeid, deque(maxlen=RECENT_PER_TEST)).append(kept)
        return exchange

    def recent(self, nodeid: str) -> list[object]:
        """The last :data:`RECENT_PER_TEST` samples of a test (oldest first), as the guard made them."""
        with self._lock:
            return list(self._recent.get(nodeid, ()))

    def forget(self, nodeid: str) -> None:
        """Drop the samples of a finished test and of its subtests (``nodeid[...]``)."""
        with self._lock:
            for key in [k for k in self._recent if k == nodeid or k.startswith(nodeid + "[")]:
                del self._recent[key]

    def extend(self, exchanges: Iterable[Exchange]) -> None:
        with self._lock:
            self._exchanges.extend(exchanges)

    @property
    def exchanges(self) -> list[Exchange]:
        """A snapshot of every exchange so far, in order."""
        with self._lock:
            return list(self._exchanges)

    def for_test(self, nodeid: str) -> list[Exchange]:
        return [exchange for exchange in self.exchanges if exchange.nodeid == nodeid]

    def covered(self) -> set[tuple[str, str, int]]:
        """Distinct (method, route template, status) seen."""
        return {(e.method, e.route, e.status) for e in self.exchanges}

    def to_json(self) -> list[dict[str, Any]]:
        return [exchange.to_json() for exchange in self.exchanges]

    def load_json(self, data: Iterable[dict[str, Any]]) -> None:
        self.extend(Exchange.from_json(item) for item in data)

    def __iter__(self) -> Iterator[Exchange]:
        return iter(self.exchanges)

    def __len__(self) -> int:
        with self._lock:
            return len(self._exchanges)

    def __repr__(self) -> str:
        return f"<Traffic {len(self)} exchanges>"
