"""The pytest plugin: options, markers, target resolution, report header and the session-end safety net.

Fixtures live in ``fixtures.py`` (loaded through ``pytest_plugins``); run state in ``runstate.py``.
"""

from __future__ import annotations

import itertools
import shlex
from pathlib import Path
from typing import Any

import pytest

from coder_tasks_contract import __version__, resources
from coder_tasks_contract.generated import loader
from coder_tasks_contract.plugin import exitcodes, options, ordering, profiles, progress, verdicts
from coder_tasks_contract.plugin.runstate import (
    STATE_KEY,
    TRAFFIC_KEY,
    RunState,
    run_state,
)
from coder_tasks_contract.reports import files, reproduce, summary
from coder_tasks_contract.spec import levels
from coder_tasks_contract.spec.vocabulary import (
    NEEDS_SECOND_USER,
    NEEDS_TEMPLATE,
    OPENAPI_METHODS,
    SKIP_NO_SECOND_USER,
    SKIP_NO_TEMPLATE,
    SKIP_READ_ONLY,
)
from coder_tasks_contract.target import preflight
from coder_tasks_contract.target.model import Target, User
from coder_tasks_contract.transport.task_registry import new_run_id

pytest_plugins = ["coder_tasks_contract.plugin.fixtures"]

MARKERS = (
    "operation(operation_id, *status_codes): the spec operation and the response statuses this test covers",
    "writes: the test creates or changes tasks (skipped with --read-only)",
    f"needs_second_user: {NEEDS_SECOND_USER}",
    f"needs_template: {NEEDS_TEMPLATE}",
    "pooled(*states): the task pool's states the test takes, created before the first test (transport/task_pool.py)",
    *ordering.MARKERS,
)


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


@pytest.hookimpl(tryfirst=True)  # before junitxml and pytest-html read their paths (files.configure sets them)
def pytest_configure(config: pytest.Config) -> None:
    _check_rootdir(config)
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    contract_run = _runs_contract_suite(config)
    # Profiles are registered and chosen before any test runs, so every Hypothesis test of the run uses the same. The
    # entry point loads this plugin into every pytest run where the package is installed: another project's run
    # keeps its own Hypothesis profile (and its own HYPOTHESIS_PROFILE names); this checkout's self-tests use ours.
    if contract_run or _in_this_checkout(config):
        try:
            profiles.ensure_registered()
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
    settings = options.load_settings(config)
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is not None and "ctc_run_id" in workerinput:
        run_id = str(workerinput["ctc_run_id"])
        worker = str(workerinput.get("workerid", "gw0"))
        workers = int(workerinput.get("workercount", 1))
    else:
        run_id, worker, workers = settings.run_label or new_run_id(), None, 1
    state = RunState(settings, run_id=run_id, worker=worker, workers=workers)
    if workerinput is not None and workerinput.get("ctc_target"):
        state.adopt_target(Target.from_wire(workerinput["ctc_target"]))
    config.stash[STATE_KEY] = state
    config.stash[TRAFFIC_KEY] = state.traffic
    files.configure(config, contract_run=contract_run)
    progress.configure(config, state)


def _in_this_checkout(config: pytest.Config) -> bool:
    root = resources.checkout()
    return root is not None and root.resolve() == config.rootpath.resolve()


_ROOTDIR_OPTIONS = ("-c", "--config-file", "--rootdir")


