"""The clause registry (spec/clauses.yaml), its rendered pages (docs/contract/) and the ids cited across the project."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from coder_tasks_contract.spec import clauses, clauses_doc, levels
from coder_tasks_contract.spec.clauses import Clause, Evidence, RegistryError

ROOT = Path(__file__).resolve().parents[1]
# Where clause ids are cited. Generated pages are included: they are rendered from the registry and the check
# table, so an unknown id there comes from one of those sources.
CITING = ("tests", "spec", "src", "docs")
CITING_SUFFIXES = (".py", ".yaml", ".yml", ".md")

GOOD = """\
clauses:
  - id: ROUTE-1
    title: t
    statement: s
    levels: [82f]
    evidence:
      - kind: inferred
        ref: because of this and that
"""


def test_the_registry_loads_and_its_ids_are_unique_and_well_formed() -> None:
    registry = clauses.registry()
    assert len(registry) >= 120
    for clause_id, clause in registry.items():
        assert clause.id == clause_id
        assert re.fullmatch(r"[A-Z]+-[1-9]\d*", clause_id), clause_id
        assert clause_id.rsplit("-", 1)[0] in clauses.FAMILIES
        assert clauses.CLAUSE_ID.fullmatch(clause_id)


def test_every_family_has_clauses_and_every_level_name_is_a_contract_level() -> None:
    registry = clauses.registry()
    assert {clause_id.rsplit("-", 1)[0] for clause_id in registry} == set(clauses.FAMILIES)
    assert set(clauses.LEVEL_NAMES) == {level.name for level in levels.LEVELS}


def test_numbers_of_a_family_have_no_gaps() -> None:
    """Ids are handed out in order and never reused, so each family counts 1..N (a retired clause stays listed)."""
    by_family: dict[str, list[int]] = {}
    for clause_id in clauses.registry():
        name, number = clause_id.rsplit("-", 1)
        by_family.setdefault(name, []).append(int(number))
    for name, numbers in by_family.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), name


def test_every_clause_has_evidence_and_inferred_entries_give_their_reasoning() -> None:
    for clause in clauses.registry().values():
        assert clause.evidence, clause.id
        assert clause.statement, clause.id
        assert clause.title, clause.id
        for entry in clause.evidence:
            if entry.kind == "inferred":
                # Reasoning is a sentence, not a bare file name or a "see above".
                assert len(entry.ref.split()) >= 8, f"{clause.id}: inferred evidence without reasoning: {entry.ref}"


def test_clause_properties() -> None:
    inferred = Evidence("inferred", "x")
    source = Evidence("source", "y")
    both = Clause("ROUTE-9", "t", "s", ("82f",), (source, inferred))
    alone = Clause("ROUTE-9", "t", "s", ("82f",), (inferred,))
    assert not both.inferred_only
    assert alone.inferred_only
    assert both.evidence_kinds == ("source", "inferred")
    assert clauses.get("ROUTE-2").id == "ROUTE-2"
    with pytest.raises(KeyError, match="ROUTE-999"):
        clauses.get("ROUTE-999")


def test_cited_finds_ids_in_order_once() -> None:
    text = "ROUTE-2, TASKREF-3 (and ROUTE-2 again); not XROUTE-2, ROUTE-2a, ROUTE- or route-4"
    assert clauses.cited(text) == ("ROUTE-2", "TASKREF-3")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("ROUTE-1", "ROUTE-01"), "id"),
        (("ROUTE-1", "ROUTES-1"), "id"),
        (("[82f]", "[v2.28]"), "levels"),
        (("kind: inferred", "kind: guessed"), "kind"),
        (("    statement: s\n", ""), "statement"),
    ],
)
def test_a_malformed_registry_is_refused(tmp_path: Path, change: tuple[str, str], problem: str) -> None:
    path = tmp_path / "clauses.yaml"
    path.write_text(GOOD.replace(*change), encoding="utf-8")
    with pytest.raises(RegistryError, match=problem):
        clauses.load(path)


def test_a_duplicate_id_is_refused(tmp_path: Path) -> None:
    single = tmp_path / "single.yaml"
    single.write_text(GOOD, encoding="utf-8")
    assert list(clauses.load(single)) == ["ROUTE-1"]  # the same clause once is fine
    doubled = tmp_path / "doubled.yaml"
    doubled.write_text(GOOD + GOOD.split("\n", 1)[1], encoding="utf-8")
    with pytest.raises(RegistryError, match="ROUTE-1 appears twice"):
        clauses.load(doubled)


def test_the_committed_contract_pages_are_current() -> None:
    assert clauses_doc.stale() == [], "run python -m coder_tasks_contract.spec.clauses_doc --write"
    assert clauses_doc.main(["--check"]) == 0


def test_a_stale_or_stray_page_is_reported(tmp_path: Path) -> None:
    for name, text in clauses_doc.render_all().items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert clauses_doc.stale(tmp_path) == []
    (tmp_path / "auth.md").write_text("edited by hand\n", encoding="utf-8")
    (tmp_path / "old.md").write_text("", encoding="utf-8")
    assert clauses_doc.stale(tmp_path) == ["auth.md", "old.md"]


def test_every_family_is_on_one_page() -> None:
    placed = [name for _, _, families in clauses_doc.GROUPS for name in families]
    assert sorted(placed) == sorted(clauses.FAMILIES)


def suite_tests() -> list[tuple[str, str]]:
    """(node name, docstring) of every test function of the contract suite, found without importing it."""
    found = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
                found.append((f"{path.name}::{node.name}", ast.get_docstring(node) or ""))
    return found


def test_every_suite_test_cites_a_known_clause() -> None:
    registry = clauses.registry()
    tests = suite_tests()
    assert len(tests) > 50
    uncited = [name for name, doc in tests if not clauses.cited(doc)]
    unknown = [f"{name}: {cid}" for name, doc in tests for cid in clauses.cited(doc) if cid not in registry]
    assert uncited == [], "these tests cite no clause id in their docstring"
    assert unknown == [], "these tests cite ids the registry lacks"


def test_every_cited_id_exists() -> None:
    registry = clauses.registry()
    unknown = []
    for folder in CITING:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in CITING_SUFFIXES or not path.is_file() or "__pycache__" in path.parts:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                unknown += [
                    f"{path.relative_to(ROOT)}:{number}: {cid}" for cid in clauses.cited(line) if cid not in registry
                ]
    assert unknown == []
