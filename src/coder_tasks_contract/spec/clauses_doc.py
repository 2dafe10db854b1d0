"""Renders ``docs/contract/`` from the clause registry ``spec/clauses.yaml``, and tells whether the committed pages
are current.

``python -m coder_tasks_contract.spec.clauses_doc --write`` rewrites them; ``--check`` exits 1 when one is out of date
(or a page no group renders is left in the folder).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from coder_tasks_contract import rendered_docs, resources
from coder_tasks_contract.spec import clauses
from coder_tasks_contract.spec.clauses import Clause

# The pages belong to the project, not to the package: the checkout's docs/, or docs/ of the current directory.
PROJECT_ROOT = resources.checkout() or Path()
CONTRACT_DOCS = PROJECT_ROOT / "docs" / "contract"
INDEX = "README.md"

#: The pages: file name, title, the families on it (every family of ``clauses.FAMILIES`` is on exactly one page).
GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("routing.md", "Routing, errors and the rate limit", ("ROUTE", "ERR", "RATE")),
    ("auth.md", "Authentication, CSRF and isolation", ("AUTH", "CSRF", "RBAC")),
    ("resolution.md", "Path resolution: {user} and {task}", ("USER", "TASKREF")),
    (
        "operations.md",
        "The operations",
        ("LIST", "QUERY", "CREATE", "NAME", "GET", "DELETE", "INPUT", "SEND", "LOGS", "AGENT", "PAUSE"),
    ),
    ("state.md", "Task status, current_state and wire shapes", ("STATUS", "STATE", "SCHEMA")),
    ("levels.md", "Contract levels and documentation bugs", ("LEVEL", "DOCS")),
)

HEADER = [
    "Generated from `spec/clauses.yaml` (the single source) by",
    "`python -m coder_tasks_contract.spec.clauses_doc --write`. Do not edit by hand.",
]

EVIDENCE_LEGEND = [
    "Evidence kinds: **documented** (Coder's published API reference), **source** (Coder's or a library's source:",
    "path, function, and the commit the audit read, e.g. `read 004d4b8`), **test** (a test in Coder's own tree that",
    "checks it) and **inferred** (reasoning only; the entry gives the reasoning). A failing check of a clause whose",
    "evidence is only `inferred` is reported as a warning and does not fail the run unless `--strict-inferred` is",
    "given.",
]


def family(clause_id: str) -> str:
    return clause_id.rsplit("-", 1)[0]


def page_of(clause_id: str) -> str:
    """The page a clause is rendered on."""
    for name, _, families in GROUPS:
        if family(clause_id) in families:
            return name
    raise KeyError(f"no page holds family {family(clause_id)} (GROUPS in clauses_doc.py)")


def anchor(clause_id: str) -> str:
    """The Markdown heading anchor of a clause (``ROUTE-2`` -> ``route-2``)."""
    return clause_id.lower()


def text(value: str) -> str:
    """Registry prose as Markdown text: ``<mount>`` is no HTML tag and ``/*`` starts no emphasis (an intraword
    ``_`` never does in GFM, so snake_case names stay as they are)."""
    return value.replace("\\", "\\\\").replace("<", "\\<").replace("*", "\\*")


def levels_text(clause: Clause) -> str:
    return ", ".join(clause.levels)


def render_clause(clause: Clause) -> list[str]:
    lines = [f"### {clause.id}", "", f"**{text(clause.title)}**" + (" (retired)" if clause.retired else ""), ""]
    lines += [text(clause.statement), ""]
    if clause.retired:
        lines += [f"Retired: {text(clause.retired)}", ""]
    inferred = " (inferred only: a failure warns unless --strict-inferred)" if clause.inferred_only else ""
    lines += [f"Levels: {levels_text(clause)}. Evidence{inferred}:", ""]
    lines += [f"- *{entry.kind}*: {text(entry.ref)}" for entry in clause.evidence]
    return [*lines, ""]


def render_page(title: str, families: tuple[str, ...], registry: dict[str, Clause]) -> str:
    lines = [f"# {title}", "", *HEADER, "", *EVIDENCE_LEGEND, "", "Index: [README.md](README.md).", ""]
    for name in families:
        members = [clause for clause in registry.values() if family(clause.id) == name]
        lines += [f"## {name}", ""]
        for clause in members:
            lines += render_clause(clause)
    return "\n".join(lines).rstrip("\n") + "\n"


def render_index(registry: dict[str, Clause]) -> str:
    inferred = [clause.id for clause in registry.values() if clause.inferred_only]
    lines = [
        "# Contract notes: Coder's Tasks API, clause by clause",
        "",
        *HEADER,
        "",
        *EVIDENCE_LEGEND,
        "",
        "Each clause is one behaviour of Coder's Tasks HTTP API that the suite asserts or the reference server",
        "implements, with a stable id (`FAMILY-N`: never renumbered, retired instead of reused), the contract levels",
        "it holds at (82f = coder 82f525baf3, 2.29 = v2.29.0 to v2.31.x, newest = a12b05183 and later) and its",
        "evidence. Tests, spec descriptions, faults and docs cite clauses by id.",
        "",
        f"{len(registry)} clauses; {len(inferred)} rest on inference only: "
        + (", ".join(f"[{cid}]({page_of(cid)}#{anchor(cid)})" for cid in inferred) or "none")
        + ".",
        "",
        "Pages: " + ", ".join(f"[{title}]({name})" for name, title, _ in GROUPS) + ".",
        "",
        "| Clause | Title | Levels | Evidence |",
        "|---|---|---|---|",
    ]
    for clause in registry.values():
        title = text(clause.title).replace("|", "\\|") + (" (retired)" if clause.retired else "")
        link = f"[{clause.id}]({page_of(clause.id)}#{anchor(clause.id)})"
        lines.append(f"| {link} | {title} | {levels_text(clause)} | {', '.join(clause.evidence_kinds)} |")
    return "\n".join(lines) + "\n"


def render_all(registry: dict[str, Clause] | None = None) -> dict[str, str]:
    """Every page of ``docs/contract/`` by file name."""
    registry = clauses.registry() if registry is None else registry
    pages = {INDEX: render_index(registry)}
    for name, title, families in GROUPS:
        pages[name] = render_page(title, families, registry)
    return pages


def stale(folder: Path = CONTRACT_DOCS) -> list[str]:
    """Pages of ``folder`` that differ from their rendering, are missing, or are rendered by no group."""
    pages = render_all()
    found = {path.name for path in folder.glob("*.md")} if folder.is_dir() else set()
    wrong = [
        name for name, text in pages.items() if name not in found or (folder / name).read_text(encoding="utf-8") != text
    ]
    return sorted(wrong + sorted(found - pages.keys()))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m coder_tasks_contract.spec.clauses_doc [--write | --check]``."""
    return rendered_docs.run(
        argv,
        module="clauses_doc",
        target=CONTRACT_DOCS,
        render=lambda: {CONTRACT_DOCS / name: text for name, text in render_all().items()},
        stale=stale,
        shown=CONTRACT_DOCS / INDEX,
    )


if __name__ == "__main__":
    sys.exit(main())
