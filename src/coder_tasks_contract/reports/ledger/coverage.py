"""The ten coverage criteria of a run: each element of ``criteria.elements`` judged from the recorded traffic, the
per-criterion percentages of the reachable elements, and the Test Coverage Level (TCL) reached.

An element is ``covered`` when the traffic shows it (rules below), ``not reachable`` when ``tests/unreachable.yaml``
says why it cannot be reached on this level and kind of target (or every status it lives under is not reachable),
and ``not covered`` otherwise. A status code element takes the state of its (operation, status) pair in the
ledger, whose rules are older and finer (``skipped``, ``read-only``... count as not covered here).

What shows an element (only exchanges the spec documents: an undocumented status covers nothing):

- path / operation: any response to a request on it;
- parameter: a request that sent it (a path parameter is always sent); parameter value: an enum or boolean value
  sent, or for ``q`` a term with that key (``owner:me``) or ``status:`` value, as Coder parses it (lower-cased,
  quotes dropped, QUERY-1);
- request content type: a request with a body of that media type;
- operation flow: within one test, a response with the link's status to its operation followed by a request to the
  link's target operation (the stateful tests walk the links so);
- status code class / status code: a response in that class / with that status;
- response body: the body facts of the responses with that status (``transport/traffic.body_facts``);
- response content type: a non-empty response with that status and media type.

Pure data in, data out, in well under a second for a full run (``docs/reports.md`` gives the measured figure).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from coder_tasks_contract.reports.ledger import criteria
from coder_tasks_contract.reports.ledger.criteria import Element
from coder_tasks_contract.reports.ledger.inputs import ElementRule, rule_reason
from coder_tasks_contract.reports.ledger.model import EXERCISED, UNREACHABLE, Operation, PairEntry
from coder_tasks_contract.spec.vocabulary import canonical_operation_id
from coder_tasks_contract.transport.traffic import Exchange

COVERED = "covered"
NOT_COVERED = "not covered"


@dataclass(frozen=True)
class Judged:
    element: Element
    state: str
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.element.operation,
            "key": self.element.key,
            "state": self.state,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Totals:
    """One criterion's counts; the percentage is of its reachable elements (100 when none is reachable)."""

    criterion: str
    total: int
    covered: int
    unreachable: int

    @property
    def reachable(self) -> int:
        return self.total - self.unreachable

    @property
    def percent(self) -> float:
        return 100.0 if self.reachable == 0 else 100.0 * self.covered / self.reachable

    @property
    def complete(self) -> bool:
        return self.covered == self.reachable

    def to_json(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion,
            "elements": self.total,
            "covered": self.covered,
            "not_reachable": self.unreachable,
            "percent_of_reachable": round(self.percent, 1),
        }


@dataclass
class Coverage:
    judged: list[Judged]
    totals: dict[str, Totals] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in criteria.CRITERIA:
            of = [j for j in self.judged if j.element.criterion == name]
            self.totals[name] = Totals(
                name, len(of), sum(j.state == COVERED for j in of), sum(j.state == UNREACHABLE for j in of)
            )

    @property
    def tcl(self) -> int:
        """The highest TCLn whose criteria, and those of every lower level, are complete."""
        reached = 0
        for level, names in criteria.TCL_LEVELS:
            if not all(self.totals[name].complete for name in names):
                break
            reached = level
        return reached

    def missing(self, criterion: str) -> list[Judged]:
        return [j for j in self.judged if j.element.criterion == criterion and j.state == NOT_COVERED]

    def summary(self) -> str:
        """``TCL5; path 100%, operation 100%, ...`` (one line: the run summary's and ledger.md's)."""
        shown = ", ".join(f"{name} {_percent(t.percent)}" for name, t in self.totals.items())
        return f"TCL{self.tcl} of {criteria.MAX_TCL}; {shown} (of reachable elements)"

    def to_json(self) -> dict[str, Any]:
        return {
            "tcl": self.tcl,
            "levels": {f"TCL{level}": list(names) for level, names in criteria.TCL_LEVELS},
            "criteria": [totals.to_json() for totals in self.totals.values()],
            "elements": [dict(j.to_json(), criterion=j.element.criterion) for j in self.judged if j.state != COVERED],
        }


def _percent(value: float) -> str:
    return f"{value:.0f}%" if value in (0.0, 100.0) or value >= 1 else f"{value:.1f}%"


# -- what the traffic shows ---------------------------------------------------------------------------------------
@dataclass
class _Seen:
    """The traffic folded into what the rules need, per operationId."""

    paths: set[str] = field(default_factory=set)
    statuses: dict[str, set[int]] = field(default_factory=dict)
    parameters: dict[str, set[str]] = field(default_factory=dict)
    values: dict[str, set[str]] = field(default_factory=dict)
    request_types: dict[str, set[str]] = field(default_factory=dict)
    response_types: dict[str, set[str]] = field(default_factory=dict)
    facts: dict[tuple[str, int], set[str]] = field(default_factory=dict)
    flows: set[tuple[str, int, str]] = field(default_factory=set)


