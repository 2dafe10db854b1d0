"""A run's ledger: every operation's (operation, status) entries and the coverage criteria judged from the same
traffic, with the totals, the gaps and the JSON form the reports read (``ledger.json``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from coder_tasks_contract.reports.ledger.coverage import Coverage
from coder_tasks_contract.reports.ledger.model import MISSING, STATES, Operation, OperationEntry, PairEntry, RunInfo


@dataclass
class Ledger:
    run: RunInfo
    operations: list[OperationEntry]
    #: The ten coverage criteria and the TCL (``coverage.judge``), when the level's document was at hand.
    coverage: Coverage | None = None

    def pairs(self) -> Iterable[tuple[Operation, PairEntry]]:
        for entry in self.operations:
            for pair in entry.pairs:
                yield entry.operation, pair

    def count(self, state: str) -> int:
        return sum(1 for _, pair in self.pairs() if pair.state == state)

    @property
    def total_pairs(self) -> int:
        return sum(len(entry.pairs) for entry in self.operations)

    @property
    def operations_exercised(self) -> int:
        return sum(1 for entry in self.operations if entry.exercised)

    @property
    def gaps(self) -> list[str]:
        """``operationId status`` of every pair that nothing exercised and nothing explains."""
        return [f"{op.operation_id} {pair.status}" for op, pair in self.pairs() if pair.state == MISSING]

    def totals(self) -> dict[str, int]:
        counts = {state: self.count(state) for state in STATES}
        return {
            "operations": len(self.operations),
            "operations_exercised": self.operations_exercised,
            "statuses": self.total_pairs,
            **{f"statuses_{state.lower().replace(' ', '_').replace('-', '_')}": n for state, n in counts.items()},
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "coder-tasks-contract ledger 1",
            "run": {
                "target": self.run.target,
                "server_version": self.run.server_version,
                "run_id": self.run.run_id,
                "spec": self.run.spec,
                "read_only": self.run.read_only,
                "narrowed": self.run.narrowed,
                "level": self.run.level,
                "target_kind": self.run.target_kind,
            },
            "totals": self.totals(),
            "gaps": self.gaps,
            "coverage_criteria": self.coverage.to_json() if self.coverage is not None else None,
            "operations": [entry.to_json() for entry in self.operations],
        }
