"""The "reproduce" section of a failed contract test: what is needed to send the failing request again.

It holds the contract clause the test checks (first paragraph of its docstring, and the clause ids of docs/contract/
it cites, with their titles and evidence kinds; for generated tests also the failed schemathesis checks), the test's
last request as a curl command with the tokens as ``${CODER_SESSION_TOKEN}`` (``repro.py`` redacts them when the guard
keeps the request), the response (status, headers that matter, body excerpt), the requests before it, the seed, and the
command that reruns the test. The section is added to the report (terminal, HTML) and, except for schemathesis'
subtests, to the test's JUnit properties.
"""

from __future__ import annotations

import re

import pytest

from coder_tasks_contract.plugin.runstate import run_state
from coder_tasks_contract.reports.files import redactor, reports, safe_url
from coder_tasks_contract.spec import clauses
from coder_tasks_contract.transport import repro

REPRODUCE_SECTION = "reproduce"
# schemathesis' per-operation subtest suffix, stripped to get a node id pytest can select again.
_SUBTEST_SUFFIX = re.compile(r"\[[A-Z]+ /[^\]]*\]$")


def _is_subtest(item: pytest.Item) -> bool:
    # schemathesis renames the node while one operation's subtest runs (test_conformance[METHOD /path]).
    return item.nodeid != f"{item.parent.nodeid}::{item.name}" if item.parent is not None else False


def add_reproduction(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
    """On failure: the "reproduce" section (terminal, HTML) and property (JUnit) of the report."""
    if not report.failed:
        return
    config = item.config
    kept = run_state(config).traffic.recent(item.nodeid)
    if not kept and not reports(config).enabled:
        return  # not a contract test (e.g. a project self-test): nothing to reproduce against
    text = reproduction(item, call, [sample for sample in kept if isinstance(sample, repro.Sample)])
    report.sections.append((REPRODUCE_SECTION, text))
    if not _is_subtest(item):
        # JUnit reads properties from the item's last (teardown) report; subtests have none, their failure text
        # is schemathesis' own, which carries a curl command and the seed already.
        item.user_properties.append((REPRODUCE_SECTION, text))


def on_report(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
    """After pytest made a report: add the reproduction if it failed; free a finished test's kept samples."""
    add_reproduction(item, call, report)
    if report.when == "teardown":
        run_state(item.config).traffic.forget(item.nodeid)


def reproduction(item: pytest.Item, call: pytest.CallInfo[None], samples: list[repro.Sample]) -> str:
    """The text of the "reproduce" section (see :func:`add_reproduction`)."""
    config = item.config
    lines: list[str] = []
    clause, cited = _clause(item)
    if clause:
        lines.append(f"Contract clause: {clause}")
    if cited:
        lines.append("Clauses (docs/contract/): " + "; ".join(_describe(clause_id) for clause_id in cited))
    lines += _failed_checks(call)
    if samples:
        last = samples[-1]
        lines += ["", f"Last request of this test ({len(samples)} kept):", repro.to_curl(last), ""]
        lines += ["Response:", repro.describe_response(last)]
        if len(samples) > 1:
            lines += ["", "Requests before it:", *(f"  {repro.one_line(s)}" for s in samples[:-1])]
    else:
        lines += ["", "No request of this test was kept (it failed before sending one, or in a session fixture)."]
    lines += ["", _seed_line(item), _rerun_line(item)]
    state = run_state(config)
    redact = redactor(state)
    return redact("\n".join(lines))


def _clause(item: pytest.Item) -> tuple[str, list[str]]:
    doc = getattr(getattr(item, "obj", None), "__doc__", None) or ""
    paragraph = doc.strip().split("\n\n", 1)[0]
    first = " ".join(paragraph.split())
    if len(first) > 300:
        first = first[:297] + "..."
    return first, list(clauses.cited(doc))


def _describe(clause_id: str) -> str:
    """``ROUTE-2 (Resolvers run before routing under a task mount; evidence: source, test)``."""
    try:
        clause = clauses.get(clause_id)
    except KeyError:
        return f"{clause_id} (not in the registry)"
    return f"{clause_id} ({clause.title}; evidence: {', '.join(clause.evidence_kinds)})"


def _failed_checks(call: pytest.CallInfo[None]) -> list[str]:
    if call.excinfo is None:
        return []
    error = call.excinfo.value
    # schemathesis raises a FailureGroup (an exception group) with one Failure per failed check.
    inner = list(getattr(error, "exceptions", None) or [error])
    found = []
    for exc in inner:
        title = getattr(exc, "title", None)
        if title is None:
            continue
        checks = ", ".join(getattr(type(exc), "checks", ()) or ())
        found.append(f"  - {title}" + (f" (schemathesis check: {checks})" if checks else ""))
    return ["Failed checks:", *dict.fromkeys(found)] if found else []


def _is_generated(item: pytest.Item) -> bool:
    if "case" in getattr(item, "fixturenames", ()):
        return True  # schemathesis' parametrized tests
    if item.get_closest_marker("hypothesis") is not None:
        return True
    # @given sets this attribute on the test it wraps (hypothesis.internal.detection reads the same one).
    return bool(getattr(getattr(item, "obj", None), "is_hypothesis_test", False))


def _seed_line(item: pytest.Item) -> str:
    if _is_generated(item):
        from coder_tasks_contract.generated import loader  # schemathesis is loaded already when a generated test ran

        return f"Seed: {loader.run_seed(item.config).reproduce()}"
    from coder_tasks_contract.plugin import profiles

    return f"Seed: none (a targeted test: it sends fixed requests; Hypothesis profile {profiles.current_name()!r})"


def _rerun_line(item: pytest.Item) -> str:
    nodeid = _SUBTEST_SUFFIX.sub("", item.nodeid)
    target = run_state(item.config).target
    # The level decides what the test expects (and what the embedded server emulates): name it, detected or not.
    level = f" --coder-version {target.coder_version}" if target is not None and target.coder_version else ""
    if target is None or target.embedded:
        return f"Rerun: pytest '{nodeid}'{level}  (embedded reference server: the URL above was a throw-away port)"
    flags = f" --base-url {safe_url(target.base_url)}{level}"
    if target.template_version_id:
        flags += f" --template-version-id {target.template_version_id}"
    return f"Rerun: pytest '{nodeid}'{flags}  (tokens from $CODER_SESSION_TOKEN / $CODER_SECOND_SESSION_TOKEN)"