def _fold(operations: Sequence[Operation], exchanges: Iterable[Exchange]) -> _Seen:
    by_route = {(op.method, op.path): op for op in operations}
    seen = _Seen()
    before: dict[str, set[tuple[str, int]]] = {}  # per test: (operation, status) answered so far
    for exchange in exchanges:
        op = by_route.get((exchange.method, exchange.route))
        if op is None or exchange.status not in op.statuses:
            continue
        name = op.operation_id
        seen.paths.add(op.path)
        seen.statuses.setdefault(name, set()).add(exchange.status)
        sent = {f"path {part[1:-1]}" for part in op.path.split("/") if part.startswith("{")}
        seen.parameters.setdefault(name, set()).update(sent | {f"query {key}" for key, _ in exchange.query})
        seen.values.setdefault(name, set()).update(_values(exchange.query))
        if exchange.request_type:
            seen.request_types.setdefault(name, set()).add(exchange.request_type)
        if exchange.response_type:
            seen.response_types.setdefault(name, set()).add(f"{exchange.status} {exchange.response_type}")
        seen.facts.setdefault((name, exchange.status), set()).update(exchange.facts)
        if exchange.nodeid is not None:
            earlier = before.setdefault(exchange.nodeid, set())
            seen.flows.update((source, status, name) for source, status in earlier)
            earlier.add((name, exchange.status))
    return seen


def _values(query: Iterable[tuple[str, str]]) -> set[str]:
    """Parameter value keys of a request: ``q owner:``, ``q status:active``, ``name="x"`` (QUERY-1: lower-cased)."""
    found: set[str] = set()
    for key, value in query:
        if key != criteria.QUERY_PARAMETER:
            found.add(f"{key}={value}")
            continue
        for term in value.lower().split():
            name, colon, rest = term.partition(":")
            if colon:
                found.add(f"q {name}:")
                if name == "status":
                    found.add(f"q status:{rest.strip(chr(34))}")
    return found


def _has(facts: set[str], key: str) -> bool:
    """Whether body facts show a response body element key (without its status)."""
    path, colon, aspect = key.partition(": ")
    kinds = {fact.split("\t", 1)[1] for fact in facts if fact.split("\t", 1)[0] == path}
    if not colon:
        return bool(kinds)
    if aspect == "null":
        return "null" in kinds
    if aspect == "set":
        return any(kind != "null" and not kind.startswith("=") for kind in kinds)
    if aspect.startswith(("oneOf[", "anyOf[")):
        return bool(kinds - {"null"})  # a branch is not told apart from facts; none of the task API's has two
    return f"={aspect}" in kinds


def _shown(element: Element, seen: _Seen) -> bool:
    op, key = element.operation, element.key
    rules = {
        criteria.PATH: lambda: key in seen.paths,
        criteria.OPERATION: lambda: op in seen.statuses,
        criteria.PARAMETER: lambda: key in seen.parameters.get(op, set()),
        criteria.PARAMETER_VALUE: lambda: key in seen.values.get(op, set()),
        criteria.REQUEST_TYPE: lambda: key in seen.request_types.get(op, set()),
        criteria.FLOW: lambda: _flow_seen(element, seen),
        criteria.STATUS_CLASS: lambda: bool(seen.statuses.get(op, set()) & set(element.statuses)),
        criteria.RESPONSE_TYPE: lambda: key in seen.response_types.get(op, set()),
        criteria.BODY: lambda: _has(seen.facts.get((op, element.statuses[0]), set()), key.split(" ", 1)[1]),
    }
    return rules[element.criterion]()


def _flow_seen(element: Element, seen: _Seen) -> bool:
    target = element.key.rsplit(" -> ", 1)[1]
    return (element.operation, element.statuses[0], target) in seen.flows


# -- judging ------------------------------------------------------------------------------------------------------
def judge(
    elements: Sequence[Element],
    operations: Sequence[Operation],
    exchanges: Iterable[Exchange],
    pairs: Mapping[tuple[str, int], PairEntry],
    rules: Sequence[ElementRule],
    *,
    level: str,
    target_kind: str,
) -> Coverage:
    """Every element's state (see the module docstring); ``pairs``: the ledger's (operationId, status) entries."""
    seen = _fold(operations, exchanges)
    judged = []
    for element in elements:
        judged.append(_judge_one(element, seen, pairs, rules, level, target_kind))
    return Coverage(judged)


def _judge_one(
    element: Element,
    seen: _Seen,
    pairs: Mapping[tuple[str, int], PairEntry],
    rules: Sequence[ElementRule],
    level: str,
    target_kind: str,
) -> Judged:
    under = [pairs[(element.operation, status)] for status in element.statuses if (element.operation, status) in pairs]
    if element.criterion == criteria.STATUS_CODE and under:
        pair = under[0]
        if pair.state == EXERCISED:
            return Judged(element, COVERED)
        return Judged(element, UNREACHABLE if pair.state == UNREACHABLE else NOT_COVERED, pair.reason or pair.state)
    if _shown(element, seen):
        return Judged(element, COVERED)
    operation = canonical_operation_id(element.operation) if element.operation else ""
    reason = rule_reason(rules, element.criterion, operation, element.key, level, target_kind)
    if reason is not None:
        return Judged(element, UNREACHABLE, reason)
    if under and all(pair.state == UNREACHABLE for pair in under):
        return Judged(element, UNREACHABLE, f"its status is not reachable: {under[0].reason}")
    waiting = [f"{pair.status} {pair.state}" for pair in under if pair.state != EXERCISED]
    return Judged(
        element, NOT_COVERED, f"status {', '.join(waiting)}" if waiting and len(waiting) == len(under) else ""
    )
