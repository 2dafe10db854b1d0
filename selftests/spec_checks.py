"""The checks of spec/coder-tasks.yaml, each a function that returns the problems it finds (none: an empty list).

Kept apart from the tests so that selftests/test_spec.py can run every check on the real document and on broken
copies of it: a check that cannot fail proves nothing.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import jsonschema
import schemathesis
import yaml
from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from schemathesis.config import SchemathesisConfig

from coder_tasks_contract.generated import compat

REPO = Path(__file__).resolve().parents[1]
SPEC_PATH = REPO / "spec" / "coder-tasks.yaml"
LEDGER_PATH = REPO / "spec" / "swagger-differences.yaml"
# Coder's own machine-generated API description, pinned as test data (selftests/data/coder/README.md says where each
# file comes from, at which commit, and its sha256), so a clone checks the document with nothing beside it.
REFERENCE = REPO / "selftests" / "data" / "coder"
REFERENCE_README = REFERENCE / "README.md"
REFERENCE_DOCS = REFERENCE / "experimental-api-82f525baf3.md"
REFERENCE_SWAGGER = REFERENCE / "swagger-tasks-82f525baf3.json"
REFERENCE_SWAGGER_NEWEST = REFERENCE / "swagger-tasks-a12b05183.json"
# The suite turns link inference off (inferred links reached tasks the run had not created), so only the document's
# explicit links count.
NO_INFERENCE = "[phases.stateful.inference]\nalgorithms = []\n"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ABSENT = "(absent)"


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)


@lru_cache(maxsize=1)
def _pristine() -> dict[str, Any]:
    document: dict[str, Any] = load_yaml(SPEC_PATH)
    return document


def fresh_document() -> dict[str, Any]:
    """A private copy of the document (parsed once per process): the caller may break it freely."""
    return copy.deepcopy(_pristine())


# ── validity and operations ─────────────────────────────────────────────────────────────────────────────────────────


def validity_problems(document: dict[str, Any]) -> list[str]:
    """What openapi-spec-validator's OpenAPI 3.1 validator objects to."""
    return [error.message for error in OpenAPIV31SpecValidator(document).iter_errors()]


def operations(document: dict[str, Any]) -> dict[str, str]:
    """``METHOD /path`` → operationId, for every operation of the document."""
    return {
        f"{method.upper()} {path}": str(item[method].get("operationId", ""))
        for path, item in document["paths"].items()
        for method in METHODS
        if method in item
    }


def operation_ids(document: dict[str, Any]) -> list[str]:
    return sorted(operations(document).values())


def documented_operations(markdown: str) -> set[str]:
    """The ``METHOD /path`` line that opens each operation in Coder's generated API reference."""
    return set(re.findall(r"^`([A-Z]+ /\S*)`$", markdown, flags=re.MULTILINE))


def operation_problems(document: dict[str, Any], markdown: str) -> list[str]:
    documented = documented_operations(markdown)
    ours = set(operations(document))
    if not documented:
        return ["no `METHOD /path` line found in Coder's reference docs: has their format changed?"]
    return [f"missing from the document: {op}" for op in sorted(documented - ours)] + [
        f"not in Coder's reference docs: {op}" for op in sorted(ours - documented)
    ]


# ── examples ────────────────────────────────────────────────────────────────────────────────────────────────────────

_SUBSCHEMA_LISTS = ("oneOf", "anyOf", "allOf", "prefixItems")
_SUBSCHEMA_SINGLE = ("items", "not", "additionalProperties", "if", "then", "else", "contains")


def _pointer(segments: tuple[str, ...]) -> str:
    """A URI fragment JSON pointer (RFC 6901, percent-encoded for braces in path templates)."""
    return "".join("/" + quote(part.replace("~", "~0").replace("/", "~1"), safe="") for part in segments)


def _where(segments: tuple[str, ...]) -> str:
    return "/".join(segments)