def _check_rootdir(config: pytest.Config) -> None:
    """Refuse a run that pytest rooted at the value of one of our options.

    pytest picks its rootdir and ini file before it loads any plugin, so in ``--reports-dir DIR`` (a space, not
    ``=``) it takes an existing DIR for a test path: the run is then rooted there, without the project's settings
    (``testpaths``), and collects everything below the current directory. No plugin can change that choice; the
    ``=`` form, ``--rootdir`` or ``coder-tasks-contract run`` (which passes ``--rootdir``) avoid it.
    """
    args = [str(arg) for arg in config.invocation_params.args]
    if any(arg in _ROOTDIR_OPTIONS or arg.startswith(("--config-file=", "--rootdir=")) for arg in args):
        return
    flags = {option.flag for option in options.OPTIONS if option.const is None}
    for flag, value in itertools.pairwise(args):
        if flag not in flags:
            continue
        path = (config.invocation_params.dir / value).resolve()
        here = config.invocation_params.dir.resolve()
        # An existing path outside the current directory moves the common ancestor pytest starts its rootdir and
        # ini search from (inside it, the ancestor and so the rootdir stay what they would be without it).
        if path.exists() and path != here and here not in path.parents:
            raise pytest.UsageError(
                f"pytest took the value of {flag} {value} for a test path when it chose its rootdir "
                f"({config.rootpath}), before it knew the option: write {flag}={shlex.quote(value)} (with '=')"
            )


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller → worker: the shared run id, and the target its preflight resolved (if it did)."""
    state = run_state(node.config)
    node.workerinput["ctc_run_id"] = state.run_id
    if state.target is not None:
        node.workerinput["ctc_target"] = state.target.to_wire()


def _runs_contract_suite(config: pytest.Config) -> bool:
    """Whether this invocation collects the contract suite (tests/), so preflight should run before anything."""
    option = config.option
    if option.collectonly or getattr(option, "showfixtures", False) or getattr(option, "show_fixtures_per_test", False):
        return False
    found = resources.suite_dir_of(config)  # the checkout's tests/, the installed suite, or an opted-in project's
    if found is None or not found.is_dir():
        return False
    suite = found.resolve()
    for arg in config.args:
        path = Path(str(arg).split("::", 1)[0])
        if not path.is_absolute():
            path = config.invocation_params.dir / path
        path = path.resolve()
        if path == suite or suite in path.parents or path in suite.parents:
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Resolve and check the target before the header is printed and before any test, when tests/ will run."""
    config = session.config
    run_state(config).pytest_session = session
    if hasattr(config, "workerinput") or not _runs_contract_suite(config):
        return  # workers get the controller's target; other runs resolve it at first use of `target`
    try:
        run_state(config).ensure_target()
    except preflight.PreflightError as exc:
        files.preflight_failed(config, str(exc))
        pytest.exit(str(exc), returncode=exitcodes.TARGET_UNUSABLE)


def _spec_line(config: pytest.Config, state: RunState) -> str:
    """The document the generated tests load: the spec file with the overlays of its level (LEVEL-1 to LEVEL-3)."""
    spec = loader.spec_path(config)
    target = state.target
    level = target.coder_version if target is not None else state.settings.coder_version or levels.DEFAULT.name
    try:
        document = levels.build_spec(level, base=spec)
        count = sum(len(set(OPENAPI_METHODS) & set(item)) for item in (document.get("paths") or {}).values())
        return f"coder spec: {spec} at level {level} ({count} operations)"
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        return f"coder spec: {spec} (unreadable: {type(exc).__name__})"


def _user_label(user: User) -> str:
    """Username, and a warning if the user holds a site role: the suite expects ordinary members (RBAC-6)."""
    if not user.site_roles:
        return user.username
    return f"{user.username} (site roles: {', '.join(user.site_roles)}; expected an ordinary member)"


