"""The report files of a contract run: where they go, what each test declares, and the coverage ledger.

``plugin/hooks.py`` calls into this module from its hooks (the reproduce section of failures is ``reproduce.py``,
the terminal summary ``summary.py``; both read the state kept here):

- :func:`configure` (``pytest_configure``) aims ``--junitxml`` and pytest-html at the reports folder (``--reports-dir``,
  default ``reports/``) when the run collects the contract suite. Rule: reports are written when a command-line path
  is ``tests/``, inside it, or above it (``pytest`` alone uses ``testpaths = tests``); a run whose paths are all
  elsewhere (``pytest selftests``) writes none. ``--collect-only`` writes none. An explicit ``--junitxml`` or
  ``--html`` wins over the folder.
- :func:`tag_operations` (``pytest_runtest_makereport``) puts each test's ``operation`` markers into its JUnit
  properties, where the ledger reads them back (also from xdist workers).
- :func:`record_report` (through a small hook object registered at configure) notes outcomes and deselections
  for the ledger; it runs where reports arrive, so on the xdist controller too.
- :func:`finish` (``pytest_sessionfinish``) builds the coverage ledger (``reports/ledger``) and writes ``ledger.md`` and
  ``ledger.json``; :func:`preflight_failed` leaves reports that say why when preflight ends the run (exit 10).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import quoteattr

import pytest

from coder_tasks_contract import __version__, resources
from coder_tasks_contract.plugin import exitcodes, verdicts
from coder_tasks_contract.plugin.runstate import run_state
from coder_tasks_contract.reports import ledger
from coder_tasks_contract.reports.ledger.inputs import (
    format_declaration,
    load_element_rules,
    load_operations,
    load_unreachable,
    parse_declaration,
)
from coder_tasks_contract.reports.ledger.markdown import render_markdown
from coder_tasks_contract.reports.ledger.model import EXERCISED, LedgerError, RunInfo, TestRecord
from coder_tasks_contract.reports.ledger.result import Ledger
from coder_tasks_contract.spec import levels
from coder_tasks_contract.transport import repro

JUNIT_NAME = "junit.xml"
HTML_NAME = "report.html"
LEDGER_MD = "ledger.md"
LEDGER_JSON = "ledger.json"
SUITE_NAME = "coder-tasks-contract"
HTML_TITLE = "Coder Tasks API contract"
OPERATION_PROPERTY = "operation"


@dataclass
class _TestState:
    outcome: str = "passed"
    skip_reason: str | None = None
    declares: dict[str, tuple[str, tuple[int, ...]]] = field(default_factory=dict)


@dataclass
class Reports:
    """This process's reporting state: where the files go (None: not a contract run) and what the tests did."""

    directory: Path | None = None
    junit: Path | None = None
    html: Path | None = None
    tests: dict[str, _TestState] = field(default_factory=dict)
    deselected: int = 0
    built: Ledger | None = None
    problem: str | None = None
    written: list[Path] = field(default_factory=list)
    #: Why ``--min-coverage-level`` failed the run (exit 12), for the summary.
    gate: str | None = None

    @property
    def enabled(self) -> bool:
        return self.directory is not None


REPORTS_KEY = pytest.StashKey[Reports]()


def reports(config: pytest.Config) -> Reports:
    if REPORTS_KEY not in config.stash:
        config.stash[REPORTS_KEY] = Reports()
    return config.stash[REPORTS_KEY]


# -- configure ----------------------------------------------------------------------------------------------------
def configure(config: pytest.Config, *, contract_run: bool) -> None:
    """Aim JUnit and HTML at the reports folder for a contract run (see the module docstring for the rule)."""
    state = reports(config)
    if not contract_run:
        return
    directory = Path(run_state(config).settings.reports_dir)
    if not directory.is_absolute():
        directory = config.invocation_params.dir / directory
    state.directory = directory
    config.pluginmanager.register(_Recorder(config), "coder-tasks-contract-reporting")
    if hasattr(config, "workerinput"):
        return  # xdist workers: the controller writes every file
    directory.mkdir(parents=True, exist_ok=True)
    if config.option.xmlpath is None:
        config.option.xmlpath = str(directory / JUNIT_NAME)
        # Only the default "pytest" is replaced: a junit_suite_name set in the user's ini file stays.
        if config.getini("junit_suite_name") == "pytest":
            config._inicache["junit_suite_name"] = SUITE_NAME  # no public setter; read by junitxml's configure
    state.junit = Path(config.option.xmlpath)
    try:
        html = config.getoption("htmlpath")
    except ValueError:  # pytest-html disabled with -p no:html
        return
    if html is None:
        config.option.htmlpath = str(directory / HTML_NAME)
        config.option.self_contained_html = True  # one file: readable as a CI artifact without its assets folder
    state.html = Path(config.getoption("htmlpath"))


