"""The project's contract notes: the clause registry ``spec/clauses.yaml``, loaded, validated and looked up.

A clause is one behaviour of Coder's Tasks API with a stable id (``ROUTE-2``), the contract levels it holds at and
its evidence (``documented``, ``source``, ``test`` or ``inferred``). Tests, spec descriptions, faults and docs cite
clauses by id; :func:`cited` finds those ids in any text. ``docs/contract/`` is rendered from the registry by
``clauses_doc``.

The registry is found where the OpenAPI documents are (``resources.spec_dir()``), so a wheel carries it as package
data next to ``coder-tasks.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from coder_tasks_contract import resources

REGISTRY_NAME = "clauses.yaml"

FAMILIES = (
    "ROUTE",
    "ERR",
    "RATE",
    "AUTH",
    "CSRF",
    "USER",
    "TASKREF",
    "LIST",
    "QUERY",
    "CREATE",
    "NAME",
    "GET",
    "DELETE",
    "INPUT",
    "SEND",
    "LOGS",
    "AGENT",
    "STATUS",
    "STATE",
    "SCHEMA",
    "RBAC",
    "LEVEL",
    "PAUSE",
    "DOCS",
)
EVIDENCE_KINDS = ("documented", "source", "test", "inferred")
LEVEL_NAMES = ("82f", "2.29", "newest")

#: A clause id anywhere in a text: ``ROUTE-2``, ``TASKREF-3``. Word boundaries keep ``XROUTE-2`` and ``ROUTE-2a`` out.
CLAUSE_ID: re.Pattern[str] = re.compile(r"\b(?:" + "|".join(FAMILIES) + r")-\d+\b")

_ID_PATTERN = r"^(?:" + "|".join(FAMILIES) + r")-[1-9]\d*$"

# The registry's shape. Kept here, next to the code that relies on it, so the file cannot drift from it unnoticed.
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["clauses"],
    "additionalProperties": False,
    "properties": {
        "clauses": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "title", "statement", "levels", "evidence"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": _ID_PATTERN},
                    "title": {"type": "string", "minLength": 1},
                    "statement": {"type": "string", "minLength": 1},
                    "levels": {
                        "type": "array",
                        "minItems": 1,
                        "uniqueItems": True,
                        "items": {"enum": list(LEVEL_NAMES)},
                    },
                    "evidence": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["kind", "ref"],
                            "additionalProperties": False,
                            "properties": {
                                "kind": {"enum": list(EVIDENCE_KINDS)},
                                "ref": {"type": "string", "minLength": 1},
                            },
                        },
                    },
                    # A clause that stopped being true keeps its id (ids are never reused) and says why it retired.
                    "retired": {"type": "string", "minLength": 1},
                },
            },
        }
    },
}


class RegistryError(ValueError):
    """The registry file is malformed; the message names the file and every problem found."""


@dataclass(frozen=True)
class Evidence:
    """Why a clause is believed: its kind and where to look (or, for ``inferred``, the reasoning)."""

    kind: str
    ref: str


@dataclass(frozen=True)
class Clause:
    """One behaviour of the contract."""

    id: str
    title: str
    statement: str
    levels: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    retired: str | None = None

    @property
    def inferred_only(self) -> bool:
        """True when every evidence entry is ``inferred``: nothing documented, read in source or tested backs it."""
        return all(entry.kind == "inferred" for entry in self.evidence)

    @property
    def evidence_kinds(self) -> tuple[str, ...]:
        """The kinds of its evidence, each once, in the order of :data:`EVIDENCE_KINDS`."""
        present = {entry.kind for entry in self.evidence}
        return tuple(kind for kind in EVIDENCE_KINDS if kind in present)


def registry_path() -> Path:
    """``spec/clauses.yaml`` of the checkout, or the installed copy next to the OpenAPI documents."""
    return resources.spec_dir() / REGISTRY_NAME


def load(path: Path) -> dict[str, Clause]:
    """Read and validate a registry file; clauses by id, in file order. Raises :class:`RegistryError`."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RegistryError(f"{path}: cannot read the clause registry: {error}") from error
    problems = [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in Draft202012Validator(SCHEMA).iter_errors(data)
    ]
    if problems:
        raise RegistryError(f"{path}: invalid clause registry:\n  " + "\n  ".join(problems))
    clauses: dict[str, Clause] = {}
    for item in data["clauses"]:
        if item["id"] in clauses:
            raise RegistryError(f"{path}: clause id {item['id']} appears twice (ids are unique and never reused)")
        clauses[item["id"]] = Clause(
            id=item["id"],
            title=item["title"].strip(),
            statement=" ".join(item["statement"].split()),
            levels=tuple(item["levels"]),
            evidence=tuple(Evidence(entry["kind"], " ".join(entry["ref"].split())) for entry in item["evidence"]),
            retired=item.get("retired"),
        )
    return clauses


@lru_cache(maxsize=1)
def registry() -> dict[str, Clause]:
    """The project's registry, loaded once per process."""
    return load(registry_path())


def get(clause_id: str) -> Clause:
    """The clause with this id; KeyError naming the id when the registry has none."""
    try:
        return registry()[clause_id]
    except KeyError:
        raise KeyError(f"unknown clause id {clause_id!r} (not in {registry_path()})") from None


def cited(text: str) -> tuple[str, ...]:
    """The clause ids cited in ``text`` (a docstring, a message), in order of first appearance, each once."""
    return tuple(dict.fromkeys(CLAUSE_ID.findall(text)))
