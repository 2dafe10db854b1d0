"""What the suite sent and got back, per test: the raw material of the coverage ledger.

The guard adds one :class:`Exchange` per HTTP response. With pytest-xdist each worker fills its own
:class:`Traffic`; the plugin ships it to the controller (``workeroutput``), which merges it, so a ledger built on
the controller sees the whole run.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

#: How many of a test's most recent exchanges are kept, redacted, for its failure report (``reports/files.py``).
RECENT_PER_TEST = 5


@dataclass(frozen=True)
class Exchange:
    """One response: request method, route template, status code, and the node id of the test that caused it."""

    method: str
    route: str
    status: int
    nodeid: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Exchange:
        return cls(str(data["method"]), str(data["route"]), int(data["status"]), data.get("nodeid"))


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

    def record(self, method: str, route: str, status: int, *, sample: Callable[[], object] | None = None) -> Exchange:
        """Add one exchange; ``sample`` (called only during a test) makes the redacted copy kept for its report."""
        exchange = Exchange(method.upper(), route, status, self._nodeid_now())
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