def _local(document: dict[str, Any], ref: str) -> tuple[tuple[str, ...], Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are expected in the document, found {ref!r}")
    segments = tuple(part.replace("~1", "/").replace("~0", "~") for part in ref[2:].split("/"))
    node: Any = document
    for part in segments:
        node = node[part]
    return segments, node


def _schema_examples(node: Any, at: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], tuple[str, ...], Any]]:
    """(where, schema location, value) for the ``examples`` of a schema and of every schema nested in it."""
    if not isinstance(node, dict):
        return
    for index, value in enumerate(node.get("examples", [])):
        yield (*at, "examples", str(index)), at, value
    for name, sub in node.get("properties", {}).items():
        yield from _schema_examples(sub, (*at, "properties", name))
    for key in _SUBSCHEMA_LISTS:
        for index, sub in enumerate(node.get(key, [])):
            yield from _schema_examples(sub, (*at, key, str(index)))
    for key in _SUBSCHEMA_SINGLE:
        yield from _schema_examples(node.get(key), (*at, key))


def _object_examples(
    document: dict[str, Any], node: dict[str, Any], at: tuple[str, ...], used: set[str]
) -> Iterator[tuple[tuple[str, ...], tuple[str, ...], Any]]:
    """Examples of an object with a ``schema``: a parameter, a header or a media type."""
    schema_at = (*at, "schema")
    if "example" in node:
        yield (*at, "example"), schema_at, node["example"]
    for name, example in node.get("examples", {}).items():
        where = (*at, "examples", name)
        if "$ref" in example:
            segments, example = _local(document, example["$ref"])
            used.add(segments[-1])
            where = segments
        yield (*where, "value"), schema_at, example["value"]
    yield from _schema_examples(node.get("schema"), schema_at)


def _response_examples(
    document: dict[str, Any], response: dict[str, Any], at: tuple[str, ...], used: set[str]
) -> Iterator[tuple[tuple[str, ...], tuple[str, ...], Any]]:
    for media_type, content in response.get("content", {}).items():
        yield from _object_examples(document, content, (*at, "content", media_type), used)
    for name, header in response.get("headers", {}).items():
        if "$ref" not in header:
            yield from _object_examples(document, header, (*at, "headers", name), used)


def iter_examples(document: dict[str, Any], used: set[str] | None = None) -> Iterator[tuple[str, str, Any]]:
    """(where the example is, JSON pointer of the schema it must satisfy, the example) for every example.

    Covers schema ``examples`` (components and inline), parameters, headers, request bodies and responses; component
    examples are reached through the ``$ref`` that uses them, and their names are added to ``used``.
    """
    used = set() if used is None else used
    components = document.get("components", {})
    sites: list[tuple[tuple[str, ...], tuple[str, ...], Any]] = []
    for name, schema in components.get("schemas", {}).items():
        sites.extend(_schema_examples(schema, ("components", "schemas", name)))
    for kind in ("parameters", "headers"):
        for name, node in components.get(kind, {}).items():
            sites.extend(_object_examples(document, node, ("components", kind, name), used))
    for name, response in components.get("responses", {}).items():
        sites.extend(_response_examples(document, response, ("components", "responses", name), used))
    for path, item in document.get("paths", {}).items():
        for index, parameter in enumerate(item.get("parameters", [])):
            if "$ref" not in parameter:
                sites.extend(_object_examples(document, parameter, ("paths", path, "parameters", str(index)), used))
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            at = ("paths", path, method)
            for index, parameter in enumerate(operation.get("parameters", [])):
                if "$ref" not in parameter:
                    sites.extend(_object_examples(document, parameter, (*at, "parameters", str(index)), used))
            body = operation.get("requestBody", {})
            for media_type, content in body.get("content", {}).items():
                sites.extend(_object_examples(document, content, (*at, "requestBody", "content", media_type), used))
            for status, response in operation.get("responses", {}).items():
                if "$ref" not in response:
                    sites.extend(_response_examples(document, response, (*at, "responses", str(status)), used))
    for where, schema_at, value in sites:
        yield _where(where), _pointer(schema_at), value


