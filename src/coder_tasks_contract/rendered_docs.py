"""The ``--write`` / ``--check`` command shared by the documents rendered from data (``checks_doc``,
``clauses_doc``): write the files, or exit 1 naming the ones that are out of date."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path


def run(
    argv: Sequence[str] | None,
    *,
    module: str,
    target: Path,
    render: Callable[[], dict[Path, str]],
    stale: Callable[[], list[str]],
    shown: Path,
) -> int:
    """``python -m coder_tasks_contract.<module> [--write | --check]``; with neither, print ``shown``'s text.

    ``target`` is the file or folder the command maintains; ``render`` gives every file's text; ``stale`` names the
    files that differ from their rendering.
    """
    parser = argparse.ArgumentParser(description=f"Render or verify {target}.")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help=f"write {target}")
    group.add_argument("--check", action="store_true", help=f"exit 1 if {target} is out of date")
    args = parser.parse_args(argv)
    if args.write:
        for path, text in render().items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return 0
    if args.check:
        wrong = stale()
        if wrong:
            print(
                f"{target}: out of date ({', '.join(wrong)}); run python -m coder_tasks_contract.{module} --write",
                file=sys.stderr,
            )
            return 1
        return 0
    sys.stdout.write(render()[shown])
    return 0
