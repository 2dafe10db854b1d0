"""The ``coder-tasks-contract`` command: the contract suite and its tools from any directory.

    coder-tasks-contract run [PYTEST OPTIONS ...]     the suite (reports in ./reports unless --reports-dir says)
    coder-tasks-contract fake [--port P ...]          the reference server (alias: coder-tasks-fake)
    coder-tasks-contract killrate [-n N ...]          the fault catalogue's kill rate (alias: coder-tasks-killrate)
    coder-tasks-contract spec --level L [--output F]  a level's OpenAPI document, YAML or JSON (by F's extension)
    coder-tasks-contract --version

``run``, ``fake`` and ``killrate`` hand every argument after their name to pytest / the server / the kill-rate
report unchanged (``run --help`` is pytest's help, with the suite's options). ``run`` ends with the exit codes of
docs/exit-codes.md; the command's own usage errors exit 4 (pytest's code for a bad command line) with one line.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from coder_tasks_contract import __version__, resources

PROG = "coder-tasks-contract"
USAGE_ERROR = 4  # pytest.ExitCode.USAGE_ERROR, without importing pytest for `spec` and `--version`
FAILED = 1
JSON_SUFFIXES = (".json",)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit 4 (argparse prints the usage and exits 2,
    and 2 means "interrupted" in the suite's exit codes)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{PROG}: {message} (see {PROG} --help)\n")


def pytest_command(argv: Sequence[str]) -> list[str]:
    """``python -m pytest`` on the suite's folder with its pytest settings, then ``argv``."""
    suite = resources.suite_run()
    # The plugin is named with -p as well as loaded by its entry point, so the run works with
    # PYTEST_DISABLE_PLUGIN_AUTOLOAD set; the entry point's name is the module's, so it is not registered twice.
    return [sys.executable, "-m", "pytest", str(suite.directory), *suite.pytest_args(), "-p", resources.PLUGIN, *argv]


def run(argv: Sequence[str]) -> int:
    """The packaged contract suite, in a pytest process of its own: pytest rewrites the asserts of an installed
    plugin's modules only if it imports them first, and this process has imported the package already."""
    try:
        command = pytest_command(argv)
    except resources.ResourceError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return USAGE_ERROR
    with subprocess.Popen(command) as child:
        # A stopped container or CI job sends SIGTERM (to this process alone when it is PID 1 of a container):
        # pytest gets SIGINT instead, which it handles like Ctrl-C, deleting the run's tasks before it exits.
        if hasattr(signal, "SIGTERM") and sys.platform != "win32":
            signal.signal(signal.SIGTERM, lambda _signum, _frame: child.send_signal(signal.SIGINT))
        try:
            return child.wait()
        except KeyboardInterrupt:
            # Ctrl-C reached pytest too (one process group): it deletes its tasks and writes its reports first.
            return child.wait()


def fake(argv: Sequence[str]) -> int:
    from coder_tasks_contract.server.__main__ import main as fake_main

    return fake_main(list(argv))


def killrate(argv: Sequence[str]) -> int:
    from coder_tasks_contract.faults.report import main as killrate_main

    return killrate_main(list(argv))


PASS_THROUGH: dict[str, Callable[[Sequence[str]], int]] = {"run": run, "fake": fake, "killrate": killrate}


def spec(level: str, output: Path | None) -> int:
    """Print (or write to ``output``) the OpenAPI document of ``level``: JSON for a ``.json`` file, else YAML."""
    import yaml

    from coder_tasks_contract.spec import levels

    try:
        document = levels.build_spec(level)
    except (OSError, ValueError) as exc:  # OverlayError is a ValueError: the message names the file
        print(f"{PROG}: cannot build the document of level {level}: {exc}", file=sys.stderr)
        return FAILED
    as_json = output is not None and output.suffix.lower() in JSON_SUFFIXES
    if as_json:
        # default=str: YAML reads an unquoted date as a date, which JSON has no type for.
        text = json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"
    else:
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)
    if output is None:
        sys.stdout.write(text)
        return 0
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"{PROG}: cannot write {output}: {exc.strerror or exc}", file=sys.stderr)
        return FAILED
    return 0


def build_parser() -> argparse.ArgumentParser:
    from coder_tasks_contract.spec import levels

    parser = _Parser(
        prog=PROG,
        description="Contract tests for Coder's AI Tasks API, with a faithful fake Coder to run them against.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.add_parser(
        "run",
        add_help=False,
        help="run the contract suite; every option after `run` goes to pytest (`run --help` lists the suite's)",
    )
    commands.add_parser("fake", add_help=False, help="serve the reference server (`fake --help` for its options)")
    commands.add_parser(
        "killrate", add_help=False, help="run the suite against every broken server of the fault catalogue"
    )
    spec_parser = commands.add_parser("spec", help="print or write the OpenAPI document of a contract level")
    spec_parser.add_argument(
        "--level", required=True, choices=list(levels.BY_NAME), metavar="LEVEL", help=", ".join(levels.BY_NAME)
    )
    spec_parser.add_argument(
        "--output", type=Path, metavar="FILE", help="write here instead of stdout; JSON if FILE ends in .json"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in PASS_THROUGH:
        return PASS_THROUGH[args[0]](args[1:])
    parser = build_parser()
    parsed: Any = parser.parse_args(args)
    if parsed.command == "spec":
        return spec(parsed.level, parsed.output)
    parser.print_help(sys.stderr)
    return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