def example_problems(document: dict[str, Any]) -> list[str]:
    """Examples that do not validate against their schema (2020-12, formats asserted), and unused component examples."""
    registry: Registry[Any] = Registry().with_resource(
        "urn:coder-tasks", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    problems = []
    used: set[str] = set()
    for where, pointer, value in iter_examples(document, used):
        validator = jsonschema.Draft202012Validator(
            {"$ref": f"urn:coder-tasks#{pointer}"},
            registry=registry,
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        )
        problems.extend(f"{where}: {error.message}" for error in validator.iter_errors(value))
    unused = set(document.get("components", {}).get("examples", {})) - used
    problems.extend(f"components/examples/{name}: not used by any $ref, so never checked" for name in sorted(unused))
    return problems


# ── schemathesis ────────────────────────────────────────────────────────────────────────────────────────────────────


def load_in_schemathesis(document: dict[str, Any], extra_config: str = "") -> Any:
    """The document as schemathesis 4.32 loads it, with link inference off as in the suite."""
    return schemathesis.openapi.from_dict(document, config=SchemathesisConfig.from_str(NO_INFERENCE + extra_config))


def schemathesis_operation(schema: Any, operation_id: str) -> Any:
    """The loaded schemathesis operation with this operationId."""
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.definition.raw.get("operationId") == operation_id:
            return operation
    raise LookupError(f"no operation {operation_id!r} in the document")


def link_graph(document: dict[str, Any]) -> set[tuple[str, str]]:
    """(source operationId, target operationId) of every transition in schemathesis' state machine."""
    by_label = operations(document)
    machine = load_in_schemathesis(document).as_state_machine()
    return {
        (by_label[source], by_label[link.target.label])
        for source, transitions in compat.link_transitions(machine).operations.items()
        for link in transitions.outgoing
    }


# ── Coder's swagger ─────────────────────────────────────────────────────────────────────────────────────────────────


def _name(ref: str) -> str:
    """``#/definitions/codersdk.Task`` and ``#/components/schemas/Task`` → ``Task``; other packages keep theirs."""
    name = ref.rsplit("/", 1)[-1]
    return name.removeprefix("codersdk.")


def _swagger_type(node: dict[str, Any]) -> str:
    if "$ref" in node:
        return _name(node["$ref"])
    # swag writes an enum field as allOf [$ref] plus the enum again beside it; the $ref is what it is.
    if len(node.get("allOf", [])) == 1 and "$ref" in node["allOf"][0]:
        return _name(node["allOf"][0]["$ref"])
    if node.get("type") == "array":
        return "array of " + _swagger_type(node["items"])
    return str(node.get("type", "any"))


def _spec_type(node: dict[str, Any]) -> str:
    if "$ref" in node:
        return _name(node["$ref"])
    for key in ("oneOf", "anyOf"):
        if key in node:
            return " | ".join(_spec_type(sub) for sub in node[key])
    types = node.get("type", "any")
    names = types if isinstance(types, list) else [types]
    return " | ".join("array of " + _spec_type(node["items"]) if name == "array" else str(name) for name in names)


def _definition_facts(name: str, node: dict[str, Any], type_of: Any) -> dict[str, str]:
    facts = {f"schema {name}": str(node.get("type", "any"))}
    if "enum" in node:
        facts[f"enum {name}"] = ", ".join(sorted(node["enum"]))
    if node.get("type") == "object":
        facts[f"required {name}"] = ", ".join(sorted(node.get("required", []))) or "(none)"
        for prop, sub in node.get("properties", {}).items():
            facts[f"property {name}.{prop}"] = type_of(sub)
            if "format" in sub:
                facts[f"format {name}.{prop}"] = str(sub["format"])
    return facts


def swagger_facts(swagger: dict[str, Any]) -> dict[str, str]:
    """What Coder's swagger says: paths, methods, success codes and bodies, definitions and their fields."""
    facts = {"base path": str(swagger.get("basePath", "/"))}
    for path, item in swagger["paths"].items():
        for method, operation in item.items():
            label = f"{method.upper()} {path}"
            facts[f"operation {label}"] = "present"
            successes = sorted(code for code in operation["responses"] if code.startswith("2"))
            facts[f"success statuses {label}"] = ", ".join(successes)
            schema = operation["responses"][successes[0]].get("schema")
            facts[f"success body {label}"] = _swagger_type(schema) if schema else "(none)"
            bodies = [p["schema"] for p in operation.get("parameters", []) if p.get("in") == "body"]
            facts[f"request body {label}"] = _swagger_type(bodies[0]) if bodies else "(none)"
    for name, node in swagger["definitions"].items():
        facts.update(_definition_facts(_name(name), node, _swagger_type))
    return facts


def spec_facts(document: dict[str, Any]) -> dict[str, str]:
    """The same facts, read from the document."""
    facts = {"base path": urlparse(document["servers"][0]["url"]).path or "/"}
    for label in operations(document):
        method, path = label.split(" ", 1)
        operation = document["paths"][path][method.lower()]
        facts[f"operation {label}"] = "present"
        successes = sorted(str(code) for code in operation["responses"] if str(code).startswith("2"))
        facts[f"success statuses {label}"] = ", ".join(successes)
        response = operation["responses"][successes[0]]
        if "$ref" in response:
            response = _local(document, response["$ref"])[1]
        json_body = response.get("content", {}).get("application/json")
        facts[f"success body {label}"] = _spec_type(json_body["schema"]) if json_body else "(none)"
        request = operation.get("requestBody", {}).get("content", {}).get("application/json")
        facts[f"request body {label}"] = _spec_type(request["schema"]) if request else "(none)"
    for name, node in document["components"]["schemas"].items():
        facts.update(_definition_facts(name, node, _spec_type))
    return facts


def swagger_differences(document: dict[str, Any], swagger: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """fact → (swagger's value, the document's value), for every fact on which they differ."""
    theirs, ours = swagger_facts(swagger), spec_facts(document)
    differences = {
        fact: (theirs.get(fact, ABSENT), ours.get(fact, ABSENT))
        for fact in sorted(theirs.keys() | ours.keys())
        if theirs.get(fact, ABSENT) != ours.get(fact, ABSENT)
    }
    # A definition only one side has is one difference, not one per field of it.
    one_sided = {
        fact.split(" ", 1)[1] for fact, values in differences.items() if fact.startswith("schema ") and ABSENT in values
    }
    return {fact: values for fact, values in differences.items() if not _belongs_to(fact, one_sided)}


def _belongs_to(fact: str, definitions: set[str]) -> bool:
    kind, _, subject = fact.partition(" ")
    owner = subject.rsplit(".", 1)[0] if kind in ("property", "format") else subject
    return kind != "schema" and owner in definitions


def ledger_problems(differences: dict[str, tuple[str, str]], ledger: dict[str, Any]) -> list[str]:
    """Differences the ledger does not declare, and ledger entries that no longer describe a difference."""
    problems = []
    declared: dict[tuple[str, str, str], str] = {}
    for entry in ledger.get("differences", []):
        key = (str(entry.get("fact")), str(entry.get("swagger")), str(entry.get("spec")))
        if key in declared:
            problems.append(f"ledger entry listed twice: {key[0]}")
        declared[key] = str(entry.get("reason") or "").strip()
        if not declared[key]:
            problems.append(f"ledger entry without a reason: {key[0]}")
    for fact, (theirs, ours) in differences.items():
        if (fact, theirs, ours) not in declared:
            problems.append(
                f"undeclared difference from Coder's swagger: {fact}: swagger {theirs!r}, spec {ours!r} "
                f"(fix the document, or add it to {LEDGER_PATH.name} with the reason)"
            )
    for fact, theirs, ours in declared:
        if differences.get(fact) != (theirs, ours):
            problems.append(
                f"stale ledger entry: {fact}: swagger {theirs!r}, spec {ours!r} is no longer a difference "
                f"(now: {differences.get(fact, 'the same on both sides')})"
            )
    return problems
