"""The coverage ledger's data: the states a documented (operation, status) pair can be in, what a run tells the
ledger (operations, tests, run info) and each operation's entry. Decided in ``ledger``; the whole ledger of a run is
``result.Ledger``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

EXERCISED = "exercised"
UNREACHABLE = "not reachable"
READ_ONLY = "read-only"
SKIPPED = "skipped"
FAILED = "failed"
NOT_RUN = "not run"
MISSING = "MISSING"
STATES = (EXERCISED, UNREACHABLE, READ_ONLY, SKIPPED, FAILED, NOT_RUN, MISSING)

#: Who made a request that no test was running for: session fixtures (shared tasks) and the end-of-run cleanup.
OUTSIDE_TESTS = "(session fixture or cleanup)"
READ_ONLY_REASON = "read-only mode (--read-only): the run sends nothing but GET requests"


class LedgerError(Exception):
    """The spec or ``unreachable.yaml`` cannot be read as the ledger needs; the message says which and why."""


@dataclass(frozen=True)
class Operation:
    """One operation of the spec and the statuses it documents."""

    operation_id: str
    method: str
    path: str
    statuses: tuple[int, ...]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class TestRecord:
    """What the run says about one test: its outcome, why it was skipped, and the pairs it declares."""

    __test__: ClassVar[bool] = False  # not a test class, whatever pytest thinks of the name

    nodeid: str
    outcome: str  # "passed" | "failed" | "skipped"
    skip_reason: str | None = None
    #: (operationId, statuses) from each ``operation`` marker; empty statuses: the operation, no particular status.
    declares: tuple[tuple[str, tuple[int, ...]], ...] = ()


@dataclass(frozen=True)
class RunInfo:
    """What the ledger is about: target, server version, run id, mode, and how the run was narrowed (if it was)."""

    target: str = ""
    server_version: str = ""
    run_id: str = ""
    spec: str = ""
    read_only: bool = False
    #: Why not every test was selected (e.g. "-k test_list"); None for a full run.
    narrowed: str | None = None
    #: The contract level the run judged by, and the kind of target ("reference" or "deployment"): what the
    #: ``elements:`` entries of ``unreachable.yaml`` are scoped by.
    level: str = ""
    target_kind: str = ""


@dataclass(frozen=True)
class TestRef:
    """A test (node id) and its outcome, as the ledger cites it."""

    __test__: ClassVar[bool] = False
    nodeid: str
    outcome: str

    def to_json(self) -> dict[str, str]:
        return {"nodeid": self.nodeid, "outcome": self.outcome}


@dataclass
class PairEntry:
    """The ledger line of one documented (operation, status) pair."""

    status: int
    state: str
    reason: str | None = None
    exercised_by: list[TestRef] = field(default_factory=list)
    declared_by: list[TestRef] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "state": self.state,
            "reason": self.reason,
            "exercised_by": [ref.to_json() for ref in self.exercised_by],
            "declared_by": [ref.to_json() for ref in self.declared_by],
        }


@dataclass
class OperationEntry:
    """An operation's pairs, plus statuses it answered that the spec does not document."""

    operation: Operation
    pairs: list[PairEntry]
    undocumented: dict[int, list[TestRef]] = field(default_factory=dict)
    tests: list[TestRef] = field(default_factory=list)

    @property
    def exercised(self) -> bool:
        return any(pair.state == EXERCISED for pair in self.pairs)

    def to_json(self) -> dict[str, Any]:
        return {
            "operation_id": self.operation.operation_id,
            "method": self.operation.method,
            "path": self.operation.path,
            "exercised": self.exercised,
            "statuses": [pair.to_json() for pair in self.pairs],
            "undocumented_statuses": [
                {"status": status, "exercised_by": [ref.to_json() for ref in refs]}
                for status, refs in sorted(self.undocumented.items())
            ],
            "tests": [ref.to_json() for ref in self.tests],
        }