# -- per test -----------------------------------------------------------------------------------------------------
_TAGGED = pytest.StashKey[bool]()


def tag_operations(item: pytest.Item) -> None:
    """Copy the item's ``operation`` markers into its user properties (JUnit ``<properties>``; the ledger's input)."""
    if item.stash.get(_TAGGED, False):
        return
    item.stash[_TAGGED] = True
    for marker in item.iter_markers(OPERATION_PROPERTY):
        if not marker.args:
            continue
        try:
            statuses = [int(status) for status in marker.args[1:]]
        except (TypeError, ValueError):
            continue  # not a status code: nothing the ledger can match
        item.user_properties.append((OPERATION_PROPERTY, format_declaration(str(marker.args[0]), statuses)))


def record_report(config: pytest.Config, report: pytest.TestReport) -> None:
    """Note a report's outcome, skip reason and declared operations for the ledger (controller side)."""
    state = reports(config)
    if not state.enabled:
        return
    verdicts.book(config).record(report)
    test = state.tests.setdefault(report.nodeid, _TestState())
    for name, value in report.user_properties:
        if name == OPERATION_PROPERTY and isinstance(value, str) and value.strip():
            test.declares[value] = parse_declaration(value)
    if report.failed:
        test.outcome = "failed"
    elif report.skipped and test.outcome != "failed":
        test.outcome = "skipped"
        test.skip_reason = _skip_reason(report)


def _skip_reason(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return f"expected to fail (xfail): {report.wasxfail}" if report.wasxfail else "expected to fail (xfail)"
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "skipped")


class _Recorder:
    """Hooks that carry no ``config`` argument, bound to one: outcomes and deselections for the ledger."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record_report(self._config, report)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        reports(self._config).deselected += len(items)


# -- end of session -----------------------------------------------------------------------------------------------
def safe_url(url: str) -> str:
    """``url`` without user:password@ (a --base-url may carry basic-auth credentials for a proxy)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def redactor(state: Any) -> repro.Redactor:
    users = state.target.users if state.target is not None else ()
    tokens = [user.token.reveal() for user in users]
    for secret in (state.settings.session_token, state.settings.second_session_token):
        if secret is not None and secret.reveal() not in tokens:
            tokens.append(secret.reveal())
    return repro.Redactor(tokens)


def _narrowed(session: pytest.Session, state: Reports) -> str | None:
    config = session.config
    reasons = []
    if config.option.keyword:
        reasons.append(f"-k {config.option.keyword!r}")
    if config.option.markexpr:
        reasons.append(f"-m {config.option.markexpr!r}")
    suite = (resources.suite_dir_of(config) or config.rootpath / "tests").resolve()
    for arg in config.args:
        text = str(arg)
        path = Path(text.split("::", 1)[0])
        path = (path if path.is_absolute() else config.invocation_params.dir / path).resolve()
        if "::" in text or (path != suite and suite in path.parents):
            reasons.append(f"path {text}")
    if state.deselected:
        reasons.append(f"{state.deselected} test(s) deselected")
    if session.shouldstop:
        reasons.append(f"stopped early: {session.shouldstop}")
    if session.shouldfail:
        reasons.append(f"stopped early: {session.shouldfail}")
    if session.exitstatus in (pytest.ExitCode.INTERRUPTED, exitcodes.TARGET_UNUSABLE):
        reasons.append(f"the run ended early (exit code {int(session.exitstatus)})")  # Ctrl-C, or exit 10 mid-run
    return ", ".join(dict.fromkeys(reasons)) or None


def build_ledger(session: pytest.Session) -> Ledger:
    """The coverage ledger of this run (LedgerError if the spec or unreachable.yaml cannot be read)."""
    from coder_tasks_contract.generated import loader  # loaded already: tests/test_conformance.py imports schemathesis

    config = session.config
    state = reports(config)
    run = run_state(config)
    spec = loader.spec_path(config)
    target = run.target
    # The operations of the level the target is judged by: the base document plus its overlays (LEVEL-1 to LEVEL-3).
    level = target.coder_version if target is not None else run.settings.coder_version or levels.DEFAULT.name
    try:
        document = levels.build_spec(level, base=spec)
    except ValueError as exc:  # OverlayError: an unreadable base document or overlay
        raise LedgerError(str(exc)) from None
    operations = load_operations(document)
    suite = resources.suite_dir_of(config) or config.rootpath / "tests"
    unreachable = load_unreachable(suite / resources.UNREACHABLE_NAME, operations, str(level))
    rules = load_element_rules(suite / resources.UNREACHABLE_NAME)
    where = ""
    if target is not None:
        where = safe_url(target.base_url) + (" (embedded reference server)" if target.embedded else "")
    info = RunInfo(
        target=where,
        server_version=target.server_version if target is not None else "",
        run_id=run.run_id,
        spec=relative(spec, config.rootpath),
        read_only=run.settings.read_only,
        narrowed=_narrowed(session, state),
        level=str(level),
        target_kind="" if target is None else ("reference" if target.embedded else "deployment"),
    )
    records = [
        TestRecord(nodeid, test.outcome, test.skip_reason, tuple(test.declares.values()))
        for nodeid, test in state.tests.items()
    ]
    return ledger.build(
        operations, run.traffic.exchanges, records, unreachable, info, document=document, element_rules=rules
    )


def relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def finish(session: pytest.Session) -> None:
    """Build and write the ledger, and put the run's identity into the JUnit file (controller only)."""
    config = session.config
    state = reports(config)
    if not state.enabled or hasattr(config, "workerinput") or state.directory is None:
        return
    run = run_state(config)
    redact = redactor(run)
    try:
        state.built = build_ledger(session)
    except (LedgerError, OSError) as exc:
        state.problem = f"coverage ledger not written: {exc}"
        _coverage_gate(session, None)
        return
    _coverage_gate(session, state.built)
    md = state.directory / LEDGER_MD
    js = state.directory / LEDGER_JSON
    try:
        state.directory.mkdir(parents=True, exist_ok=True)
        clause_book = verdicts.book(config)
        md.write_text(redact(render_markdown(state.built) + clause_book.render_markdown()), encoding="utf-8")
        data = dict(state.built.to_json(), clauses=clause_book.to_json())
        js.write_text(redact(json.dumps(data, indent=2)) + "\n", encoding="utf-8")
    except OSError as exc:
        state.problem = f"coverage ledger not written: {exc}"
        return
    state.written += [md, js]
    _junit_properties(config, state.built)


def _coverage_gate(session: pytest.Session, built: Ledger | None) -> None:
    """``--min-coverage-level``: a run that passed but reached a lower TCL (or could not measure it) exits 12."""
    minimum = run_state(session.config).settings.min_coverage_level
    if minimum is None or session.exitstatus != 0:
        return  # a failing run fails already; a leak (11) needs an operator first
    reached = built.coverage.tcl if built is not None and built.coverage is not None else None
    if reached is None or reached < minimum:
        session.exitstatus = exitcodes.COVERAGE_BELOW_MINIMUM
        shown = "could not be measured" if reached is None else f"is TCL{reached}"
        reports(session.config).gate = f"coverage gate FAILED: the run's coverage level {shown}, below TCL{minimum}"


def _junit_properties(config: pytest.Config, built: Ledger) -> None:
    """Run-level ``<properties>`` of the JUnit testsuite: target, server version, run id, coverage."""
    for plugin in config.pluginmanager.get_plugins():
        add = getattr(plugin, "add_global_property", None)
        if add is None or not hasattr(plugin, "logfile"):
            continue  # duck-typed: junitxml's LogXML, which writes the file in its own sessionfinish
        run = built.run
        add("coder_tasks_contract_version", __version__)
        add("coder_target", run.target)
        add("coder_server_version", run.server_version)
        add("coder_run_id", run.run_id)
        add("coder_operations_exercised", f"{built.operations_exercised}/{len(built.operations)}")
        add("coder_statuses_exercised", f"{built.count(EXERCISED)}/{built.total_pairs}")
        if built.coverage is not None:
            add("coder_coverage_level", f"TCL{built.coverage.tcl}")


def preflight_failed(config: pytest.Config, message: str) -> None:
    """Preflight ended the run before any test: leave a JUnit file and a ledger that say why (CI shows them)."""
    state = reports(config)
    if not state.enabled or state.directory is None or hasattr(config, "workerinput"):
        return
    text = redactor(run_state(config))(message)
    try:
        state.directory.mkdir(parents=True, exist_ok=True)
        if state.junit is not None and state.junit.parent == state.directory:
            state.junit.write_text(
                '<?xml version="1.0" encoding="utf-8"?>\n'
                f'<testsuites name="{SUITE_NAME}"><testsuite name="{SUITE_NAME}" tests="1" errors="1" '
                f'failures="0" skipped="0"><testcase classname="preflight" name="target is usable">'
                f"<error message={quoteattr(text)}>{_xml_text(text)}</error></testcase></testsuite></testsuites>\n",
                encoding="utf-8",
            )
            state.written.append(state.junit)
        note = f"# API coverage ledger\n\nNo test ran: preflight stopped the run (exit code 10).\n\n{text}\n"
        (state.directory / LEDGER_MD).write_text(note, encoding="utf-8")
        (state.directory / LEDGER_JSON).write_text(
            json.dumps({"format": "coder-tasks-contract ledger 1", "preflight_error": text}, indent=2) + "\n",
            encoding="utf-8",
        )
        state.written += [state.directory / LEDGER_MD, state.directory / LEDGER_JSON]
    except OSError:
        pass  # the exit message on the terminal is the report then


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