def pytest_report_header(config: pytest.Config) -> list[str]:
    if not files.reports(config).enabled and not _in_this_checkout(config):
        return []  # another project's run (the entry point loads the plugin everywhere): say nothing
    state = run_state(config)
    target = state.target
    lines: list[str] = [f"coder-tasks-contract: {__version__}"]
    if target is None:
        where = state.settings.base_url or "embedded reference server"
        lines.append(f"coder target: {where} (checked when a test first needs it)")
    else:
        kind = " (embedded reference server)" if target.embedded else ""
        level = levels.get(target.coder_version)
        lines.append(
            f"coder target: {target.base_url}{kind}, server version {target.server_version}, "
            f"API flavour {target.flavour} ({', '.join(level.prefixes)})"
        )
        lines.append(f"coder contract level: judged as {level.name} ({target.level_reason}): {level.title}")
        if target.level_reason != levels.forced(level.name).reason:
            lines += [f"coder contract level caveat: {caveat}" for caveat in level.caveats]
        user_b = _user_label(target.user_b) if target.user_b else "none (isolation tests skip)"
        lines.append(
            f"coder users: A={_user_label(target.user_a)}, B={user_b}; template version "
            f"{target.template_version_id or 'none (creating tests skip)'}"
        )
    mode = "read-only" if state.settings.read_only else f"at most {state.settings.max_tasks} tasks"
    per_minute = state.rate_limit(embedded=target.embedded if target else state.settings.base_url is None)
    pace = "no rate limit" if per_minute is None else f"at most {per_minute} requests/min per route"
    lines.append(f"coder run: id {state.run_id} (tasks named {state.registry.run_prefix}<n>), {mode}, {pace}")
    lines.append(_spec_line(config, state))
    lines.append(f"hypothesis profile: {profiles.current_name()}")
    return lines


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    settings = run_state(config).settings
    remote = settings.base_url is not None
    for item in items:
        if settings.read_only and item.get_closest_marker("writes"):
            item.add_marker(pytest.mark.skip(reason=SKIP_READ_ONLY))
        if remote and settings.second_session_token is None and item.get_closest_marker("needs_second_user"):
            item.add_marker(pytest.mark.skip(reason=SKIP_NO_SECOND_USER))
        if remote and settings.template_version_id is None and item.get_closest_marker("needs_template"):
            item.add_marker(pytest.mark.skip(reason=SKIP_NO_TEMPLATE))
    ordering.reorder(items, settings.test_order)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Operation markers and cited clauses into JUnit properties; on failure, the "reproduce" section
    (files.py), and a failure resting on inferred clauses only becomes a contract warning (verdicts.py)."""
    files.tag_operations(item)
    contract_run = files.reports(item.config).enabled  # another project's tests cite no clauses
    if contract_run:
        verdicts.tag_clauses(item)
    report = yield
    reproduce.on_report(item, call, report)
    if contract_run:
        verdicts.soften(item, report, strict=run_state(item.config).settings.strict_inferred)
    return report


@pytest.hookimpl(optionalhook=True)
def pytest_html_report_title(report: Any) -> None:
    report.title = files.HTML_TITLE


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Before fixtures are torn down (the embedded server stops then): delete what the run created, check leftovers."""
    config = session.config
    state = run_state(config)
    # The xdist controller creates nothing itself; it sweeps for tasks a worker left behind (after the workers).
    controller = bool(state.worker_reports) or (
        getattr(config, "workerinput", None) is None and config.pluginmanager.has_plugin("dsession")
    )
    try:
        report = state.clean_up(sweep=controller)
    except KeyboardInterrupt:
        live = ", ".join(f"{e.name} ({e.id})" for e in state.registry.entries(live_only=True))
        report = None
        state.cleanup_summary = f"cleanup INTERRUPTED: task(s) this run created may remain: {live or 'none known'}"
        session.exitstatus = exitcodes.TASKS_LEFT_BEHIND
    else:
        if report is not None:
            state.cleanup_summary = report.summary()
            if not report.list_ok and session.exitstatus == 0:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED  # the list's contract, not a leak (LIST-2)
            if not report.ok:
                session.exitstatus = exitcodes.TASKS_LEFT_BEHIND
    workeroutput: dict[str, Any] | None = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["ctc_traffic"] = state.traffic.to_json()
        workeroutput["ctc_target_error"] = state.target_error
        workeroutput["ctc_cleanup"] = {
            "summary": state.cleanup_summary,
            "ok": session.exitstatus != exitcodes.TASKS_LEFT_BEHIND,
            "list_ok": report is None or report.list_ok,
        }
        return
    for worker_report in state.worker_reports:
        if worker_report.get("target_error"):
            state.target_error = state.target_error or str(worker_report["target_error"])
            session.exitstatus = exitcodes.TARGET_UNUSABLE
    for worker_report in state.worker_reports:
        if not worker_report.get("list_ok", True) and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if not worker_report.get("ok", True):
            session.exitstatus = exitcodes.TASKS_LEFT_BEHIND
    # After the cleanup (its traffic counts), before junitxml and pytest-html write their files.
    files.finish(session)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist controller: merge a finished worker's traffic and cleanup outcome."""
    output = getattr(node, "workeroutput", None) or {}
    state = run_state(node.config)
    state.traffic.load_json(output.get("ctc_traffic", []))
    if "ctc_cleanup" in output:
        report = dict(
            output["ctc_cleanup"],
            worker=output.get("workerid") or (getattr(node, "gateway", None) and node.gateway.id),
            target_error=output.get("ctc_target_error"),
        )
        state.worker_reports.append(report)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = run_state(config)
    if state.target_error and state.worker_reports:  # an xdist worker found the target unusable (exit 10)
        terminalreporter.write_line(f"target unusable: {state.target_error}", red=True, bold=True)
    summary.terminal_summary(terminalreporter, config)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE_KEY, None)
    if state is not None:
        state.close()
