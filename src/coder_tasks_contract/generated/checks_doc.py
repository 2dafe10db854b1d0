"""Renders docs/checks.md from the check table in ``checks_table.py``, and tells whether the committed file is current.

``python -m coder_tasks_contract.generated.checks_doc --write`` rewrites it; ``--check`` exits 1 when it is out of date.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from coder_tasks_contract import rendered_docs, resources
from coder_tasks_contract.generated.checks_table import CHECKS, SETTINGS_NOTES, CheckPolicy
from coder_tasks_contract.spec import levels

# The page belongs to the project, not to the package: the checkout's docs/, or docs/ of the current directory.
CHECKS_DOC = (resources.checkout() or Path()) / "docs" / "checks.md"


def per_operation_cell(policy: CheckPolicy) -> str:
    """``op: statuses`` for each operation, in level order; where levels differ, each variant names its levels
    (``sendTaskInput: 204, 404, 502 (82f, 2.29) / 204, 404, 409 (newest)``)."""
    variants: dict[str, dict[tuple[str, ...], list[str]]] = {}
    for level in levels.LEVELS:
        for op, codes in policy.statuses(level).items():
            variants.setdefault(op, {}).setdefault(codes, []).append(level.name)
    every = [level.name for level in levels.LEVELS]
    parts = []
    for op, by_codes in variants.items():
        shown = [
            ", ".join(codes) + ("" if names == every else f" ({', '.join(names)})") for codes, names in by_codes.items()
        ]
        parts.append(f"{op}: {' / '.join(shown)}")
    return "; ".join(parts)


def render_checks_markdown() -> str:
    """``docs/checks.md``: the check table, rendered from :data:`CHECKS`."""
    lines = [
        "# Schemathesis checks",
        "",
        "Generated from `CHECKS` in `src/coder_tasks_contract/generated/checks_table.py` (the single source) by",
        "`python -m coder_tasks_contract.generated.checks_doc --write`. Do not edit by hand.",
        "",
        "States: **on** (everywhere), **scoped** (on, with per-operation settings), **off** (with the reason),",
        "**ours** (a check of this suite, passed to every validation next to schemathesis' own).",
        "Clause ids (`ROUTE-4`, ...) are those of docs/contract/ (`spec/clauses.yaml`). Per-operation statuses name",
        "the base operationId (at `/api/experimental/tasks`) and hold for the same operation at every mount of the",
        "level (`getTaskV2` at `/api/v2/tasks`); where they differ between contract levels, the levels are named.",
        "",
        "| Check | State | Expected statuses | Reason |",
        "|---|---|---|---|",
    ]
    for policy in CHECKS:
        statuses = ", ".join(policy.expected)
        per_op = per_operation_cell(policy)
        if per_op:
            statuses = f"{statuses}; {per_op}" if statuses else per_op
        lines.append(f"| `{policy.name}` | {policy.state} | {statuses} | {policy.reason} |")
    lines += ["", "## Settings that shape what the checks see", "", "| Setting | Why |", "|---|---|"]
    lines += [
        f"| `{name}` | {why} |" if not name.startswith(("aiming", "probe")) else f"| {name} | {why} |"
        for name, why in SETTINGS_NOTES
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m coder_tasks_contract.generated.checks_doc [--write | --check]``."""

    def stale() -> list[str]:
        current = CHECKS_DOC.read_text(encoding="utf-8") if CHECKS_DOC.exists() else ""
        return [] if current == render_checks_markdown() else [CHECKS_DOC.name]

    return rendered_docs.run(
        argv,
        module="checks_doc",
        target=CHECKS_DOC,
        render=lambda: {CHECKS_DOC: render_checks_markdown()},
        stale=stale,
        shown=CHECKS_DOC,
    )


if __name__ == "__main__":
    raise SystemExit(main())
